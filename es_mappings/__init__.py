"""Versioned Elasticsearch index definitions (``maps-v<N>.json``) and the loader that reads them.

A released file is never edited: a change is a new version plus a reindex."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

_NAME = re.compile(r"^maps-v(\d+)\.json$")


def available_versions() -> list[int]:
    """Every mapping version shipped, ascending."""
    names = (entry.name for entry in resources.files(__name__).iterdir())
    return sorted(int(m.group(1)) for m in map(_NAME.match, names) if m)


def latest_version() -> int:
    """The newest mapping version (what ``index create`` and ``reindex`` use by default)."""
    return available_versions()[-1]


def load_mapping(version: int) -> dict[str, Any]:
    """The parsed ``maps-v<version>.json`` (a fresh copy each call, safe to modify)."""
    if version not in available_versions():
        raise ValueError(f"no mapping version {version}; shipped: {available_versions()}")
    text = resources.files(__name__).joinpath(f"maps-v{version}.json").read_text(encoding="utf-8")
    return dict(json.loads(text))
