"""Showing a job in a terminal: a tqdm bar that follows done/failed/total until the job ends."""

from __future__ import annotations

import time
from collections.abc import Callable

import click
from tqdm import tqdm

from celery_tasks.jobs import FINAL_STATES, Job


def describe(job: Job) -> str:
    """One line: id, kind, state and counts."""
    rate = f"{job.rate:.1f}/s" if job.rate else "-"
    eta = f"{job.eta_seconds:.0f}s" if job.eta_seconds is not None else "-"
    return (
        f"{job.id}  {job.kind:<8} {job.state:<10} done {job.done}/{job.total}  failed {job.failed} "
        " "
        f"no-vector {job.without_vector}  rate {rate}  eta {eta}  {job.message}"
    )


class JobBar:
    """A progress bar fed with job snapshots (from callbacks or polling)."""

    def __init__(self, job_id: str) -> None:
        self.bar = tqdm(total=0, unit="rec", desc=f"job {job_id}", dynamic_ncols=True)

    def update(self, job: Job) -> None:
        """Move the bar to the job's counts."""
        if job.total != self.bar.total:
            self.bar.total = job.total
        self.bar.n = job.processed
        self.bar.set_postfix(state=job.state, failed=job.failed, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        """Finish the bar."""
        self.bar.close()


def follow(read: Callable[[], Job], interval: float = 1.0) -> Job:
    """Poll a job until it reaches a final state, showing a bar; returns the final job."""
    job = read()
    bar = JobBar(job.id)
    try:
        while True:
            bar.update(job)
            if job.state in FINAL_STATES:
                return job
            time.sleep(interval)
            job = read()
    finally:
        bar.close()


def report_and_exit(job: Job) -> None:
    """Print the outcome and the error sample; exit non-zero unless the job succeeded."""
    click.echo(describe(job))
    for error in job.errors:
        click.echo(f"  error: {error}", err=True)
    if job.state != "succeeded":
        raise SystemExit(1)
