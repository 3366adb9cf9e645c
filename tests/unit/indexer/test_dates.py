"""parse_years on the messy dates real catalogues hold; it must never raise."""

from __future__ import annotations

import random
import string

import pytest

from indexer.dates import parse_years

CASES = [
    ("1885", (1885, 1885)),
    ("[ca. 1780]", (1780, 1780)),
    ("ca. 1606?]", (1606, 1606)),
    ("1895-08", (1895, 1895)),
    ("1805-08", (1805, 1805)),
    ("2008-01-17T00:00:00Z", (2008, 2008)),
    ("1850-1860", (1850, 1860)),
    ("1850-60", (1850, 1860)),
    ("1934-8", (1934, 1938)),
    ("[ca. 1889-91]", (1889, 1891)),
    ("18--", (1800, 1899)),
    ("[19--?]-", (1900, 1999)),
    ("19uu", (1900, 1999)),
    ("179-?", (1790, 1799)),
    ("[191-]?", (1910, 1919)),
    ("1850s", (1850, 1859)),
    ("[1800s?]", (1800, 1899)),
    ("19th century", (1800, 1899)),
    ("between 1700 and 1720", (1700, 1720)),
    ("[Between 1875 and 1888?]", (1875, 1888)),
    ("[zwischen 1914 und 1918]", (1914, 1918)),
    ("c1890", (1890, 1890)),
    ("\u00a91966", (1966, 1966)),
    ("1776 or 1777", (1776, 1777)),
    ("1978, \u00a91965", (1965, 1978)),
    ("1963-[1978]", (1963, 1978)),
    ("1936-", (1936, 1936)),
    ("1862-1868 [i.e. 1877-1881]", (1877, 1881)),
    ("1866 [i.e. 1887]", (1887, 1887)),
    ("[June 24, 1805]", (1805, 1805)),
    ("[1997 TO 1997]", (1997, 1997)),
    ("n.d.", (None, None)),
    ("[date of publication not identified]", (None, None)),
    ("To 70 A.D", (None, None)),
    ("12345", (None, None)),
    ("", (None, None)),
    ("garbage", (None, None)),
    (None, (None, None)),
    (1850, (1850, 1850)),
    (3.5, (None, None)),
    (True, (None, None)),
    (["1850"], (None, None)),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_parse_years_table(text: object, expected: tuple[int | None, int | None]) -> None:
    assert parse_years(text) == expected


def test_random_inputs_never_raise_and_stay_ordered() -> None:
    alphabet = string.digits * 3 + "-[]?()/., cauiebtwnd\u00a9" + string.ascii_letters
    rng = random.Random(1234)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        start, end = parse_years(text)
        assert (start is None) == (end is None), text
        if start is not None and end is not None:
            assert 1000 <= start <= end <= 2100, text


def test_huge_input_is_cheap() -> None:
    assert parse_years("1" * 1_000_000) == (None, None)
    assert parse_years("1850 " + "x" * 1_000_000) == (1850, 1850)
