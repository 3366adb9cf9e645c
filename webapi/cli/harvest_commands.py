"""CLI: ``harvest loc|iiif|records`` (start a harvest job and follow it) and ``worker`` (a Celery
worker for the harvest/embed/index queues)."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app

from celery_tasks.app import QUEUES
from celery_tasks.job_specs import HarvestIiifSpec, HarvestLocSpec, ImportRecordsSpec, JobSpec
from celery_tasks.runtime import pipeline_context
from celery_tasks.sources import SourceError
from webapi.cli.common import friendly_errors
from webapi.cli.job_progress import JobBar, follow, report_and_exit


def _run_harvest(spec: JobSpec, wait: bool) -> None:
    run_job(spec, wait)


@friendly_errors  # a job already running, a full disk...: one Error: line, by the error table
def run_job(spec: JobSpec, wait: bool) -> None:
    """Start a job: queued (and followed with ``wait``) with a broker, else run here with a bar."""
    from celery_tasks.runner import read_job, start_job

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    ctx = pipeline_context(app)
    try:
        if ctx.settings.broker_url:
            job = start_job(app, spec)
            click.echo(f"job {job.id} queued on {ctx.settings.broker_url.split('@')[-1]}")
            if not wait:
                return
            job = follow(lambda: read_job(app, job.id))
        else:
            bar: JobBar | None = None

            def progress(snapshot: Any) -> None:
                nonlocal bar
                bar = bar or JobBar(snapshot.id)
                bar.update(snapshot)

            job = start_job(app, spec, inline=True, progress=progress)
            if bar is not None:
                bar.close()
    except SourceError as exc:
        raise click.UsageError(str(exc)) from exc
    report_and_exit(job)


def _options(function: Any) -> Any:
    function = click.option("--limit", type=click.IntRange(min=1), help="Stop after N records.")(
        function
    )
    function = click.option(
        "--no-images", is_flag=True, help="Index metadata only (no image fetch or embedding)."
    )(function)
    function = click.option(
        "--wait/--no-wait",
        default=True,
        show_default=True,
        help="With a broker: follow the job until it ends.",
    )(function)
    return function


def _validate_facet(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...]:
    for value in values:
        name, _, facet_value = value.partition(":")
        if not name or not facet_value:
            raise click.BadParameter(f"{value!r} is not NAME:VALUE")
    return values


def _validate_dates(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    start, _, end = value.partition("/")
    if not (start.isdigit() and end.isdigit() and len(start) == len(end) == 4 and start <= end):
        raise click.BadParameter(f"{value!r} is not FROM/TO years, e.g. 1700/1799")
    return value


def register(cli: click.Group) -> None:
    """Attach this module's commands to the ``mapsearch`` group."""

    @cli.group()
    def harvest() -> None:
        """Harvest a source into the index (Celery with
        MAPSEARCH_BROKER_URL, in-process without)."""

    @harvest.command("loc")
    @click.option("--collection", help="LoC collection slug, e.g. 'civil-war-maps'.")
    @click.option("--query", help="Search terms.")
    @click.option(
        "--facet",
        "facets",
        multiple=True,
        callback=_validate_facet,
        help="NAME:VALUE (repeatable).",
    )
    @click.option("--dates", callback=_validate_dates, help="FROM/TO years, e.g. 1700/1799.")
    @_options
    @friendly_errors
    def harvest_loc(
        collection: str | None,
        query: str | None,
        facets: tuple[str, ...],
        dates: str | None,
        limit: int | None,
        no_images: bool,
        wait: bool,
    ) -> None:
        """The Library of Congress JSON API, within its published rate limits."""
        spec = HarvestLocSpec(
            collection=collection or None,
            query=query or None,
            facets=list(facets),
            dates=dates or None,
            limit=limit or None,
            with_images=not no_images,
        )
        _run_harvest(spec, wait)

    @harvest.command("iiif")
    @click.argument("url")
    @_options
    @friendly_errors
    def harvest_iiif(url: str, limit: int | None, no_images: bool, wait: bool) -> None:
        """A IIIF Presentation 2.1/3.0 manifest or collection."""
        _run_harvest(HarvestIiifSpec(url=url, limit=limit or None, with_images=not no_images), wait)

    @harvest.command("records")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @_options
    @friendly_errors
    def harvest_records(path: str, limit: int | None, no_images: bool, wait: bool) -> None:
        """A JSON Lines file of MapRecords (one per line) through the same pipeline."""
        from pathlib import Path

        spec = ImportRecordsSpec(
            path=str(Path(path).resolve()), limit=limit or None, with_images=not no_images
        )
        _run_harvest(spec, wait)

    @cli.command()
    @click.option(
        "--queues",
        "-Q",
        default=",".join(QUEUES),
        show_default=True,
        help="Comma-separated queues: harvest, embed (GPU/CPU model), ocr (map text; needs "
        "scripts/install-ocr.sh), index (writes).",
    )
    @click.option("--concurrency", "-c", type=click.IntRange(min=1), default=1, show_default=True)
    @click.option(
        "--pool",
        type=click.Choice(["prefork", "solo", "threads"]),
        default="prefork",
        show_default=True,
    )
    @click.option("--loglevel", "-l", default="info", show_default=True)
    def worker(queues: str, concurrency: int, pool: str, loglevel: str) -> None:
        """Run a Celery worker (the model is loaded once per worker process, on its first batch)."""
        from celery_tasks.app import celery_init_app

        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if not pipeline_context(app).settings.broker_url:
            raise click.UsageError(
                "a worker needs a broker: set MAPSEARCH_BROKER_URL=redis://host:6379/0"
            )
        unknown = [name for name in queues.split(",") if name not in QUEUES]
        if unknown:
            raise click.BadParameter(
                f"unknown queue(s) {', '.join(unknown)}; use {', '.join(QUEUES)}",
                param_hint="--queues",
            )
        celery_init_app(app).worker_main(
            ["worker", "-Q", queues, "-c", str(concurrency), "-P", pool, "-l", loglevel]
        )
