"""Five maps with words read from their images (and one with none), beside the ten-map corpus:
on the map only, in the catalogue only, in both, a short word, a word read many times."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from indexer.records import IndexDocument, MapRecord, MapWord


def map_word(text: str, x: int, score: float = 0.95) -> MapWord:
    """A word read at (x, 40), 10 px per letter wide, 24 px high."""
    return MapWord(text=text, box=(x, 40, 10 * len(text), 24), score=score)


def map_with_words(
    doc_id: str, title: str, words: list[MapWord], subjects: Sequence[str] = ()
) -> IndexDocument:
    """A map of the fake 4-d space whose image read ``words``."""
    vector = np.array([0.2, 0.2, 0.9, 0.3], np.float32)
    return IndexDocument(
        record=MapRecord(
            id=doc_id,
            source="t",
            title=title,
            subjects=list(subjects),
            map_text=words,
            map_text_engine="test",
        ),
        vector=vector / np.linalg.norm(vector),
        model_id="fake-4d",
    )


def maps_with_words() -> list[IndexDocument]:
    """The five maps; the conformance suite's expected answers are worked out from them."""
    return [
        # on the map only
        map_with_words(
            "t:1",
            "Chart of a bay",
            [map_word("Chesapeake", 100), map_word("Elmouth", 400), map_word("Sea", 900)],
        ),
        # in the catalogue only (its title)
        map_with_words("t:2", "Chesapeake Bay survey", []),
        # in both: a subject names it, and so does the map
        map_with_words(
            "t:3", "Harbour plan", [map_word("CHESAPEAKE", 700)], subjects=["Chesapeake"]
        ),
        # a short word, read as "Bath"
        map_with_words("t:4", "Coast sheet", [map_word("Bath", 50)]),
        # the same word read many times
        map_with_words(
            "t:5",
            "Town plan",
            [map_word("Elmouth", 30 * n, score=0.7 + n / 100) for n in range(8)],
        ),
    ]
