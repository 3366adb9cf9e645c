"""The embedded backend's alias: a small pointer file beside ``index.sqlite`` naming the physical
SQLite file that serves (``index-v<N>-<timestamp>.sqlite``), swapped atomically with
``os.replace``; plus the one-reindex-at-a-time lock file. A data dir without a pointer serves its
plain ``index.sqlite`` (the initial physical file)."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from indexer.backends.base import LifecycleLocked

LOCK_TTL_S = 6 * 3600.0  # a lock older than this was left by a crashed run
# SQLite's own side files, then the caches beside it (columns snapshot, vector index).
SIDE_FILES = ("-wal", "-shm", "-journal", ".columns", ".ann.lock", ".rix.lock")


class EmbeddedReindexLocked(LifecycleLocked):
    """Another reindex of this data dir holds the lock."""


def pointer_path(alias: Path) -> Path:
    """The pointer file of the alias ``alias`` (``settings.embedded_path``)."""
    return alias.with_name(alias.stem + ".current")


def lock_path(alias: Path) -> Path:
    """The reindex lock file of this alias."""
    return alias.with_name(alias.stem + ".reindex.lock")


def resolve(alias: Path) -> Path:
    """The physical file behind the alias (the alias path itself when there is no pointer)."""
    try:
        name = pointer_path(alias).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return alias
    return alias.with_name(name) if name else alias


def pointer_stamp(alias: Path) -> tuple[int, int, int] | None:
    """(inode, mtime ns, size) of the pointer: changes on every swap (cheap enough per search)."""
    try:
        stat = os.stat(pointer_path(alias))
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def new_physical(alias: Path, version: int = 1) -> Path:
    """A fresh physical file name next to the alias (µs timestamp: names never repeat)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dt%H%M%S%f")
    return alias.with_name(f"{alias.stem}-v{version}-{stamp}{alias.suffix}")


def swap(alias: Path, physical: Path) -> None:
    """Point the alias at ``physical`` in one atomic rename (readers see old or new, never half)."""
    pointer = pointer_path(alias)
    temporary = pointer.with_name(f"{pointer.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(physical.name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, pointer)
    with suppress(OSError):  # make the rename itself durable
        directory = os.open(alias.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def delete_physical(path: Path) -> None:
    """Remove one physical file and its WAL side files
    (readers that still hold it keep their inode)."""
    for suffix in ("", *SIDE_FILES):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    for index_file in [
        *path.parent.glob(f"{path.name}.ann.*"),  # vector index builds
        *path.parent.glob(f"{path.name}.rix.*"),  # region index builds
    ]:
        index_file.unlink(missing_ok=True)


def leftovers(alias: Path) -> list[Path]:
    """Physical files of this alias that the pointer does not name (failed or old builds)."""
    current = resolve(alias)
    found = sorted(alias.parent.glob(f"{alias.stem}-v*{alias.suffix}"))
    if alias.exists():
        found.append(alias)
    return [path for path in found if path != current]


def lock_holder(alias: Path, ttl_s: float = LOCK_TTL_S) -> dict[str, object] | None:
    """The live lock's owner and start time, or None when no reindex or restore runs."""
    path = lock_path(alias)
    try:
        held = json.loads(path.read_text(encoding="utf-8") or "{}")
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        held = {}
    acquired = float(held.get("acquired_at", 0) or 0)
    if acquired and time.time() - acquired >= ttl_s:
        return None
    return {"owner": held.get("owner", "?"), "acquired_at": acquired or None}


@contextmanager
def reindex_lock(alias: Path, ttl_s: float = LOCK_TTL_S) -> Iterator[None]:
    """Hold the alias's reindex lock (a create-exclusive file); an expired lock is taken over."""
    path = lock_path(alias)
    body = json.dumps(
        {"owner": f"{socket.gethostname()}:{os.getpid()}", "acquired_at": time.time()}
    )
    for _attempt in range(2):
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                held = json.loads(path.read_text(encoding="utf-8") or "{}")
            except (OSError, ValueError):
                held = {}
            acquired = float(held.get("acquired_at", path.stat().st_mtime if path.exists() else 0))
            if time.time() - acquired < ttl_s:
                raise EmbeddedReindexLocked(
                    f"a reindex is already running ({held.get('owner', '?')})"
                ) from None
            path.unlink(missing_ok=True)  # stale: its owner crashed; the second attempt creates it
            continue
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(body)
        break
    else:
        raise EmbeddedReindexLocked("another process took over the stale reindex lock")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
