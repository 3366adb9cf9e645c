"""Open import files whether plain or gzip-compressed, and read JSON Lines with line numbers."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from indexer.importers.report import BrokenRecord

GZIP_MAGIC = b"\x1f\x8b"


def open_text(path: str | Path) -> IO[str]:
    """A text stream over ``path``, transparently gunzipped; a UTF-8 BOM is dropped."""
    path = Path(path)
    with path.open("rb") as probe:
        compressed = probe.read(2) == GZIP_MAGIC
    # The caller closes the returned wrapper, which closes the byte stream under it.
    raw: IO[bytes] = gzip.open(path, "rb") if compressed else path.open("rb")  # type: ignore[assignment]  # noqa: SIM115
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")


def iter_json_lines(path: str | Path) -> Iterator[tuple[str, dict[str, Any] | BrokenRecord]]:
    """("line N", object) per non-blank line; an unparsable line yields a BrokenRecord instead."""
    with open_text(path) as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            where = f"line {number}"
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield where, BrokenRecord(f"invalid JSON ({exc.msg} at column {exc.colno})")
                continue
            if not isinstance(value, dict):
                yield where, BrokenRecord(f"expected a JSON object, got {type(value).__name__}")
                continue
            yield where, value


def iter_json_documents(path: str | Path) -> Iterator[tuple[str, dict[str, Any] | BrokenRecord]]:
    """Objects from a JSON Lines file, a JSON file (object or array), or a folder of ``*.json``."""
    path = Path(path)
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            yield from _iter_json_file(file, where_prefix=str(file.relative_to(path)))
        return
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".json"):
        yield from _iter_json_file(path, where_prefix="")
    else:
        yield from iter_json_lines(path)


def _iter_json_file(
    path: Path, where_prefix: str
) -> Iterator[tuple[str, dict[str, Any] | BrokenRecord]]:
    where = where_prefix or path.name
    try:
        with open_text(path) as stream:
            value = json.load(stream)
    except json.JSONDecodeError as exc:
        yield where, BrokenRecord(f"invalid JSON ({exc.msg} at line {exc.lineno})")
        return
    items = value if isinstance(value, list) else [value]
    for index, item in enumerate(items, start=1):
        item_where = f"{where} item {index}" if isinstance(value, list) else where
        if isinstance(item, dict):
            yield item_where, item
        else:
            yield item_where, BrokenRecord(f"expected a JSON object, got {type(item).__name__}")
