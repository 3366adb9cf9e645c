"""What a response's numbers mean: the kind of total, how far paging reaches, the last page, and
the note on the last page of a cut ranking (docs/search.md "Honest result sets" and "Paging")."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

TotalKind = Literal["exact", "best_matches"]


@dataclass(frozen=True)
class Totals:
    """A response's count: ``total`` of ``kind``, ``reachable`` of them by paging, and whether
    the ranking was cut (more maps match, or rank, than paging reaches)."""

    total: int
    kind: TotalKind
    reachable: int
    cut: bool


def last_page(reachable: int, size: int) -> int:
    """The last page that holds hits (1 when there are none)."""
    return max(1, math.ceil(reachable / size))


def total_text(totals: Totals) -> str:
    """The count in words: "best 1,000 matches", "3,120 matches · best 1,000 shown", "42 maps"."""
    if totals.kind == "best_matches":
        return f"best {totals.reachable:,} matches"
    if totals.total > totals.reachable:
        return f"{totals.total:,} matches · best {totals.reachable:,} shown"
    return f"{totals.total:,} {'map' if totals.total == 1 else 'maps'}"


def window_notice(totals: Totals, page: int, size: int) -> str | None:
    """On the last page of a cut ranking, how to see the rest: narrow the search."""
    if not totals.cut or page < last_page(totals.reachable, size):
        return None
    if totals.kind == "best_matches":
        shown = f"Only the best {totals.reachable:,} matches are ranked."
    else:
        shown = f"Only the best {totals.reachable:,} of {totals.total:,} matches are shown."
    return (
        f"This is the last page. {shown} Narrow the search to see others: add words, "
        "a year range, a place, a map area or another filter."
    )
