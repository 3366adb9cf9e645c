"""Storage faults injected into a real embedded index (issue 15): disk full (SQLite's
max_page_count), a read-only database (query_only) and another writer holding the lock (a second
connection). Each is one IndexNotWritable naming the cause, the index stays intact, and the same
write succeeds once the fault is gone."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from indexer.backends.base import IndexNotWritable
from indexer.backends.embedded import EmbeddedBackend
from indexer.records import IndexDocument, MapRecord
from indexer.settings import Settings


def docs(start: int, count: int) -> list[IndexDocument]:
    rng = np.random.default_rng(start)
    out = []
    for n in range(start, start + count):
        vector = rng.normal(size=64).astype(np.float32)
        out.append(
            IndexDocument(
                record=MapRecord(id=f"t:{n}", source="t", title=f"Map {n} " + "word " * 200),
                vector=vector / np.linalg.norm(vector),
                model_id="m",
            )
        )
    return out


def intact(backend: EmbeddedBackend, expected: int) -> None:
    conn = backend._conn
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert backend.info().documents == expected
    assert not conn.in_transaction


def test_disk_full_is_one_clear_error_and_the_write_can_be_redone(settings: Settings) -> None:
    backend = EmbeddedBackend.open(settings)
    backend.write(docs(0, 5))
    pages = backend._conn.execute("PRAGMA page_count").fetchone()[0]
    backend._conn.execute(f"PRAGMA max_page_count={pages + 1}")  # the disk is now "full"
    with pytest.raises(IndexNotWritable, match="the disk is full") as raised:
        backend.write(docs(5, 200))
    assert "cannot rollback" not in str(raised.value)
    assert isinstance(raised.value.__cause__, sqlite3.Error)
    intact(backend, 5)
    with pytest.raises(IndexNotWritable, match="the disk is full"):
        backend.write(docs(5, 200))  # still full: the same clear error, not a second one
    backend._conn.execute("PRAGMA max_page_count=1073741823")  # space freed
    assert backend.write(docs(5, 200)).written == 200
    intact(backend, 205)


def test_read_only_database_is_one_clear_error(settings: Settings) -> None:
    backend = EmbeddedBackend.open(settings)
    backend.write(docs(0, 3))
    backend._conn.execute("PRAGMA query_only=ON")  # as a read-only data directory answers
    with pytest.raises(IndexNotWritable, match="read-only"):
        backend.write(docs(3, 2))
    with pytest.raises(IndexNotWritable, match="read-only"):
        backend.delete(["t:0"])
    intact(backend, 3)
    backend._conn.execute("PRAGMA query_only=OFF")
    assert backend.delete(["t:0"]) == 1


def test_another_writer_holding_the_lock_is_one_clear_error(settings: Settings) -> None:
    quick = settings.model_copy(update={"sqlite_busy_timeout": 0.2})
    backend = EmbeddedBackend.open(quick)
    backend.write(docs(0, 3))
    other = sqlite3.connect(backend.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is writing
    try:
        with pytest.raises(IndexNotWritable, match="locked by another writer"):
            backend.write(docs(3, 2))
        # searches still answer while the other writer holds the lock (WAL)
        assert backend.info().documents == 3
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert backend.write(docs(3, 2)).written == 2
    intact(backend, 5)
