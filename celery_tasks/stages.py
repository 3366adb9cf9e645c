"""The pipeline's stages — harvest, embed, index, finalize — written once and scheduled either by
Celery (``celery_tasks.tasks``) or in-process (``celery_tasks.runner``). Each stage takes a job id
and a batch id, re-reads its input from the stage store, and is safe to run twice."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from celery_tasks.batch_store import (
    BatchMissing,
    BatchStage,
    batch_id_for,
    document_from_json,
    document_to_json,
)
from celery_tasks.job_specs import ReembedSpec, ReindexSpec
from celery_tasks.jobs import JobNotFound, JobStore
from celery_tasks.sources import open_source
from indexer.pipeline import (
    IndexReport,
    LoadedImages,
    build_documents,
    load_images,
    needs_regions,
)
from indexer.records import MapRecord
from indexer.settings import Settings

if TYPE_CHECKING:
    from indexer.backends.base import SearchBackend
    from indexer.container import ProcessContainer
    from indexer.embedder import Embedder

log = logging.getLogger(__name__)

VERIFY_CHUNK = 500

SubmitBatch = Callable[[str, str], None]  # (job_id, batch_id) → schedule embed then index


@dataclass
class PipelineContext:
    """What the stages need: settings, job and stage stores, and the process container."""

    settings: Settings
    jobs: JobStore
    stage: BatchStage
    container: ProcessContainer

    @property
    def backend(self) -> SearchBackend:
        """The index backend (opened on first use)."""
        return self.container.backend

    @property
    def embedder(self) -> Embedder:
        """The model (loaded on first use, once per process)."""
        return self.container.embedder


def is_cancelled(ctx: PipelineContext, job_id: str) -> bool:
    """True when staff asked to stop (or the job vanished: nothing left to work for)."""
    try:
        return ctx.jobs.get(job_id).cancel_requested
    except JobNotFound:
        return True


def mark_started(ctx: PipelineContext, job_id: str) -> None:
    """queued → running, stamping the start time once."""
    job = ctx.jobs.get(job_id)
    if job.started_at is None or job.state == "queued":
        ctx.jobs.update(job_id, state="running", started_at=job.started_at or time.time())


def harvest(
    ctx: PipelineContext, job_id: str, submit: SubmitBatch, budget_s: float | None = None
) -> bool:
    """Read the job's source batch by batch, stage, register and submit each. True when the
    source is exhausted; False when ``budget_s`` ran out first on a source that resumes from its
    persisted cursor (the caller continues it in a new task).

    A redelivered harvest submits its batches again: a duplicate batch is harmless (same document
    ids, counted once)."""
    mark_started(ctx, job_id)
    spec = ctx.jobs.get(job_id).spec
    if isinstance(spec, ReembedSpec) or (
        isinstance(spec, ReindexSpec) and spec.full and model_changed(ctx)
    ):
        model_change_reindex(ctx, job_id)
        return True
    if isinstance(spec, ReindexSpec):  # count first: a stable total and an ETA from the start
        expected = len(spec.ids) if spec.ids else ctx.backend.info().documents
        ctx.jobs.update(job_id, expected_total=expected)
    started = time.monotonic()
    for records in open_source(spec, ctx.settings, job_id=job_id):
        if is_cancelled(ctx, job_id):
            return True
        if not records:
            continue
        ids = [record.id for record in records]
        batch_id = batch_id_for(job_id, ids)
        ctx.stage.put(batch_id, "records", [record.model_dump(mode="json") for record in records])
        new = ctx.jobs.add_batch(job_id, batch_id, ids)
        submit(job_id, batch_id)  # even when known: a redelivered harvest may have died before it
        # Stop only after a new batch: a resumed source replays its unfinished page first.
        if (
            new
            and budget_s is not None
            and spec.resumable
            and time.monotonic() - started > budget_s
        ):
            return False
    ctx.jobs.update(job_id, harvest_complete=True)
    maybe_finalize(ctx, job_id)
    return True


def model_changed(ctx: PipelineContext) -> bool:
    """True when the index holds vectors of another model than the configured one."""
    indexed = ctx.backend.model_id()
    return indexed is not None and indexed != ctx.embedder.model_id


class RebuildCancelled(RuntimeError):
    """Staff cancelled a model-change reindex (its new index is deleted; the old one serves)."""


def model_change_reindex(ctx: PipelineContext, job_id: str) -> None:
    """A full reindex after a model change: every document re-embedded into a new physical
    index, swapped in when complete (``indexer.reembed``); the job closes here."""
    from indexer.reembed import rebuild_for_model

    model_id = ctx.embedder.model_id
    ctx.jobs.update(job_id, message=f"re-embedding every document with {model_id} into a new index")

    def progress(done: int, total: int) -> None:
        if is_cancelled(ctx, job_id):
            raise RebuildCancelled("cancelled by staff")
        ctx.jobs.update(job_id, done=done, total=total)

    try:
        result = rebuild_for_model(ctx.settings, ctx.embedder, progress)
    except RebuildCancelled:
        return  # cancel_job already closed the job
    except Exception as exc:
        log.exception("job %s: model-change reindex failed", job_id)
        fail_job(
            ctx,
            job_id,
            f"reindex with {model_id} failed, the old index still serves: {type(exc).__name__}: "
            f"{exc}",
        )
        return
    ctx.backend.refresh()
    report = result.report
    ctx.jobs.add_errors(job_id, report.image_failure_samples)  # type: ignore[attr-defined]
    ctx.jobs.update(
        job_id,
        state="succeeded",
        harvest_complete=True,
        finished_at=time.time(),
        total=result.documents,
        done=result.documents,
        without_vector=report.image_failures,
        message=f"{result.documents} records re-embedded with {model_id} ({report.embedded} "
        "embedded, "
        f"{report.reused_vectors} reused, {report.image_failures} image failures, "
        f"{report.without_image} without image); now serving {result.new_index}",
    )


def fail_batch(ctx: PipelineContext, job_id: str, batch_id: str, why: str) -> None:
    """Count a batch's records as failed, with the reason (a no-op if the batch was counted)."""
    ids = ctx.jobs.batch_record_ids(job_id, batch_id)
    if ctx.jobs.complete_batch(
        job_id,
        batch_id,
        done=0,
        failed=len(ids),
        without_vector=0,
        errors=[f"batch {batch_id}: {why}"],
    ):
        log.error(
            "job %s: batch %s failed (%s); %d records counted as failed",
            job_id,
            batch_id,
            why,
            len(ids),
        )
    ctx.stage.drop(batch_id)
    maybe_finalize(ctx, job_id)


def fail_job(ctx: PipelineContext, job_id: str, why: str) -> None:
    """Close the job as failed (the harvest itself could not go on); a job staff cancelled stays
    cancelled, since the error is usually the interruption itself."""
    if is_cancelled(ctx, job_id):
        log.info("job %s was cancelled; not marking it failed (%s)", job_id, why)
        return
    log.error("job %s failed: %s", job_id, why)
    ctx.jobs.update(job_id, state="failed", message=why, finished_at=time.time())


def staged_records(ctx: PipelineContext, batch_id: str) -> list[MapRecord]:
    """The records of a staged batch (BatchMissing when gone)."""
    return [MapRecord.model_validate(item) for item in ctx.stage.get(batch_id, "records")]


def prefetch_images(ctx: PipelineContext, job_id: str, batch_id: str) -> LoadedImages | None:
    """Fetch and decode a staged batch's images ahead of ``embed`` (None: nothing to load)."""
    try:
        if not ctx.jobs.get(job_id).spec.fetches_images:
            return None  # a reindex mostly keeps stored vectors: embed() loads only what it needs
        return load_images(staged_records(ctx, batch_id), ctx.settings)
    except (BatchMissing, JobNotFound):
        return None


def embed(
    ctx: PipelineContext, job_id: str, batch_id: str, images: LoadedImages | None = None
) -> bool:
    """Fetch, decode and embed a staged batch; stage the documents. False when nothing to index.
    ``images``: the batch's images when they were prefetched."""
    if is_cancelled(ctx, job_id):
        return False
    try:
        payload = ctx.stage.get(batch_id, "records")
    except BatchMissing as exc:
        fail_batch(ctx, job_id, batch_id, str(exc))
        return False
    records = [MapRecord.model_validate(item) for item in payload]
    report = IndexReport(seen=len(records))
    stored = ctx.backend.fetch([record.id for record in records])
    spec = ctx.jobs.get(job_id).spec
    reindex = isinstance(spec, ReindexSpec | ReembedSpec)
    with_images = reindex or spec.fetches_images
    kept: list[MapRecord] = []
    if reindex and with_images and any(doc.vector is not None for doc in stored.values()):
        # A reindex keeps every vector the configured model made (no fetch); the rest are
        # (re-)embedded. Another model's vectors are refused by the backend's write: loudly.
        kept, records = _split_current_vectors(records, stored, ctx.embedder.model_id, ctx.settings)
    embedder = ctx.embedder if with_images and any(record.has_image for record in records) else None
    if with_images and images is None:
        images = load_images(records, ctx.settings)  # the batch's images in parallel
    documents = (
        build_documents(
            kept, stored, settings=ctx.settings, embedder=None, with_images=False, report=report
        )
        if kept
        else []
    )
    documents += build_documents(
        records,
        stored,
        settings=ctx.settings,
        embedder=embedder,
        with_images=with_images,
        report=report,
        images=images,
    )
    ctx.stage.put(
        batch_id,
        "documents",
        {
            "documents": [document_to_json(doc) for doc in documents],
            "image_errors": report.image_failure_samples,
        },
    )
    return True


def reads_map_text(ctx: PipelineContext, job_id: str) -> bool:
    """Whether the job's batches go through the ocr stage."""
    try:
        spec = ctx.jobs.get(job_id).spec
    except JobNotFound:
        return False
    return spec.map_text and not isinstance(spec, ReembedSpec)


def read_map_text(ctx: PipelineContext, job_id: str, batch_id: str) -> bool:
    """Read the words on the map images of a batch's staged documents and stage them again
    (records revised, vectors kept). False when the batch is gone or the job cancelled."""
    from indexer.ocr.documents import add_map_text

    if is_cancelled(ctx, job_id):
        return False
    try:
        payload = ctx.stage.get(batch_id, "documents")
    except BatchMissing as exc:
        fail_batch(ctx, job_id, batch_id, str(exc))
        return False
    documents = [document_from_json(item) for item in payload["documents"]]
    report = add_map_text(documents, ctx.settings)
    log.info(
        "job %s: batch %s map text: %d images read, %d words, %d warnings",
        job_id,
        batch_id,
        report.read,
        report.words,
        report.warnings,
    )
    ctx.stage.put(
        batch_id,
        "documents",
        {
            "documents": [document_to_json(doc) for doc in documents],
            "image_errors": [*payload["image_errors"], *report.warning_samples],
        },
    )
    return True


def _split_current_vectors(
    records: list[MapRecord], stored: dict[str, Any], model_id: str, settings: Settings
) -> tuple[list[MapRecord], list[MapRecord]]:
    """(records whose stored vector is this model's and whose regions are the configured grid's,
    the others: a map lacking regions is loaded again, and only its regions are embedded)."""

    def current(record: MapRecord) -> bool:
        doc = stored.get(record.id)
        return (
            doc is not None
            and doc.vector is not None
            and doc.model_id == model_id
            and not needs_regions(doc, settings)
        )

    return [r for r in records if current(r)], [r for r in records if not current(r)]


def index(ctx: PipelineContext, job_id: str, batch_id: str) -> None:
    """Write a batch's documents (versioned upserts:
    a rerun rewrites the same ids), count it once."""
    if is_cancelled(ctx, job_id):
        ctx.stage.drop(batch_id)
        return
    try:
        payload = ctx.stage.get(batch_id, "documents")
    except BatchMissing as exc:
        fail_batch(ctx, job_id, batch_id, str(exc))
        return
    documents = [document_from_json(item) for item in payload["documents"]]
    image_errors: list[str] = payload["image_errors"]
    report = ctx.backend.write(documents)
    ctx.backend.refresh()
    # A stale skip means a newer revision is already indexed: the record is there, so it is done.
    ctx.jobs.complete_batch(
        job_id,
        batch_id,
        done=report.written + report.skipped_stale,
        failed=report.failed,
        without_vector=sum(1 for doc in documents if doc.vector is None and doc.record.has_image),
        errors=[*report.errors, *image_errors],
    )
    ctx.stage.drop(batch_id)
    maybe_finalize(ctx, job_id)


def _job_record_ids(ctx: PipelineContext, job_id: str) -> Iterator[str]:
    for batch_id in ctx.jobs.batch_ids(job_id):
        yield from ctx.jobs.batch_record_ids(job_id, batch_id)


def maybe_finalize(ctx: PipelineContext, job_id: str) -> None:
    """When every batch is counted, verify the index holds every record and close the job.

    Success is only ever declared after that check: a record missing from the index (failed
    write, lost batch) makes the job fail with the count and a sample of the missing ids."""
    job = ctx.jobs.get(job_id)
    if job.state in {"succeeded", "failed", "cancelled"}:
        return
    if not job.harvest_complete or job.batches_done < job.batches_total:
        return
    if not ctx.jobs.claim_finalize(job_id):
        return
    ctx.jobs.update(job_id, state="verifying")
    expected = list(dict.fromkeys(_job_record_ids(ctx, job_id)))
    ctx.backend.refresh()
    missing: list[str] = []
    for start in range(0, len(expected), VERIFY_CHUNK):
        chunk = expected[start : start + VERIFY_CHUNK]
        present = ctx.backend.fetch(chunk)
        missing.extend(doc_id for doc_id in chunk if doc_id not in present)
    job = ctx.jobs.get(job_id)
    if missing:
        ctx.jobs.update(
            job_id,
            state="failed",
            finished_at=time.time(),
            message=f"{len(missing)} of {len(expected)} records are not in the index "
            f"(e.g. {', '.join(missing[:5])})",
        )
    elif job.done < len(expected):
        ctx.jobs.update(
            job_id,
            state="failed",
            finished_at=time.time(),
            message=f"counted {job.done} written records for {len(expected)} expected",
        )
    else:
        ctx.jobs.update(
            job_id,
            state="succeeded",
            finished_at=time.time(),
            message=f"{len(expected)} records indexed ({job.without_vector} without a vector)",
        )
