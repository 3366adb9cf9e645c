"""CLI: ``jobs [list|show ID|cancel ID|reindex] [--watch]`` — the staff view of harvest and reindex
jobs."""

from __future__ import annotations

import json

import click
from flask import current_app

from celery_tasks.jobs import Job, JobNotFound
from celery_tasks.runner import read_job
from celery_tasks.runtime import pipeline_context
from webapi.cli.job_progress import describe, follow, report_and_exit


def _job(job_id: str) -> Job:
    try:
        return read_job(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]
    except JobNotFound:
        raise click.ClickException(f"no job {job_id!r} (see: mapsearch jobs list)") from None


def register(cli: click.Group) -> None:
    """Attach this module's commands to the ``mapsearch`` group."""

    @cli.group(invoke_without_command=True)
    @click.pass_context
    def jobs(ctx: click.Context) -> None:
        """Harvest and reindex jobs (default: list)."""
        if ctx.invoked_subcommand is None:
            ctx.invoke(list_jobs)

    @jobs.command("list")
    @click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    def list_jobs(limit: int = 20, as_json: bool = False) -> None:
        """Most recent jobs first."""
        recent = pipeline_context(current_app).jobs.recent(limit)
        if as_json:
            click.echo(json.dumps([job.to_dict() for job in recent], indent=2))
        elif not recent:
            click.echo("no jobs yet (start one with: mapsearch harvest ...)")
        for job in [] if as_json else recent:
            click.echo(describe(job))

    @jobs.command("show")
    @click.argument("job_id")
    @click.option("--watch", is_flag=True, help="Follow the job with a progress bar until it ends.")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    def show_job(job_id: str, watch: bool, as_json: bool) -> None:
        """One job: state, counts, rate, ETA and sample errors (exit 1 unless it succeeded)."""
        job = follow(lambda: _job(job_id)) if watch else _job(job_id)
        if as_json:
            click.echo(json.dumps(job.to_dict(), indent=2))
            return
        if not watch and job.state not in {"succeeded", "failed", "cancelled"}:
            click.echo(describe(job))
            return
        report_and_exit(job)

    @jobs.command("cancel")
    @click.argument("job_id")
    def cancel_job_command(job_id: str) -> None:
        """Stop a job: batches not yet written are skipped; what is indexed stays."""
        from celery_tasks.runner import cancel_job

        _job(job_id)
        job = cancel_job(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]
        click.echo(describe(job))

    @jobs.command("reindex")
    @click.option(
        "--id",
        "ids",
        multiple=True,
        help="Reindex only this document (repeatable; default: every document).",
    )
    @click.option(
        "--map-text",
        is_flag=True,
        help="Also read the words printed on each map (OCR; vectors kept; docs/map-text.md).",
    )
    @click.option(
        "--wait/--no-wait",
        default=True,
        show_default=True,
        help="With a broker: follow the job until it ends.",
    )
    def reindex_job(ids: tuple[str, ...], map_text: bool, wait: bool) -> None:
        """Re-derive documents from their stored records; a full reindex after a model change
        re-embeds into a new index and swaps it in (docs/pipeline.md)."""
        from celery_tasks.job_specs import ReindexSpec
        from webapi.cli.harvest_commands import run_job

        spec = (
            ReindexSpec(ids=list(dict.fromkeys(ids)), map_text=map_text)
            if ids
            else ReindexSpec(full=True, map_text=map_text)
        )
        run_job(spec, wait)
