"""The words and page numbers of a response's count (``webapi.search.totals``)."""

from __future__ import annotations

import pytest

from webapi.search.totals import Totals, last_page, total_text, window_notice


@pytest.mark.parametrize(
    ("totals", "text"),
    [
        (Totals(1000, "best_matches", 1000, True), "best 1,000 matches"),
        (Totals(3120, "exact", 1000, True), "3,120 matches · best 1,000 shown"),
        (Totals(42, "exact", 42, False), "42 maps"),
        (Totals(1, "exact", 1, False), "1 map"),
        (Totals(0, "exact", 0, False), "0 maps"),
    ],
)
def test_total_text_says_what_the_number_is(totals: Totals, text: str) -> None:
    assert total_text(totals) == text


def test_last_page_is_at_least_one() -> None:
    assert [last_page(n, 20) for n in (0, 1, 20, 21, 1000)] == [1, 1, 1, 2, 50]


def test_window_notice_only_on_the_last_page_of_a_cut_ranking() -> None:
    cut = Totals(3120, "exact", 1000, True)
    assert window_notice(cut, 49, 20) is None
    notice = window_notice(cut, 50, 20)
    assert notice is not None and "best 1,000 of 3,120 matches" in notice
    assert window_notice(Totals(30, "exact", 30, False), 2, 20) is None
