"""The "you searched for" summary above the results: one removable chip per part of the search
that narrows it (words, example map, years, area, images only, facet values)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from webapi.ui.query import SIDEBAR_FACETS, toggle_value, url_with


@dataclass(frozen=True)
class ActiveFilter:
    """One chip: what it says (``label``: ``value``) and the link that drops it."""

    label: str
    value: str
    remove_url: str


def _years_text(year_from: str | None, year_to: str | None) -> str:
    if year_from and year_to:
        return year_from if year_from == year_to else f"{year_from}–{year_to}"
    return f"from {year_from}" if year_from else f"until {year_to}"


def active_filters(
    args: MultiDict[str, str],
    example: dict[str, Any] | None,
    facet_value_label: Callable[[str, str], str] | None = None,
) -> list[ActiveFilter]:
    """Chips for what the search in ``args`` asks for, in the order the page shows it.

    ``facet_value_label(facet, value)`` names a facet value for readers (None: the value)."""
    chips: list[ActiveFilter] = []
    if args.get("q"):
        chips.append(ActiveFilter("Words", f"“{args['q']}”", url_with(args, q=None)))
    if example is not None:
        chips.append(ActiveFilter("Example map", str(example["label"]), example["remove_url"]))
    if args.get("year_from") or args.get("year_to"):
        chips.append(
            ActiveFilter(
                "Years",
                _years_text(args.get("year_from"), args.get("year_to")),
                url_with(args, year_from=None, year_to=None),
            )
        )
    if args.get("bbox"):
        chips.append(ActiveFilter("Area", args["bbox"], url_with(args, bbox=None)))
    if args.get("has_image", "").lower() in {"1", "true", "on", "yes"}:
        chips.append(
            ActiveFilter("Images", "only maps with an image", url_with(args, has_image=None))
        )
    for name, label in SIDEBAR_FACETS.items():
        for value in args.getlist(name):
            shown = facet_value_label(name, value) if facet_value_label else value
            chips.append(ActiveFilter(label, shown, toggle_value(args, name, value)))
    return chips
