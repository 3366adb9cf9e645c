"""Starting jobs: on the Celery queues when a broker is configured, otherwise the same stages
in-process (inline for the CLI, on a small bounded pool for the web app) with the same job
progress. Also the one place that knows how to cancel a job, and that marks stuck jobs."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from flask import Flask

from celery_tasks import stages
from celery_tasks.app import celery_init_app
from celery_tasks.job_specs import JobSpec, spec_params
from celery_tasks.jobs import EXCLUSIVE_KINDS, FINAL_STATES, Job
from celery_tasks.runtime import pipeline_context
from indexer.pipeline import LoadedImages

log = logging.getLogger(__name__)

JobProgress = Callable[[Job], None]


class JobQueueFull(Exception):
    """The in-process pool has as many jobs running and waiting as it may; try again later."""


class BoundedJobPool:
    """The web app's in-process jobs: ``workers`` run at once, at most ``queue_size`` more wait
    (queued, in order); beyond that a new job is refused rather than a thread started."""

    def __init__(self, workers: int, queue_size: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mapsearch-job")
        self._capacity = threading.BoundedSemaphore(workers + queue_size)

    def reserve(self) -> None:
        """Take a place (running or waiting), or JobQueueFull."""
        if not self._capacity.acquire(blocking=False):
            raise JobQueueFull("too many jobs are running or waiting; try again when one ends")

    def release(self) -> None:
        """Give back a place taken by ``reserve`` that no job used."""
        self._capacity.release()

    def submit(self, work: Callable[[], object]) -> None:
        """Run ``work`` on the pool in a place taken by ``reserve``; the place is freed after."""

        def run() -> None:
            try:
                work()
            except Exception:  # the job records its own failure; this is for the log
                log.exception("in-process job failed")
            finally:
                self._capacity.release()

        self._executor.submit(run)


def job_pool(flask_app: Flask) -> BoundedJobPool:
    """This app's pool, made on first use from its settings."""
    pool = flask_app.extensions.get("mapsearch_job_pool")
    if pool is None:
        settings = pipeline_context(flask_app).settings
        pool = BoundedJobPool(settings.job_workers, settings.job_queue_size)
        flask_app.extensions["mapsearch_job_pool"] = pool
    return pool


def start_job(
    flask_app: Flask,
    spec: JobSpec,
    *,
    inline: bool = False,
    progress: JobProgress | None = None,
) -> Job:
    """Create a job and get it going; ``inline`` runs it to the end here when there is no broker.

    An exclusive kind (a reindex) with a job still active is refused (JobAlreadyActive) by the
    job store, atomically, whichever entry point asks; the web app's in-process jobs run on a
    bounded pool (JobQueueFull when it is full)."""
    ctx = pipeline_context(flask_app)
    kind = spec.kind
    if kind in EXCLUSIVE_KINDS:
        mark_stuck_jobs(flask_app)  # a stuck reindex must not block the next one forever
    background = not ctx.settings.broker_url and not inline
    if background:
        job_pool(flask_app).reserve()
    try:
        job = ctx.jobs.create(kind, spec_params(spec))
    except BaseException:
        if background:
            job_pool(flask_app).release()
        raise
    if ctx.settings.broker_url:
        celery_init_app(flask_app)
        from celery_tasks.tasks import harvest_task

        harvest_task.apply_async(args=[job.id])
    elif inline:
        run_in_process(flask_app, job.id, progress)
    else:
        job_pool(flask_app).submit(lambda: run_in_process(flask_app, job.id, None))
    return ctx.jobs.get(job.id)


def mark_stuck_jobs(flask_app: Flask, limit: int = 50) -> list[Job]:
    """Read the recent active jobs, which fails (marks) those stuck past ``job_stall_timeout``."""
    ctx = pipeline_context(flask_app)
    return [
        read_job(flask_app, job.id)
        for job in ctx.jobs.recent(limit)
        if job.state not in FINAL_STATES
    ]


def run_in_process(flask_app: Flask, job_id: str, progress: JobProgress | None = None) -> Job:
    """Harvest → embed → index batch by batch in this process, reporting after each batch.

    Batches are pipelined one deep: while the model embeds batch n, a background thread fetches
    and decodes batch n+1's images, so the model is not left waiting on the network or decoder."""
    ctx = pipeline_context(flask_app)
    pending: list[tuple[str, Future[LoadedImages | None]]] = []
    reads_map_text = stages.reads_map_text(ctx, job_id)

    def finish(batch_id: str, images: Future[LoadedImages | None]) -> None:
        try:
            if stages.embed(ctx, job_id, batch_id, images=images.result()) and (
                not reads_map_text or stages.read_map_text(ctx, job_id, batch_id)
            ):
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
