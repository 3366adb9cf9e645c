"""Where a harvest stands (pending date ranges, page), persisted after every page so a stopped
harvest resumes: a JSON file under data_dir, or a Redis key when the pipeline runs on Redis."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol


class CursorStore(Protocol):
    """Load, save and clear a harvest's state by key."""

    def load(self, key: str) -> dict[str, Any] | None: ...

    def save(self, key: str, state: dict[str, Any]) -> None: ...

    def clear(self, key: str) -> None: ...


def _safe_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", key)[:200]


class FileCursorStore:
    """One JSON file per harvest under ``folder``, replaced atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        return self.folder / f"{_safe_name(key)}.json"

    def load(self, key: str) -> dict[str, Any] | None:
        """The saved state, or None when there is none (or it is unreadable)."""
        try:
            value = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        return value if isinstance(value, dict) else None

    def save(self, key: str, state: dict[str, Any]) -> None:
        """Write the state so a crash leaves either the old or the new file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".cursor-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(state, out)
        os.replace(temporary, self._path(key))

    def clear(self, key: str) -> None:
        """Forget the state (the harvest finished)."""
        self._path(key).unlink(missing_ok=True)


class RedisCursorStore:
    """The state as one Redis string per harvest (shared by every worker)."""

    def __init__(self, client: Any, prefix: str = "mapsearch:harvest-cursor:") -> None:
        self.client = client
        self.prefix = prefix

    def load(self, key: str) -> dict[str, Any] | None:
        """The saved state, or None."""
        raw = self.client.get(self.prefix + key)
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None

    def save(self, key: str, state: dict[str, Any]) -> None:
        """Store the state."""
        self.client.set(self.prefix + key, json.dumps(state))

    def clear(self, key: str) -> None:
        """Forget the state."""
        self.client.delete(self.prefix + key)
