"""CLI: ``mapsearch demo`` (draw the synthetic collection, embed, index, serve) and
``mapsearch serve`` (serve an existing index)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from indexer.backends import open_lifecycle
from indexer.backends.base import BackendError
from webapi.cli.common import app_for, data_dir_option, friendly_errors, progress_bar
from webapi.cli.import_commands import print_index_report
from webapi.services import Services, services_of

DEFAULT_DEMO_SIZE = 500
DEFAULT_LARGE_DEMO_SIZE = 50  # a large sheet takes seconds to draw, not milliseconds
DEFAULT_SEED = 1
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

host_option = click.option(
    "--host", default=DEFAULT_HOST, show_default=True, help="Interface to listen on."
)
port_option = click.option(
    "--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True
)


def build_demo(app: Flask, size: int, seed: int, large: bool = False) -> None:
    """Draw (or re-use) the demo maps under the data dir, then embed and index them."""
    from indexer.pipeline import index_records
    from indexer.synthetic import write_demo_collection

    services = services_of(app)
    data_dir = services.settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    with progress_bar("drawing demo maps", "maps", total=size) as progress:
        records = list(write_demo_collection(data_dir, size, seed, progress, large=large))
    rebuild_if_other_model(services, [record.id for record in records])
    with progress_bar("embedding and indexing", "maps", total=len(records)) as progress:
        report = index_records(
            records,
            settings=services.settings,
            backend=services.backend,
            embedder=services.embedder,
            progress=progress,
        )
    print_index_report(report)


def rebuild_if_other_model(services: Services, demo_ids: list[str]) -> None:
    """A demo index made by another model (say, before the trained demo model shipped) cannot take
    the new vectors: when it holds nothing but demo maps, start it afresh."""
    settings, backend = services.settings, services.backend
    indexed_model = backend.model_id()
    if indexed_model is None or indexed_model == services.embedder.model_id:
        return
    lifecycle = open_lifecycle(settings)
    if not lifecycle.discardable or backend.info().documents > len(backend.fetch(demo_ids)):
        lifecycle.close()
        raise click.ClickException(
            f"the index in {settings.data_dir} was built with model {indexed_model!r} and holds "
            "more than the demo maps; "
            "build the demo in another --data-dir"
        )
    click.echo(
        f"the demo index was built with model {indexed_model!r}; rebuilding it with "
        f"{services.embedder.model_id!r}"
    )
    services.close()
    try:
        lifecycle.discard()
    finally:
        lifecycle.close()


def serve(app: Flask, host: str, port: int) -> None:
    """Serve ``app`` with werkzeug's threaded server (gunicorn is the production server)."""
    from werkzeug.serving import run_simple

    settings = services_of(app).settings
    lifecycle = open_lifecycle(settings)
    try:
        exists, name = lifecycle.exists(), lifecycle.name
    except BackendError:
        exists, name = True, lifecycle.name  # the server answers 503 until the cluster is back
    finally:
        lifecycle.close()
    if not exists:
        click.echo(
            f"note: no index at {name} yet; 'mapsearch demo' or 'mapsearch import' builds one",
            err=True,
        )
    # warm before listening: the first search a user sends must not pay for opening the index
    # and loading the model
    readiness = services_of(app).container.warm_up()
    if readiness.state == "failed":
        click.echo(f"warning: {readiness.detail} (keyword search still works)", err=True)
    else:
        click.echo(f"index and model ready in {readiness.seconds:.1f} s")
    click.echo(f"mapsearch is serving {settings.data_dir} at http://{host}:{port}/  (Ctrl+C stops)")
    run_simple(host, port, app, threaded=True, use_reloader=False)


def register(cli: click.Group) -> None:
    """Attach this module's commands to the ``mapsearch`` group."""

    @cli.command("demo")
    @click.option(
        "--size",
        type=click.IntRange(1, 100_000),
        default=None,
        help=(
            f"Number of demo maps [default: {DEFAULT_DEMO_SIZE}, {DEFAULT_LARGE_DEMO_SIZE} with "
            "--large]."
        ),
    )
    @click.option(
        "--large",
        is_flag=True,
        help="Large-format maps (longer side 2,048-4,096 px, small ornaments and lettering) "
        "with ornament and label boxes in ground_truth.jsonl; use its own --data-dir.",
    )
    @click.option(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        show_default=True,
        help="The synthetic world's seed.",
    )
    @click.option("--no-serve", is_flag=True, help="Build the demo index and exit.")
    @host_option
    @port_option
    @data_dir_option
    @friendly_errors
    def demo_command(
        size: int | None,
        large: bool,
        seed: int,
        no_serve: bool,
        host: str,
        port: int,
        data_dir: Path | None,
    ) -> None:
        """Build a synthetic demo collection (drawn maps + metadata), embed and index it, serve it.

        Re-running is cheap: unchanged images keep their vectors."""
        if size is None:
            size = DEFAULT_LARGE_DEMO_SIZE if large else DEFAULT_DEMO_SIZE
        app = app_for(data_dir)
        build_demo(app, size, seed, large=large)
        if no_serve:
            click.echo(
                f"demo index ready in {services_of(app).settings.data_dir}; serve it with: "
                "mapsearch serve"
            )
            return
        serve(app, host, port)

    @cli.command("serve")
    @host_option
    @port_option
    @data_dir_option
    @friendly_errors
    def serve_command(host: str, port: int, data_dir: Path | None) -> None:
        """Serve the web UI and JSON API (development server; use gunicorn in production)."""
        serve(app_for(data_dir), host, port)
