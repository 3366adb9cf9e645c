"""On-disk caches of fetched bytes keyed by URL (image derivatives under ``data_dir/cache/images``,
IIIF JSON under ``data_dir/cache/json``), each capped in size: the least recently used entries
go first. diskcache keeps them safe for many threads and processes (Celery workers)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from functools import cache
from pathlib import Path

import diskcache

MEGABYTE = 1024 * 1024


@cache
def _open(root: Path, max_bytes: int, pid: int) -> diskcache.Cache:
    # One handle per folder and process: opening costs a SQLite connection, and a handle
    # inherited across fork must not be used by the child (hence the pid in the key).
    return diskcache.Cache(
        str(root), size_limit=max_bytes, eviction_policy="least-recently-used", timeout=5
    )


class ImageCache:
    """Bytes by URL, at most ``max_mb`` megabytes; a cache that fails (full disk, a busy
    database) only costs the cache, never the fetch."""

    def __init__(self, root: Path, max_mb: int) -> None:
        self.root = root
        self.max_bytes = max_mb * MEGABYTE

    def _store(self) -> diskcache.Cache:
        return _open(self.root, self.max_bytes, os.getpid())

    def get(self, url: str) -> bytes | None:
        """Cached bytes of ``url`` or None."""
        if not self.root.is_dir():  # nothing cached yet: a lookup never creates the folder
            return None
        try:
            value = self._store().get(url)
        except (OSError, sqlite3.Error, diskcache.Timeout):
            return None
        return value if isinstance(value, bytes) else None

    def put(self, url: str, data: bytes) -> None:
        """Store ``data`` for ``url``; over the cap the least recently used go (ten at a time)."""
        with contextlib.suppress(OSError, sqlite3.Error, diskcache.Timeout):
            self._store().set(url, data)

    def volume(self) -> int:
        """Bytes the cache holds now (its files and database)."""
        return int(self._store().volume())
