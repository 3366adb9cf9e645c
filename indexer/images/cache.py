"""On-disk cache of fetched image derivatives, keyed by URL, under ``data_dir/cache/images``."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class ImageCache:
    """Bytes by URL; written atomically so a crash never leaves a half file behind."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, url: str) -> Path:
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.root / digest[:2] / digest

    def get(self, url: str) -> bytes | None:
        """Cached bytes of ``url`` or None."""
        try:
            return self._path(url).read_bytes()
        except OSError:
            return None

    def put(self, url: str, data: bytes) -> None:
        """Store ``data`` for ``url`` (a full disk only costs the cache, never the fetch)."""
        path = self._path(url)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except OSError:
            pass
