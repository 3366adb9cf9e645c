"""Years typed into the words of a query ("san francisco 1850", "1850s", "1840–1860"): taken out
of the keyword tokens (a map's text rarely holds its year) and offered as a year filter."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Plausible map years only, so "10000 islands" or a call number "G3701" stay words.
_YEAR = r"1[0-9]{3}|20[0-9]{2}"
_RANGE = re.compile(rf"(?<![\w.])({_YEAR})\s*(?:-|–|—|to)\s*({_YEAR})(?![\w.])", re.IGNORECASE)
_DECADE = re.compile(rf"(?<![\w.])({_YEAR})'?s(?![\w.])", re.IGNORECASE)
_SINGLE = re.compile(rf"(?<![\w.])({_YEAR})(?![\w.])")


def _decade_end(year: int) -> int:
    """ "1850s" ends in 1859; "1800s" is read as the century, as readers mean it (1800–1899)."""
    return year + 99 if year % 100 == 0 else year // 10 * 10 + 9


@dataclass(frozen=True)
class QueryYears:
    """The years found in a query: the range they cover and how the user wrote them."""

    year_from: int
    year_to: int
    text: str  # as typed: "1850", "1850s", "1840–1860"


def split_years(text: str) -> tuple[str, QueryYears | None]:
    """(the words without the year expressions, the years they named), for the first range,
    decade or year in ``text``; several years span from the earliest to the latest."""
    found: list[tuple[int, int, str]] = []

    def take(match: re.Match[str], first: int, last: int) -> str:
        found.append((min(first, last), max(first, last), match.group(0).strip()))
        return " "

    rest = _RANGE.sub(lambda m: take(m, int(m.group(1)), int(m.group(2))), text)
    rest = _DECADE.sub(lambda m: take(m, int(m.group(1)), _decade_end(int(m.group(1)))), rest)
    rest = _SINGLE.sub(lambda m: take(m, int(m.group(1)), int(m.group(1))), rest)
    if not found:
        return text, None
    typed = ", ".join(written for _, _, written in found)
    years = QueryYears(min(f for f, _, _ in found), max(t for _, t, _ in found), typed)
    return " ".join(rest.split()), years
