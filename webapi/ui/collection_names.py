"""Readers see collection names, not ids: ``data_dir/collection_names.json`` (``{"id": "name"}``,
written by the library) names the values of the Collection facet; the index keeps the ids."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from flask import has_app_context

from indexer.search_surface import FACETS_BY_NAME
from webapi.services import services_of

COLLECTION_NAMES_FILE = "collection_names.json"


@lru_cache(maxsize=4)
def _read(path: str, mtime_ns: int) -> dict[str, str]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(key): str(value) for key, value in data.items() if str(value).strip()}


def collection_names(data_dir: Path) -> dict[str, str]:
    """The names in ``data_dir`` (re-read when the file changes; empty when there is none)."""
    path = data_dir / COLLECTION_NAMES_FILE
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return {}
    return _read(str(path), mtime)


def facet_value_label(facet: str, value: str) -> str:
    """What readers see for a facet value: the search surface's label of a closed vocabulary's
    value ("On the map"), or a collection's name when the library gave one."""
    declared = FACETS_BY_NAME.get(facet)
    if declared is not None and declared.choices:
        return declared.choices.get(value, value)
    if facet != "collection" or not has_app_context():  # (pure helpers, e.g. a citation in a test)
        return value
    return collection_names(services_of().settings.data_dir).get(value, value)
