"""Reading years out of the words of a query (``webapi.search.query_years``)."""

from __future__ import annotations

import pytest

from webapi.search.query_years import QueryYears, split_years


@pytest.mark.parametrize(
    ("text", "words", "years"),
    [
        ("san francisco 1850", "san francisco", QueryYears(1850, 1850, "1850")),
        ("boston 1840–1860 harbor", "boston harbor", QueryYears(1840, 1860, "1840–1860")),
        ("boston 1840 to 1860", "boston", QueryYears(1840, 1860, "1840 to 1860")),
        ("whaling 1850s", "whaling", QueryYears(1850, 1859, "1850s")),
        ("whaling 1850's", "whaling", QueryYears(1850, 1859, "1850's")),
        ("ohio 1700s", "ohio", QueryYears(1700, 1799, "1700s")),
        ("1776 and 1783 treaty", "and treaty", QueryYears(1776, 1783, "1776, 1783")),
    ],
)
def test_years_leave_the_words(text: str, words: str, years: QueryYears) -> None:
    assert split_years(text) == (words, years)


@pytest.mark.parametrize(
    "text", ["10000 islands", "route 66", "G3701.S5 1850a", "sheet 0850", "3000 feet", "v2.1850"]
)
def test_other_numbers_stay_words(text: str) -> None:
    assert split_years(text) == (text, None)
