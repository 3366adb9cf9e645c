"""Scoring map reading against the synthetic world's labels: which words a label holds, and which
labels count as covered."""

from __future__ import annotations

from indexer.evaluation.map_text import overlapped, true_words


def test_a_letter_spaced_name_is_one_true_word() -> None:
    labels = [
        {"text": "K E L M O R", "box": [0, 0, 100, 10], "angle": 0.0},
        {"text": "Plan of Rosford", "box": [0, 20, 100, 10], "angle": 0.0},
        {"text": "12", "box": [0, 40, 10, 10], "angle": 0.0},
    ]
    assert [word for word, _ in true_words(labels)] == ["kelmor", "plan", "of", "rosford", "12"]


def test_a_cartouche_does_not_cover_its_own_lines_but_other_ornaments_cover_labels() -> None:
    cartouche = {"kind": "cartouche", "box": [100, 100, 200, 100]}
    ship = {"kind": "ship", "box": [500, 100, 50, 50]}
    inside = {"text": "Carte", "box": [120, 120, 60, 10], "angle": 0.0}
    across = {"text": "Elmouth", "box": [280, 150, 60, 10], "angle": 0.0}
    under_ship = {"text": "Rosford", "box": [490, 110, 40, 10], "angle": 0.0}
    clear = {"text": "Quinnor", "box": [700, 700, 40, 10], "angle": 0.0}
    labels = [inside, across, under_ship, clear]
    others = [*labels, cartouche, ship]
    assert [overlapped(label, others) for label in labels] == [False, True, True, False]
