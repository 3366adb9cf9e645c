"""File importers (CSV, JSON Lines, Aardvark): each is a generator of MapRecords that reports
broken records to an ImportReport and goes on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from indexer.importers.aardvark import aardvark_records
from indexer.importers.report import BrokenRecord, ImportReport
from indexer.importers.tabular import csv_records, jsonl_records
from indexer.records import MapRecord

Importer = Callable[[str | Path, ImportReport, str | None], Iterator[MapRecord]]

IMPORTERS: dict[str, Importer] = {
    "csv": csv_records,
    "jsonl": jsonl_records,
    "aardvark": aardvark_records,
}


def read_records(
    kind: str, path: str | Path, report: ImportReport | None = None, id_prefix: str | None = None
) -> Iterator[MapRecord]:
    """Records of ``path`` read by the ``kind`` importer; counts and errors land in ``report``."""
    if kind not in IMPORTERS:
        raise ValueError(f"unknown import format {kind!r}; choose one of {', '.join(IMPORTERS)}")
    if not Path(path).exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    return IMPORTERS[kind](
        path, report if report is not None else ImportReport(source=kind), id_prefix
    )


__all__ = ["IMPORTERS", "BrokenRecord", "ImportReport", "read_records"]
