"""Which harvester a job's parameters name, as an iterator of record batches. The harvesters
themselves live in ``indexer.sources``; this only maps ``{"source": ..., ...}`` onto them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from more_itertools import chunked

from indexer.backends import open_backend
from indexer.backends.base import BackendQuery, SearchBackend
from indexer.records import MapRecord
from indexer.settings import Settings

SOURCES = ("loc", "iiif", "records", "index")


class SourceError(ValueError):
    """The job's parameters do not describe a source (bad name, missing argument)."""


def _limited(batches: Iterator[list[MapRecord]], limit: int | None) -> Iterator[list[MapRecord]]:
    if limit is None:
        yield from batches
        return
    left = limit
    for batch in batches:
        if left <= 0:
            return
        yield batch[:left]
        left -= len(batch)


def _records_file(path: str) -> Iterator[MapRecord]:
    """MapRecords as JSON lines (what ``mapsearch export`` or a test writes)."""
    with Path(path).open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield MapRecord.model_validate_json(line)


def _all_indexed_ids(backend: SearchBackend, page: int = 1000) -> list[str]:
    """Every document id, snapshotted when the reindex starts (browse pages, stable order)."""
    ids: list[str] = []
    while True:
        result = backend.search(
            BackendQuery(browse_sort="title", browse_offset=len(ids), browse_limit=page)
        )
        ids.extend(hit.id for hit in result.browse)
        if len(result.browse) < page or len(ids) >= result.total:
            return ids


def _indexed_records(settings: Settings, ids: list[str] | None) -> Iterator[MapRecord]:
    """Records already in the index (re-derived from what is stored), for a reindex."""
    backend = open_backend(settings)
    try:
        wanted = ids if ids is not None else _all_indexed_ids(backend)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found = backend.fetch(chunk)
            yield from (found[doc_id].record for doc_id in chunk if doc_id in found)
    finally:
        backend.close()


def is_resumable(params: dict[str, Any]) -> bool:
    """True for sources that persist a cursor: a harvest of them can stop and continue later."""
    return params.get("source") == "loc"


def open_source(
    params: dict[str, Any], settings: Settings, *, job_id: str
) -> Iterator[list[MapRecord]]:
    """Batches of ``settings.pipeline_batch_size`` records from the source the job names."""
    source = params.get("source")
    size = settings.pipeline_batch_size
    limit = params.get("limit")
    if source == "records":
        return _limited(chunked(_records_file(params["path"]), size), limit)
    if source == "index":
        ids = None if params.get("full") else list(params["ids"])
        return chunked(_indexed_records(settings, ids), size)
    if source == "loc":
        from indexer.sources.loc import harvest_loc

        # harvest_loc applies the limit itself, counting across resumptions (its cursor)
        return harvest_loc(settings, params, cursor_key=job_id, batch_size=size)
    if source == "iiif":
        from indexer.sources.iiif import harvest_iiif

        return _limited(chunked(harvest_iiif(params["url"], settings), size), limit)
    raise SourceError(f"unknown source {source!r}; one of {', '.join(SOURCES)}")
