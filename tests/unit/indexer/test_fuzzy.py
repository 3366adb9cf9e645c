"""One-edit matching of map words: what counts as one edit, and that short words stay exact."""

from __future__ import annotations

import pytest

from indexer.fuzzy import fuzzy_match, one_edit_variants, within_one_edit


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("chesapeake", "chesapeake", True),
        ("chesapeak", "chesapeake", True),  # insertion
        ("chesapeake", "chesapeke", True),  # deletion
        ("chesapeake", "chesapeoke", True),  # substitution
        ("chesapeake", "chesapaeke", True),  # neighbours swapped
        ("chesapeake", "chxsapeakx", False),  # two edits
        ("chesapeake", "chesapeakeba", False),
        ("elmouth", "elmoth", True),
        ("elmouth", "emlotuh", False),
    ],
)
def test_within_one_edit(a: str, b: str, expected: bool) -> None:
    assert within_one_edit(a, b) is expected
    assert within_one_edit(b, a) is expected


def test_only_words_of_five_letters_or_more_match_fuzzily() -> None:
    assert fuzzy_match("chesapeak", "chesapeake")
    assert fuzzy_match("york", "york") and not fuzzy_match("york", "yorks")
    assert not fuzzy_match("bath", "bash")


def test_the_variants_hold_every_word_one_edit_away() -> None:
    variants = one_edit_variants("chesapeak", "abcdefghijklmnopqrstuvwxyz")
    assert {"chesapeake", "chesapeak", "chesapek", "cehsapeak", "chesapeok"} <= variants
    assert all(within_one_edit(v, "chesapeak") for v in variants)
