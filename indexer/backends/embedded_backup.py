"""Backups of the embedded index while it serves: SQLite's online backup API copies the file behind
the alias (one consistent snapshot; writers go on) to ``<location>/<name>/index.sqlite`` beside a
manifest; a restore copies a checked backup into a new physical file and swaps the alias pointer
to it, so servers move over at their next call and the old file is dropped after a drain."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from indexer.backends import embedded_alias
from indexer.backends.base import BackupOutcome, LifecycleError
from indexer.backends.embedded_schema import (
    FTS_ONLY_CHANGES,
    MAP_TERMS_CHANGES,
    SCHEMA_VERSION,
    connect,
)

DATABASE = "index.sqlite"
MANIFEST = "backup.json"


def backup_name(now: datetime | None = None) -> str:
    """A default backup name: the UTC time, sortable."""
    return (now or datetime.now(UTC)).strftime("mapsearch-%Y%m%dt%H%M%S")


def _copy_database(source: Path, target: Path) -> None:
    """Copy a live SQLite database page by page in one read snapshot (the online backup API)."""
    try:
        reader = sqlite3.connect(
            str(source), timeout=30.0
        )  # only read: a WAL reader never blocks writers
        writer = sqlite3.connect(str(target))
        try:
            reader.backup(writer)
            writer.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            writer.close()
            reader.close()
    except sqlite3.Error as exc:
        raise LifecycleError(f"cannot copy {source} to {target}: {exc}") from exc


def _describe(database: Path) -> dict[str, Any]:
    """What a backup holds: documents, model, dims, layout version (read from the copy itself)."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        documents = int(conn.execute("SELECT count(*) FROM docs WHERE deleted = 0").fetchone()[0])
        check = str(conn.execute("PRAGMA quick_check").fetchone()[0])
    except sqlite3.Error as exc:
        raise LifecycleError(f"{database} is not a mapsearch index: {exc}") from exc
    finally:
        conn.close()
    if check != "ok":
        raise LifecycleError(f"{database} is damaged: {check}")
    return {
        "documents": documents,
        "model_id": meta.get("model_id"),
        "dims": int(meta["dims"]) if meta.get("dims") else None,
        "schema_version": int(meta.get("schema_version") or 0),
        "seq": int(meta.get("seq") or 0),
    }


def backup_file(alias: Path, location: Path, name: str | None = None) -> BackupOutcome:
    """Write ``<location>/<name>/`` (database + manifest) from the file the alias names now."""
    source = embedded_alias.resolve(alias)
    if not source.exists():
        raise LifecycleError(f"no index at {alias} to back up")
    name = name or backup_name()
    target = location / name
    if target.exists():
        raise LifecycleError(f"a backup named {name} already exists in {location}")
    partial = location / f".{name}.partial"
    try:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        _copy_database(source, partial / DATABASE)
        described = _describe(partial / DATABASE)
        manifest = {
            "backend": "embedded",
            "name": name,
            "created_at": datetime.now(UTC).isoformat(),
            "source": source.name,
            **described,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, target)  # a backup is there whole or not at all
    except OSError as exc:
        raise LifecycleError(f"cannot write the backup to {location}: {exc}") from exc
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return BackupOutcome(str(location), name, int(described["documents"]), source.name)


def _manifest(folder: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads((folder / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def find_backup(location: Path, name: str | None) -> tuple[Path, dict[str, Any]]:
    """The backup folder ``name`` in ``location`` (the
    newest one without a name) and its manifest."""
    if name is not None:
        manifest = _manifest(location / name)
        if manifest is None:
            raise LifecycleError(f"no backup named {name} in {location}")
        return location / name, manifest
    found = [
        (manifest.get("created_at", ""), folder, manifest)
        for folder in (sorted(location.iterdir()) if location.is_dir() else [])
        if (manifest := _manifest(folder)) is not None and manifest.get("backend") == "embedded"
    ]
    if not found:
        raise LifecycleError(f"no embedded backup in {location}")
    _, folder, manifest = max(found, key=lambda entry: (entry[0], entry[1].name))
    return folder, manifest


def restore_file(
    alias: Path, location: Path, name: str | None = None, drain_seconds: float = 2.0
) -> BackupOutcome:
    """Check a backup, copy it into a new physical file, swap the alias to it, drop the old file."""
    folder, manifest = find_backup(location, name)
    database = folder / DATABASE
    if not database.exists():
        raise LifecycleError(f"backup {folder.name} has no {DATABASE}")
    described = _describe(database)
    # an older layout whose FTS table alone differs is rebuilt when the restored file is opened
    restorable = {str(SCHEMA_VERSION), *FTS_ONLY_CHANGES, *MAP_TERMS_CHANGES}
    if str(described["schema_version"]) not in restorable:
        raise LifecycleError(
            f"backup {folder.name} has layout version {described['schema_version']}, "
            f"this mapsearch needs {SCHEMA_VERSION}"
        )
    if described["documents"] != manifest.get("documents"):
        raise LifecycleError(
            f"backup {folder.name} holds {described['documents']} documents, its manifest says "
            f"{manifest.get('documents')}"
        )
    with embedded_alias.reindex_lock(alias):
        old = embedded_alias.resolve(alias)
        new = embedded_alias.new_physical(alias)
        try:
            _copy_database(database, new)
            connect(str(new)).close()  # back to WAL, the layout checked once more
            embedded_alias.swap(alias, new)
        except BaseException:
            embedded_alias.delete_physical(new)
            raise
        if old.exists() and old != new:
            time.sleep(drain_seconds)
            embedded_alias.delete_physical(old)
    return BackupOutcome(str(location), folder.name, int(described["documents"]), new.name)
