"""Celery tasks: thin wrappers that run one stage by job/batch id, retry transient failures with
exponential backoff, and turn a permanent failure into a counted, reported batch failure."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

import redis.exceptions
import requests
from celery import Task, chain, shared_task

from celery_tasks import stages
from celery_tasks.runtime import pipeline_context
from indexer.backends.base import BackendError

log = logging.getLogger(__name__)

# Worth retrying: the thing will likely work later. Everything else fails the batch at once.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    BackendError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    requests.ConnectionError,
    requests.Timeout,
    ConnectionError,
    TimeoutError,
)


def retry_delay(settings_backoff: float, backoff_max: float, retries: int) -> float:
    """Exponential backoff with full jitter: a herd of retrying workers spreads out."""
    return random.uniform(0.5, 1.0) * min(backoff_max, settings_backoff * 2**retries)


def _run(task: Task, job_id: str, work: Callable[[], Any], give_up: Callable[[str], None]) -> Any:
    """Run a stage; on a transient error wait (exponential backoff) and run it again in place.

    Retrying in place rather than with ``task.retry()``: a retry is a new message, and when the
    failing part is Redis itself that message cannot be sent and the batch would be dropped.
    Here the original message stays unacknowledged until the stage succeeds or gives up."""
    settings = pipeline_context().settings
    for attempt in range(settings.task_max_retries + 1):
        try:
            return work()
        except TRANSIENT_ERRORS as exc:
            if attempt >= settings.task_max_retries:
                give_up(f"{type(exc).__name__}: {exc} (gave up after {attempt} retries)")
                raise
            delay = retry_delay(
                settings.task_retry_backoff, settings.task_retry_backoff_max, attempt
            )
            _show_retry(job_id, task.name, attempt + 1, settings.task_max_retries, delay, exc)
            log.warning(
                "job %s: %s failed transiently (%s); retry %d in %.1fs",
                job_id,
                task.name,
                exc,
                attempt + 1,
                delay,
            )
            time.sleep(delay)
        except Exception as exc:
            give_up(f"{type(exc).__name__}: {exc}")
            raise
    raise AssertionError("unreachable")


def _show_retry(
    job_id: str, stage: str, attempt: int, most: int, delay: float, exc: BaseException
) -> None:
    """Count the retry on the job and say it in its message, so staff see it as it happens (a
    store that is itself failing only costs the notice)."""
    jobs = pipeline_context().jobs
    try:
        retries = jobs.get(job_id).retries + 1
        jobs.update(
            job_id,
            retries=retries,
            message=f"retrying {stage.rsplit('.', 1)[-1]} ({attempt} of {most}) in "
            f"{delay:.0f} s after {type(exc).__name__}: {str(exc)[:160]}",
        )
    except Exception:  # noqa: BLE001 - the retry itself matters more than its notice
        log.debug("job %s: retry notice not recorded", job_id, exc_info=True)


def submit_batch(job_id: str, batch_id: str) -> None:
    """embed → (ocr, when the job reads map text) → index for one staged batch, each on its own
    queue."""
    steps = [embed_task.si(job_id, batch_id)]
    if stages.reads_map_text(pipeline_context(), job_id):
        steps.append(ocr_task.si(job_id, batch_id))
    chain(*steps, index_task.si(job_id, batch_id)).apply_async()


@shared_task(bind=True, name="celery_tasks.tasks.harvest_task")
def harvest_task(self: Task, job_id: str) -> bool:
    """Harvest the job's source into staged batches, submitting each one.

    A long harvest (LoC: hours) runs as a series of tasks, each stopping after half the broker's
    visibility timeout and continuing from the source's cursor in the next: one task never
    outlives the timeout, so Redis never hands a live harvest to a second worker."""
    ctx = pipeline_context()
    budget = ctx.settings.broker_visibility_timeout / 2
    finished = bool(
        _run(
            self,
            job_id,
            lambda: stages.harvest(ctx, job_id, submit_batch, budget_s=budget),
            lambda why: stages.fail_job(ctx, job_id, f"harvest failed: {why}"),
        )
    )
    if not finished:
        harvest_task.apply_async(args=[job_id])
    return finished


@shared_task(bind=True, name="celery_tasks.tasks.embed_task")
def embed_task(self: Task, job_id: str, batch_id: str) -> bool:
    """Fetch, decode and embed one batch."""
    ctx = pipeline_context()
    return bool(
        _run(
            self,
            job_id,
            lambda: stages.embed(ctx, job_id, batch_id),
            lambda why: stages.fail_batch(ctx, job_id, batch_id, why),
        )
    )


@shared_task(bind=True, name="celery_tasks.tasks.ocr_task")
def ocr_task(self: Task, job_id: str, batch_id: str) -> bool:
    """Read the words on one batch's map images."""
    ctx = pipeline_context()
    return bool(
        _run(
            self,
            job_id,
            lambda: stages.read_map_text(ctx, job_id, batch_id),
            lambda why: stages.fail_batch(ctx, job_id, batch_id, why),
        )
    )


@shared_task(bind=True, name="celery_tasks.tasks.index_task")
def index_task(self: Task, job_id: str, batch_id: str) -> None:
    """Write one batch to the index and count it."""
    ctx = pipeline_context()
    _run(
        self,
        job_id,
        lambda: stages.index(ctx, job_id, batch_id),
        lambda why: stages.fail_batch(ctx, job_id, batch_id, why),
    )
