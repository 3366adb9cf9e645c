"""Keyword analysis in Python (``indexer.analysis``): the same terms for every backend."""

from __future__ import annotations

import re
import unicodedata

import pytest

from indexer.analysis import analyze, fold, keyword_terms, query_words, stem


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("monsters", "monster"),
        ("cities", "city"),
        ("charts", "chart"),
        ("harbours", "harbour"),
        ("churches", "church"),
        ("boxes", "box"),
        ("glasses", "glass"),
        ("atlases", "atlas"),
        ("atlas", "atlas"),
        ("analysis", "analysis"),
        ("census", "census"),
        ("places", "place"),
        ("houses", "house"),
        ("toes", "toe"),
        ("gas", "gas"),  # three letters or fewer are left alone
        ("1850s", "1850s"),  # not all letters
        ("surveying", "surveying"),  # plurals only
    ],
)
def test_stem_takes_plurals_to_singular(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


def test_fold_removes_case_and_accents() -> None:
    assert [fold(w) for w in ("Académie", "STRAẞE", "Øresund", "Łódź", "Æthelred")] == [
        "academie",
        "strasse",
        "oresund",
        "lodz",
        "aethelred",
    ]


def test_analyze_keeps_repeats_and_splits_on_punctuation() -> None:
    assert analyze("Sea-monsters; SEA_monsters!") == ["sea", "monster", "sea", "monster"]
    assert analyze("") == [] and analyze(None) == []


def test_query_words_drop_stopwords_unless_nothing_else_is_left() -> None:
    assert query_words("maps with sea monsters") == ["sea", "monsters"]
    assert query_words("the map") == ["the", "map"]
    assert keyword_terms('"Sea" AND Monsters* monster') == ["sea", "monster"]


LIGATURES = str.maketrans(
    {"æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)


def general_terms(text: str) -> list[str]:
    """The analysis spelled out without shortcuts or caches: NFKC, word tokens, casefold,
    ligatures, NFKD without combining marks, plural stemming."""
    terms = []
    for word in re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", text)):
        decomposed = unicodedata.normalize("NFKD", word.casefold().translate(LIGATURES))
        folded = "".join(c for c in decomposed if not unicodedata.combining(c))
        if folded:
            terms.append(stem(folded))
    return terms


@pytest.mark.parametrize(
    "text",
    [
        "Chart of the COAST of Maine, 1850-1860: soundings_in_fathoms",
        "Carte des Îles Æoliennes (Straße), Académie royale",
        "İstanbul ıı ǅemal ﬁve ①",
        "",
    ],
)
def test_shortcuts_and_caches_give_the_general_terms(text: str) -> None:
    """ASCII text skips NFKC and per-word folding, and stems are cached (bulk loads): the terms
    must be the ones the general path gives, the first time and the second."""
    assert analyze(text) == general_terms(text)
    assert analyze(text) == general_terms(text)
