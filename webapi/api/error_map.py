"""Which HTTP status the typed errors of the other layers (search service, images, embedder) map to,
declared in one table so a reviewer can read it at a glance."""

from __future__ import annotations

import importlib
from functools import cache

# (module, class name) -> (status, title). Looked up lazily so the web layer starts even while a
# layer is being replaced; a class listed here that does not exist is simply not mapped.
ERROR_STATUS: dict[tuple[str, str], tuple[int, str]] = {
    ("indexer.images", "ImageTooLarge"): (413, "Image too large"),
    ("indexer.images", "NotAnImage"): (415, "Not an image"),
    ("indexer.images", "UnsafeURL"): (400, "Image URL refused"),
    ("indexer.images", "FetchFailed"): (400, "Image could not be fetched"),
    ("indexer.embedder", "ModelUnavailableError"): (503, "Model unavailable"),
}


@cache
def _known_classes() -> tuple[tuple[type[BaseException], int, str], ...]:
    found = []
    for (module_name, class_name), (status, title) in ERROR_STATUS.items():
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            continue
        found.append((cls, status, title))
    return tuple(found)


def status_for(exc: BaseException) -> tuple[int, str] | None:
    """(status, title) for a typed error, or None when it is not one of ours."""
    for cls, status, title in _known_classes():
        if isinstance(exc, cls):
            return status, title
    # The search service's errors carry their own status (webapi/search/errors.py).
    declared = getattr(exc, "status", None)
    if isinstance(declared, int) and 400 <= declared < 600:
        return declared, str(getattr(exc, "title", type(exc).__name__))
    return None
