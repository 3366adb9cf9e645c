"""CLI: ``mapsearch index create|status|reindex|cleanup`` (the Elasticsearch index lifecycle) and
``mapsearch attach`` (semantic search on a library's existing catalogue index)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from indexer.backends.base import BackendError
from indexer.settings import Settings, load_settings

es_url_option = click.option(
    "--es-url", default=None, help="Elasticsearch URL (default: MAPSEARCH_ES_URL)."
)
prefix_option = click.option(
    "--prefix", default=None, help="Index prefix (default: MAPSEARCH_ES_PREFIX)."
)


def _settings(es_url: str | None, prefix: str | None) -> Settings:
    overrides: dict[str, Any] = {"backend": "elasticsearch"}
    if es_url:
        overrides["es_url"] = es_url
    if prefix:
        overrides["es_prefix"] = prefix
    return load_settings(overrides)


@contextmanager
def _reasons() -> Iterator[None]:
    """Every expected failure becomes one line on stderr and exit status 1."""
    from indexer.backends.es_reindex import ReindexError

    try:
        yield
    except BackendError as exc:
        raise click.ClickException(f"Elasticsearch cannot be used: {exc}") from None
    except (ReindexError, ValueError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None


def _progress_bar(description: str) -> tuple[tqdm, Callable[[int, int], None]]:
    bar = tqdm(desc=description, unit="doc")

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return bar, update


def register(cli: click.Group) -> None:
    """Attach this module's commands to the ``mapsearch`` group."""

    @cli.group("index", cls=click.Group)
    def index_group() -> None:
        """Elasticsearch index lifecycle: versioned physical indices behind one alias."""

    @index_group.command("create")
    @es_url_option
    @prefix_option
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
        es_url: str | None, prefix: str | None, mapping_version: int | None, dims: int | None
    ) -> None:
        """Create the first physical index and point the alias at it (no-op if it exists)."""
        from indexer.backends import es_lifecycle
        from indexer.backends.es_client import make_client

        settings = _settings(es_url, prefix)
        with _reasons():
            client = make_client(settings.es_url, settings.es_timeout)
            existing = es_lifecycle.current_index(client, settings.es_prefix)
            if existing:
                click.echo(
                    f"{es_lifecycle.alias_name(settings.es_prefix)} already exists → {existing}"
                )
                return
            index = es_lifecycle.create_index(
                client, settings.es_prefix, version=mapping_version, dims=dims
            )
            es_lifecycle.point_alias(client, settings.es_prefix, index, None)
            click.echo(f"created {index} behind {es_lifecycle.alias_name(settings.es_prefix)}")

    @index_group.command("status")
    @es_url_option
    @prefix_option
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    def status(es_url: str | None, prefix: str | None, as_json: bool) -> None:
        """Alias, live physical index, counts, mapping version, model, leftovers, running reindex."""
        from indexer.backends import es_lifecycle, es_reindex
        from indexer.backends.es_client import make_client

        settings = _settings(es_url, prefix)
        with _reasons():
            client = make_client(settings.es_url, settings.es_timeout)
            state = es_lifecycle.index_status(client, settings.es_prefix)
            lock = es_reindex.lock_holder(client, settings.es_prefix)
        body = {
            "alias": state.alias,
            "index": state.current,
            "documents": state.documents,
            "with_vectors": state.with_vectors,
            "mapping_version": state.meta.get("mapping_version"),
            "analysis": state.meta.get("analysis"),
            "model_id": state.meta.get("model_id"),
            "dims": state.meta.get("dims"),
            "leftovers": state.leftovers,
            "reindex_running": lock,
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
    @click.option(
        "--mapping-version",
        type=int,
        default=None,
        help="Target es_mappings version (default: latest).",
    )
    def reindex(es_url: str | None, prefix: str | None, mapping_version: int | None) -> None:
        """Copy every document (vectors included) into a new index, then swap the alias atomically."""
        from indexer.backends import es_reindex
        from indexer.backends.es_client import make_client

        settings = _settings(es_url, prefix)
        bar, update = _progress_bar("reindex")
        with _reasons(), bar:
            client = make_client(settings.es_url, settings.es_timeout)
            result = es_reindex.reindex(
                client, settings.es_prefix, mapping_version, progress=update
            )
        click.echo(
            f"reindexed {result.copied} documents: {result.old_index} → {result.new_index} (mapping v{result.mapping_version})"
        )

    @index_group.command("cleanup")
    @es_url_option
    @prefix_option
    def cleanup(es_url: str | None, prefix: str | None) -> None:
        """Delete physical indices not behind the alias (left by failed reindexes)."""
        from indexer.backends import es_reindex
        from indexer.backends.es_client import make_client

        settings = _settings(es_url, prefix)
        with _reasons():
            removed = es_reindex.cleanup(
                make_client(settings.es_url, settings.es_timeout), settings.es_prefix
            )
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
        with _reasons():
            config = es_attach.load_attach_config(config_path)
            client = make_client(settings.es_url, settings.es_timeout)
            embedder = es_attach.default_embedder(settings)
            bar, update = _progress_bar(f"attach {config.index}")
            with bar:
                report = es_attach.attach(
                    client, config, embedder, settings, progress=update, limit=limit
                )
        click.echo(
            f"{config.index}: {report.embedded} embedded, {report.already_done} already had {report.model_id} vectors, "
            f"{report.without_image} without image, {report.failed} failed"
        )
        for error in report.errors:
            click.echo(f"  {error}", err=True)
        if report.failed:
            raise SystemExit(1)
