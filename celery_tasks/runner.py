"""Starting jobs: on the Celery queues when a broker is configured, otherwise the same stages
in-process (inline for the CLI, on a background thread for the web app) with the same job
progress. Also the one place that knows how to cancel a job."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from flask import Flask

from celery_tasks import stages
from celery_tasks.app import celery_init_app
from celery_tasks.jobs import FINAL_STATES, Job
from celery_tasks.runtime import pipeline_context
from celery_tasks.sources import SOURCES, SourceError
from indexer.pipeline import LoadedImages

log = logging.getLogger(__name__)

JobProgress = Callable[[Job], None]


def validate_params(params: dict[str, Any]) -> None:
    """Refuse, before queuing, a job whose source cannot be opened."""
    source = params.get("source")
    if source not in SOURCES:
        raise SourceError(f"unknown source {source!r}; one of {', '.join(SOURCES)}")
    required = {"records": "path", "iiif": "url", "index": "ids"}.get(str(source))
    if required and not params.get(required) and not (source == "index" and params.get("full")):
        raise SourceError(f"source {source!r} needs {required!r}")
    limit = params.get("limit")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise SourceError("limit must be a positive integer")


def start_job(
    flask_app: Flask,
    kind: str,
    params: dict[str, Any],
    *,
    inline: bool = False,
    progress: JobProgress | None = None,
) -> Job:
    """Create a job and get it going; ``inline`` runs it to the end here when there is no broker."""
    validate_params(params)
    ctx = pipeline_context(flask_app)
    job = ctx.jobs.create(kind, params)
    if ctx.settings.broker_url:
        celery_init_app(flask_app)
        from celery_tasks.tasks import harvest_task

        harvest_task.apply_async(args=[job.id])
    elif inline:
        run_in_process(flask_app, job.id, progress)
    else:
        thread = threading.Thread(
            target=run_in_process,
            args=(flask_app, job.id, None),
            name=f"mapsearch-job-{job.id}",
            daemon=True,
        )
        thread.start()
    return ctx.jobs.get(job.id)


def run_in_process(flask_app: Flask, job_id: str, progress: JobProgress | None = None) -> Job:
    """Harvest → embed → index batch by batch in this process, reporting after each batch.

    Batches are pipelined one deep: while the model embeds batch n, a background thread fetches
    and decodes batch n+1's images, so the model is not left waiting on the network or decoder."""
    ctx = pipeline_context(flask_app)
    pending: list[tuple[str, Future[LoadedImages | None]]] = []

    def finish(batch_id: str, images: Future[LoadedImages | None]) -> None:
        try:
            if stages.embed(ctx, job_id, batch_id, images=images.result()):
                stages.index(ctx, job_id, batch_id)
        except Exception as exc:  # one bad batch is counted and reported; the job goes on
            log.exception("job %s: batch %s failed", job_id, batch_id)
            stages.fail_batch(ctx, job_id, batch_id, f"{type(exc).__name__}: {exc}")
        if progress is not None:
            progress(ctx.jobs.get(job_id))

    def submit(job_id: str, batch_id: str) -> None:
        pending.append((batch_id, loader.submit(stages.prefetch_images, ctx, job_id, batch_id)))
        while len(pending) > 1:
            finish(*pending.pop(0))

    with (
        flask_app.app_context(),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch") as loader,
    ):
        try:
            stages.harvest(ctx, job_id, submit)
        except Exception as exc:
            log.exception("job %s: harvest failed", job_id)
            stages.fail_job(ctx, job_id, f"harvest failed: {type(exc).__name__}: {exc}")
        while pending:
            finish(*pending.pop(0))
        stages.maybe_finalize(ctx, job_id)
    job = ctx.jobs.get(job_id)
    if progress is not None:
        progress(job)
    return job


def read_job(flask_app: Flask, job_id: str) -> Job:
    """A job as staff see it; a running job without progress for ``job_stall_timeout`` is failed
    here, loudly (its batches were lost: workers gone, or Redis lost its data)."""
    ctx = pipeline_context(flask_app)
    job = ctx.jobs.get(job_id)
    if job.state not in FINAL_STATES and job.idle_seconds > ctx.settings.job_stall_timeout:
        stages.fail_job(
            ctx,
            job_id,
            f"no progress for {job.idle_seconds:.0f} s "
            f"({job.batches_done}/{job.batches_total} batches counted): batches were lost; "
            f"start the job again (indexed records are kept)",
        )
        job = ctx.jobs.get(job_id)
    return job


def cancel_job(flask_app: Flask, job_id: str) -> Job:
    """Ask running tasks to stop; queued batches are skipped when they come up."""
    ctx = pipeline_context(flask_app)
    job = ctx.jobs.get(job_id)
    if job.state not in FINAL_STATES:
        ctx.jobs.update(
            job_id,
            cancel_requested=True,
            state="cancelled",
            finished_at=time.time(),
            message="cancelled by staff",
        )
    return ctx.jobs.get(job_id)
