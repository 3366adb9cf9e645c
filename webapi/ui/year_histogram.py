"""The year histogram of the search page: decade bars of the result set plus the range the two
decade sliders start at (the year filter, or the whole span)."""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from indexer.search_surface import DECADE
from webapi.ui.query import url_with

# A very wide span (e.g. a stray year 100) would make bars unreadably thin: keep 60 decades.
MAX_DECADES = 60


@dataclass(frozen=True)
class DecadeBar:
    """One decade: its maps in the result set, bar height (percent of the tallest, 5 % steps)."""

    decade: int
    count: int
    height: int
    in_range: bool
    url: str


@dataclass(frozen=True)
class YearHistogram:
    """Bars oldest first (empty decades filled in) and the chosen range as decades."""

    bars: list[DecadeBar] = field(default_factory=list)
    first: int = 0
    last: int = 0
    range_from: int = 0
    range_to: int = 0

    @property
    def counts(self) -> dict[int, int]:
        """Maps per decade (what the sliders announce)."""
        return {bar.decade: bar.count for bar in self.bars}


def _year_arg(args: MultiDict[str, str], key: str) -> int | None:
    try:
        return int(args[key]) if key in args else None
    except ValueError:
        return None


def year_histogram(buckets: list[tuple[str, int]], args: MultiDict[str, str]) -> YearHistogram:
    """The histogram of the ``decade`` facet's buckets for the search in ``args``."""
    counts: dict[int, int] = {}
    for value, count in buckets:
        try:
            counts[int(value)] = count
        except ValueError:
            continue
    if not counts:
        return YearHistogram()
    year_from, year_to = _year_arg(args, "year_from"), _year_arg(args, "year_to")
    first, last = min(counts), max(counts)
    # The chosen range stays on the axis even where it has no maps (so it can be seen and moved).
    if year_from is not None:
        first = min(first, year_from - year_from % DECADE)
    if year_to is not None:
        last = max(last, year_to - year_to % DECADE)
    first = max(first, last - MAX_DECADES * DECADE)
    first -= first % DECADE
    range_from = max(first, year_from - year_from % DECADE) if year_from is not None else first
    range_to = min(last, year_to - year_to % DECADE) if year_to is not None else last
    peak = max(counts.values())
    bars = [
        DecadeBar(
            decade=decade,
            count=counts.get(decade, 0),
            height=5 * round(20 * counts.get(decade, 0) / peak) if peak else 0,
            in_range=range_from <= decade <= range_to,
            url=url_with(args, year_from=decade, year_to=decade + DECADE - 1),
        )
        for decade in range(first, last + 1, DECADE)
    ]
    return YearHistogram(bars, first, last, range_from, range_to)
