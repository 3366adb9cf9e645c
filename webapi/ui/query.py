"""The search page's state is its URL: parse the query string into ``SearchParams`` and build the
links (facet toggles, modifier weights, pages, exports) that change one part of it."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, get_origin
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from indexer.search_surface import FACETS, FILTER_FACETS
from webapi.search.params import Modifier, SearchParams

# Facets the sidebar shows (every filter facet), in order, with the labels readers see.
SIDEBAR_FACETS: dict[str, str] = {facet.name: facet.label for facet in FILTER_FACETS}
# decade feeds the year histogram; it is requested with every search.
REQUESTED_FACETS: tuple[str, ...] = tuple(f.name for f in FACETS if f.filters or f.kind == "decade")
SIDEBAR_FACET_SIZE = 300

# Repeatable query-string keys (modifiers, facet filters, requested facets) and flags.
_LIST_FIELDS = {
    name for name, info in SearchParams.model_fields.items() if get_origin(info.annotation) is list
}
_BOOL_FIELDS = {
    name
    for name, info in SearchParams.model_fields.items()
    if info.annotation in (bool, bool | None)
}
# Query-string keys that are part of the search (everything else, e.g. UI-only flags, is dropped).
SEARCH_KEYS = set(SearchParams.model_fields)
MODIFIER_STEP = 0.25


def clean_args(args: Mapping[str, str] | MultiDict[str, str]) -> MultiDict[str, str]:
    """The query string without empty values or keys the search does not know (so a blank text
    box or an unused advanced field never changes the query or its permalink)."""
    pairs: Iterable[tuple[str, str]]
    pairs = args.items(multi=True) if isinstance(args, MultiDict) else args.items()
    cleaned: MultiDict[str, str] = MultiDict()
    for key, value in pairs:
        value = value.strip()
        if key in SEARCH_KEYS and value != "":
            cleaned.add(key, value)
    return cleaned


def params_from_args(args: MultiDict[str, str], *, facets: bool = True) -> SearchParams:
    """Validate the cleaned query string as the API would (raises pydantic ValidationError)."""
    data: dict[str, object] = {}
    for key in set(args.keys()):
        values = args.getlist(key)
        if key in _LIST_FIELDS:
            data[key] = values
        elif key in _BOOL_FIELDS:
            data[key] = values[-1].lower() in {"1", "true", "on", "yes"}
        else:
            data[key] = values[-1]
    if facets:
        data["facet"] = list(REQUESTED_FACETS)
        # places and subjects run to thousands: fetch many so the sidebar's filter box can find them
        data.setdefault("facet_size", SIDEBAR_FACET_SIZE)
    data["explain"] = True
    return SearchParams.model_validate(data)


def url_with(args: MultiDict[str, str], path: str = "/", **changes: Any) -> str:
    """``path`` + the query string with some keys replaced (None or [] removes a key).

    Every change but ``page`` itself sends the reader back to page 1.
    """
    return url_with_changes(args, changes, path)


def url_with_changes(args: MultiDict[str, str], changes: Mapping[str, Any], path: str = "/") -> str:
    """``url_with`` for keys computed at run time."""
    updated = MultiDict(args)
    if "page" not in changes:
        updated.pop("page", None)
    for key, value in changes.items():
        updated.poplist(key)
        if value is None:
            continue
        if isinstance(value, list | tuple):
            for item in value:
                updated.add(key, str(item))
        else:
            updated.add(key, str(value))
    query = urlencode(list(updated.items(multi=True)))
    return f"{path}?{query}" if query else path


def toggle_value(args: MultiDict[str, str], key: str, value: str) -> str:
    """Link that adds ``value`` to a multi-valued filter, or removes it when already set."""
    values = args.getlist(key)
    new_values = [v for v in values if v != value] if value in values else [*values, value]
    return url_with_changes(args, {key: new_values})


def format_weight(weight: float) -> str:
    """A modifier weight as the URL and the chip show it: '+0.5', '-0.25'."""
    return f"{weight:+.2f}".rstrip("0").rstrip(".")


def modifier_links(args: MultiDict[str, str], default_weight: float) -> list[dict[str, str]]:
    """One chip per modifier, with links that raise, lower or remove its weight (a modifier
    without one shows, and steps from, the model's ``default_weight``)."""
    specs = args.getlist("modify")
    chips = []
    for index, spec in enumerate(specs):
        modifier = Modifier.parse(spec)
        weight = modifier.weight if modifier.weight is not None else default_weight

        def replaced(
            new_weight: float | None, index: int = index, text: str = modifier.text
        ) -> str:
            new_specs = list(specs)
            if new_weight is None:
                del new_specs[index]
            else:
                new_weight = max(-2.0, min(2.0, new_weight))
                new_specs[index] = f"{text}:{format_weight(new_weight)}"
            return url_with(args, modify=new_specs)

        chips.append(
            {
                "text": modifier.text,
                "weight": format_weight(weight),
                "spec": spec,
                "more": replaced(weight + MODIFIER_STEP),
                "less": replaced(weight - MODIFIER_STEP),
                "remove": replaced(None),
            }
        )
    return chips


def page_links(
    args: MultiDict[str, str], page: int, size: int, total: int
) -> list[dict[str, object]]:
    """Pagination: previous, a window of page numbers around the current one, next."""
    last = max(1, math.ceil(total / size))
    numbers = sorted({1, last, *range(max(1, page - 2), min(last, page + 2) + 1)})
    links: list[dict[str, object]] = []
    if page > 1:
        links.append({"label": "Previous", "url": url_with(args, page=page - 1), "rel": "prev"})
    previous = 0
    for number in numbers:
        if number - previous > 1:
            links.append({"label": "…", "url": None})
        links.append(
            {"label": str(number), "url": url_with(args, page=number), "current": number == page}
        )
        previous = number
    if page < last:
        links.append({"label": "Next", "url": url_with(args, page=page + 1), "rel": "next"})
    return links
