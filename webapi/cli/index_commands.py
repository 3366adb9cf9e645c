"""CLI: ``mapsearch index create|status|reindex|cleanup`` (the index lifecycle of the configured
backend, through ``open_lifecycle``) and ``mapsearch attach`` (semantic search on a library's
existing catalogue index)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from indexer.backends import open_lifecycle
from indexer.backends.base import BackendError, IndexLifecycle, LifecycleError
from indexer.settings import Settings, load_settings

es_url_option = click.option(
    "--es-url", default=None, help="Elasticsearch URL (default: MAPSEARCH_ES_URL)."
)
prefix_option = click.option(
    "--prefix", default=None, help="Index prefix (default: MAPSEARCH_ES_PREFIX)."
)
data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The embedded index's data dir (default: MAPSEARCH_DATA_DIR).",
)


def _settings(es_url: str | None, prefix: str | None) -> Settings:
    overrides: dict[str, Any] = {"backend": "elasticsearch"}
    if es_url:
        overrides["es_url"] = es_url
    if prefix:
        overrides["es_prefix"] = prefix
    return load_settings(overrides)


def lifecycle_settings(
    es_url: str | None, prefix: str | None, data_dir: Path | None = None
) -> Settings:
    """The configured backend's settings; ``--es-url``/``--prefix`` name Elasticsearch, and
    ``--data-dir`` the embedded backend."""
    if es_url or prefix:
        return _settings(es_url, prefix)
    return load_settings({"data_dir": data_dir} if data_dir else {})


@contextmanager
def lifecycle_errors(backend: str = "elasticsearch") -> Iterator[None]:
    """Every expected failure becomes one line on stderr and exit status 1."""
    try:
        yield
    except BackendError as exc:
        raise click.ClickException(f"{backend.capitalize()} cannot be used: {exc}") from None
    except (LifecycleError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def opened(settings: Settings) -> Iterator[IndexLifecycle]:
    """The settings' lifecycle, closed afterwards, its failures as one ``Error:`` line."""
    with lifecycle_errors(settings.backend):
        lifecycle = open_lifecycle(settings)
        try:
            yield lifecycle
        finally:
            lifecycle.close()


@contextmanager
def _progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar shown from the first progress report (a refusal prints only its error line)."""
    bars: list[tqdm] = []

    def update(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(desc=description, unit="doc"))
        bars[0].total = total
        bars[0].update(done - bars[0].n)

    try:
        yield update
    finally:
        for bar in bars:
            bar.close()


def register(cli: click.Group) -> None:
    """Attach this module's commands to the ``mapsearch`` group."""

    @cli.group("index", cls=click.Group)
    def index_group() -> None:
        """Index lifecycle: versioned physical indices (or files) behind one alias."""

    @index_group.command("create")
    @es_url_option
    @prefix_option
    @data_dir_option
    @click.option(
        "--mapping-version", type=int, default=None, help="es_mappings version (default: latest)."
    )
    @click.option(
        "--dims",
        type=int,
        default=None,
        help="Vector dimensions (default: taken from the first vector).",
    )
    def create(
        es_url: str | None,
        prefix: str | None,
        data_dir: Path | None,
        mapping_version: int | None,
        dims: int | None,
    ) -> None:
        """Create the first physical index and point the alias at it (no-op if it exists)."""
        with opened(lifecycle_settings(es_url, prefix, data_dir)) as lifecycle:
            index = lifecycle.create(mapping_version, dims)
            state = lifecycle.status()
        if index is None:
            click.echo(f"{state.alias} already exists → {state.current}")
        else:
            click.echo(f"created {index} behind {state.alias}")

    @index_group.command("status")
    @es_url_option
    @prefix_option
    @data_dir_option
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    def status(
        es_url: str | None, prefix: str | None, data_dir: Path | None, as_json: bool
    ) -> None:
        """Alias, live physical index, counts, mapping
        version, model, leftovers, running reindex."""
        with opened(lifecycle_settings(es_url, prefix, data_dir)) as lifecycle:
            state = lifecycle.status()
        body = {
            "backend": state.backend,
            "alias": state.alias,
            "index": state.current,
            "documents": state.documents,
            "with_vectors": state.with_vectors,
            "mapping_version": state.mapping_version,
            "analysis": state.analysis,
            "model_id": state.model_id,
            "dims": state.dims,
            "leftovers": state.leftovers,
            "reindex_running": state.reindex_running,
        }
        if as_json:
            click.echo(json.dumps(body, indent=2))
            return
        if state.current is None:
            click.echo(f"{state.alias}: no index yet (mapsearch index create)")
        for key, value in body.items():
            click.echo(f"{key:>16}: {value}")

    @index_group.command("reindex")
    @es_url_option
    @prefix_option
    @data_dir_option
    @click.option(
        "--mapping-version",
        type=int,
        default=None,
        help="Target es_mappings version (default: latest).",
    )
    def reindex(
        es_url: str | None, prefix: str | None, data_dir: Path | None, mapping_version: int | None
    ) -> None:
        """Copy every document (vectors included) into a new index, carry over the writes made
        meanwhile, then swap the alias atomically."""
        settings = lifecycle_settings(es_url, prefix, data_dir)
        with opened(settings) as lifecycle, _progress_bar("reindex") as update:
            result = lifecycle.reindex(mapping_version, progress=update)
        click.echo(
            f"reindexed {result.copied} documents: {result.old_index} → {result.new_index} "
            f"(mapping v{result.mapping_version}; {result.caught_up} writes and "
            f"{result.deletes_caught_up} deletes made meanwhile carried over; writers waited "
            f"{result.writes_blocked_s:.1f} s at the swap)"
        )

    @index_group.command("cleanup")
    @es_url_option
    @prefix_option
    @data_dir_option
    def cleanup(es_url: str | None, prefix: str | None, data_dir: Path | None) -> None:
        """Delete physical indices not behind the alias (left by failed reindexes)."""
        with opened(lifecycle_settings(es_url, prefix, data_dir)) as lifecycle:
            removed = lifecycle.cleanup()
        click.echo(f"deleted {len(removed)} index(es)" + "".join(f"\n  {name}" for name in removed))

    @cli.command("attach", with_appcontext=False)
    @es_url_option
    @click.option(
        "--config",
        "config_path",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        required=True,
        help="TOML naming the catalogue index and its fields (docs/elasticsearch.md).",
    )
    @click.option(
        "--limit", type=int, default=None, help="Embed at most this many documents (trial runs)."
    )
    def attach(es_url: str | None, config_path: Path, limit: int | None) -> None:
        """Add CLIP vectors to an existing catalogue index by partial update (resumable)."""
        from indexer.backends import es_attach
        from indexer.backends.es_client import make_client

        settings = _settings(es_url, None)
        with lifecycle_errors():
            config = es_attach.load_attach_config(config_path)
            client = make_client(settings.es_url, settings.es_timeout)
            embedder = es_attach.default_embedder(settings)
            with _progress_bar(f"attach {config.index}") as update:
                report = es_attach.attach(
                    client, config, embedder, settings, progress=update, limit=limit
                )
        click.echo(
            f"{config.index}: {report.embedded} embedded, {report.already_done} already had "
            f"{report.model_id} vectors, "
            f"{report.without_image} without image, {report.failed} failed"
        )
        for error in report.errors:
            click.echo(f"  {error}", err=True)
        if report.failed:
            raise SystemExit(1)
