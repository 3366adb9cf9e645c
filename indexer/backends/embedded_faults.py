"""SQLite write failures that are the machine's, not the request's: disk full, a read-only data
directory, the database locked by another writer, an I/O error. They become one
``IndexNotWritable`` naming the cause (the CLI's ``Error:`` line, the API's 503), and a write
transaction that SQLite already rolled back is not rolled back twice (that second error used to
hide the first)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from indexer.backends.base import IndexNotWritable

# sqlite3 error names (Python 3.11+: ``sqlite_errorname``) → what the operator should hear.
_CAUSES = (
    ("SQLITE_FULL", "the disk is full (or the database reached its size limit)"),
    ("SQLITE_READONLY", "the data directory or the index file is read-only"),
    ("SQLITE_BUSY", "the database is locked by another writer (another mapsearch process?)"),
    ("SQLITE_LOCKED", "the database is locked by another writer (another mapsearch process?)"),
    ("SQLITE_IOERR", "the disk reported an I/O error"),
    ("SQLITE_CANTOPEN", "the index file cannot be opened for writing"),
    ("SQLITE_PERM", "the data directory or the index file is not writable"),
)


def storage_fault(exc: sqlite3.Error, path: Path) -> IndexNotWritable | None:
    """The IndexNotWritable for a storage failure, or None when ``exc`` is something else."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    for prefix, cause in _CAUSES:
        if name.startswith(prefix):
            return IndexNotWritable(
                f"cannot write the index at {path}: {cause}; nothing of this batch was written,"
                " the index is intact, and the work can be run again once this is fixed"
            )
    return None


@contextmanager
def write_transaction(conn: sqlite3.Connection, path: Path) -> Iterator[None]:
    """COMMIT the caller's open write transaction on success; on failure roll it back if SQLite
    has not already done so, and raise a storage fault as IndexNotWritable."""
    try:
        yield
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            with suppress(sqlite3.Error):  # the original failure is the one to report
                conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            fault = storage_fault(exc, path)
            if fault is not None:
                raise fault from exc
        raise


def begin_failure(exc: sqlite3.Error, path: Path) -> BaseException:
    """What to raise when taking the write lock itself failed (locked, read-only)."""
    return storage_fault(exc, path) or exc
