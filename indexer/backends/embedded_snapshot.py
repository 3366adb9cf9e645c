"""A columnar snapshot of the embedded index's in-memory state (every filter/facet column and the
vector matrix) in one file beside the SQLite file, memory-mapped copy-on-write on open: a large
index opens in about a second and every serving process shares the same vector pages.

It is a cache, never the truth. It names the SQLite change ``seq`` it holds and a random token that
the SQLite file's meta must carry too (set under the write lock when the file is put in place), so
a snapshot of another history (a restored backup, a rebuilt file) is never used; rows changed after
its ``seq`` are applied from SQLite as usual."""

from __future__ import annotations

import json
import mmap
import os
import secrets
import sqlite3
import struct
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np

from indexer.backends.embedded_columns import Columns, _Pairs
from indexer.backends.embedded_schema import MULTI_FIELDS, get_meta, set_meta

SUFFIX = ".columns"
META_KEY = "columns_snapshot"
MAGIC = b"MSCOLS02"  # the layout version: a file of another version is not used
ALIGN = 4096
# Rows of headroom (zero-filled holes in the file: free on disk) so new documents land in the
# mapping without reallocating the matrix until the next snapshot.
HEADROOM_FRACTION = 0.125
HEADROOM_MIN = 1024
_PER_DOC = (
    "alive",
    "has_vector",
    "dated",
    "year_start",
    "year_end",
    "row_seq",
    "has_image",
    "has_extent",
)
_STRINGS = ("ids", "item_ids", "titles")


def snapshot_path(database: Path) -> Path:
    """The snapshot file of one physical SQLite file."""
    return Path(f"{database}{SUFFIX}")


def _joined(strings: list[str]) -> np.ndarray | None:
    """Strings as one NUL-separated UTF-8 byte array (None when a string holds a NUL itself)."""
    text = "\x00".join(strings)
    if text.count("\x00") != max(0, len(strings) - 1):
        return None
    return np.frombuffer(text.encode(), np.uint8)


def _split(data: np.ndarray, count: int) -> list[str]:
    if count == 0:
        return []
    return bytes(data).decode().split("\x00")


def _arrays(columns: Columns) -> Iterator[tuple[str, np.ndarray, int]]:
    """(name, array, rows to write) of everything a snapshot holds (per-docno arrays are stored
    with headroom: the rows past ``columns.size`` are left as holes)."""
    size = columns.size
    for name in _PER_DOC:
        yield name, getattr(columns, name), size
    yield "extent", columns.extent, size
    if columns.vectors is not None:
        yield "vectors", columns.vectors, size
    for name in _STRINGS:
        data = _joined(getattr(columns, name)[:size])
        if data is None:
            raise ValueError("a string holds a NUL character")
        yield name, data, len(data)
    for name in MULTI_FIELDS:
        pairs = columns.pairs[name]
        yield f"pairs.{name}.rows", pairs.rows, len(pairs.rows)
        yield f"pairs.{name}.vals", pairs.vals, len(pairs.vals)
        data = _joined(pairs.values)
        if data is None:
            raise ValueError("a facet value holds a NUL character")
        yield f"pairs.{name}.values", data, len(data)


def write_snapshot(columns: Columns, target: Path) -> str:
    """Write ``columns`` (loaded at ``columns.seq``) to a temporary file beside ``target``; returns
    its path. ``publish`` puts it in place."""
    size = columns.size
    capacity = size + max(HEADROOM_MIN, int(size * HEADROOM_FRACTION))
    token = secrets.token_hex(16)
    layout: dict[str, Any] = {}
    planned = list(_arrays(columns))
    for name, array, rows in planned:
        per_doc = name in _PER_DOC or name in ("extent", "vectors")
        stored_rows = capacity if per_doc else rows
        shape = [stored_rows, *array.shape[1:]]
        nbytes = int(np.prod(shape)) * array.dtype.itemsize
        layout[name] = {"offset": 0, "dtype": array.dtype.str, "shape": shape, "rows": rows}
        layout[name]["nbytes"] = nbytes
    header = {
        "token": token,
        "seq": columns.seq,
        "size": size,
        "capacity": capacity,
        "dims": None if columns.vectors is None else int(columns.vectors.shape[1]),
        "strings": {name: len(getattr(columns, name)[:size]) for name in _STRINGS},
        "values": {name: len(columns.pairs[name].values) for name in MULTI_FIELDS},
        "arrays": layout,
    }
    header_bytes = len(json.dumps(header)) + 64 * len(layout)  # room for the offsets' digits
    offset = -(-(len(MAGIC) + 8 + header_bytes) // ALIGN) * ALIGN
    for entry in layout.values():
        entry["offset"] = offset
        offset += -(-entry["nbytes"] // ALIGN) * ALIGN
    encoded = json.dumps(header).encode()
    temporary = target.with_name(f"{target.name}.{os.getpid()}.{token[:8]}.tmp")
    with temporary.open("wb") as handle:
        handle.write(MAGIC + struct.pack("<Q", len(encoded)) + encoded)
        for name, array, rows in planned:
            handle.seek(layout[name]["offset"])
            handle.write(np.ascontiguousarray(array[:rows]).tobytes())
        handle.truncate(offset)
        handle.flush()
        os.fsync(handle.fileno())
    return str(temporary)


def publish(
    conn: sqlite3.Connection,
    temporary: str,
    target: Path,
    token: str | None = None,
    meta_key: str = META_KEY,
) -> bool:
    """Put a written cache file (a snapshot, or a vector index with its ``token``) in place and
    record its token in the SQLite meta, both under the write lock, so no writer commits in
    between; False (and nothing changed) when the lock or the rename fails."""
    if token is None:
        token = str(read_header(Path(temporary))["token"])
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error:
        Path(temporary).unlink(missing_ok=True)
        return False
    try:
        set_meta(conn, meta_key, token)
        os.replace(temporary, target)
        conn.execute("COMMIT")
        return True
    except (sqlite3.Error, OSError):
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        Path(temporary).unlink(missing_ok=True)
        return False


def read_header(path: Path) -> dict[str, Any]:
    """The JSON header of a snapshot file (raises OSError/ValueError when it is not one)."""
    with path.open("rb") as handle:
        start = handle.read(len(MAGIC) + 8)
        if len(start) < len(MAGIC) + 8 or start[: len(MAGIC)] != MAGIC:
            raise ValueError(f"{path} is not a columns snapshot")
        (length,) = struct.unpack("<Q", start[len(MAGIC) :])
        header: dict[str, Any] = json.loads(handle.read(length))
    return header


def open_snapshot(conn: sqlite3.Connection, database: Path) -> Columns | None:
    """The snapshot's columns, memory-mapped copy-on-write, when it belongs to this SQLite file's
    history at or before its current seq (call inside the read transaction that loads the rest);
    None when there is none usable."""
    path = snapshot_path(database)
    try:
        header = read_header(path)
    except (OSError, ValueError):
        return None
    dims = get_meta(conn, "dims")
    current_seq = int(get_meta(conn, "seq") or 0)
    if (
        get_meta(conn, META_KEY) != header["token"]
        or header["seq"] > current_seq
        or (header["dims"] is not None and str(header["dims"]) != dims)
    ):
        return None
    with path.open("rb") as handle:
        mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
    arrays = {
        name: np.frombuffer(
            mapping,
            dtype=np.dtype(entry["dtype"]),
            count=int(np.prod(entry["shape"])),
            offset=entry["offset"],
        ).reshape(entry["shape"])
        for name, entry in header["arrays"].items()
    }
    columns = Columns()
    size = header["size"]
    columns.size, columns.seq = size, header["seq"]
    for name in _PER_DOC:
        setattr(columns, name, arrays[name])
    columns.extent = arrays["extent"]
    columns.vectors = arrays.get("vectors")
    filler = [""] * (header["capacity"] - size)
    for name in _STRINGS:
        strings = _split(arrays[name], header["strings"][name])
        setattr(columns, name, strings + filler)
    columns.docno_of = dict(zip(columns.ids, range(len(columns.ids)), strict=True))  # C speed
    columns.docno_of.pop("", None)  # deleted and unused docnos
    for name in MULTI_FIELDS:
        values = _split(arrays[f"pairs.{name}.values"], header["values"][name])
        columns.pairs[name] = _Pairs(
            rows=arrays[f"pairs.{name}.rows"],
            vals=arrays[f"pairs.{name}.vals"],
            vocab={value: number for number, value in enumerate(values)},
            values=values,
        )
    columns.snapshot_token, columns.snapshot_seq = header["token"], header["seq"]
    return columns
