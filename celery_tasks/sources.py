"""Which harvester a job's spec names, as an iterator of record batches. The harvesters
themselves live in ``indexer.sources``; this only maps a ``JobSpec`` onto them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from more_itertools import chunked

from celery_tasks.job_specs import (
    HarvestLocSpec,
    ImportRecordsSpec,
    JobSpec,
    ReembedSpec,
    ReindexSpec,
)
from indexer.backends import open_backend
from indexer.backends.base import BackendQuery, SearchBackend
from indexer.records import MapRecord
from indexer.settings import Settings


class SourceError(ValueError):
    """The job cannot be started from what it names (a source that cannot be opened)."""


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


def open_source(spec: JobSpec, settings: Settings, *, job_id: str) -> Iterator[list[MapRecord]]:
    """Batches of ``settings.pipeline_batch_size`` records from the source the job names."""
    size = settings.pipeline_batch_size
    if isinstance(spec, ImportRecordsSpec):
        return _limited(chunked(_records_file(spec.path), size), spec.limit)
    if isinstance(spec, ReindexSpec):
        return chunked(_indexed_records(settings, None if spec.full else spec.ids), size)
    if isinstance(spec, ReembedSpec):
        return chunked(_indexed_records(settings, None), size)
    if isinstance(spec, HarvestLocSpec):
        from indexer.sources.loc import harvest_loc

        # harvest_loc applies the limit itself, counting across resumptions (its cursor)
        return harvest_loc(
            settings, spec.model_dump(exclude_none=True), cursor_key=job_id, batch_size=size
        )
    from indexer.sources.iiif import harvest_iiif

    return _limited(chunked(harvest_iiif(spec.url, settings), size), spec.limit)
