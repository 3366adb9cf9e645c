"""CLI: ``mapsearch backup`` / ``mapsearch restore`` of the configured backend's index while it
serves (embedded: SQLite online backup into a folder; Elasticsearch: snapshots in an ``fs``
repository under the nodes' ``path.repo``)."""

from __future__ import annotations

from pathlib import Path

import click

from webapi.cli.index_commands import (
    data_dir_option,
    es_url_option,
    lifecycle_settings,
    opened,
    prefix_option,
)

name_option = click.option(
    "--name",
    default=None,
    help=(
        "Backup (snapshot) name (backup default: mapsearch-<UTC time>; restore default: the "
        "newest)."
    ),
)
location_argument = click.argument("location")


def register(cli: click.Group) -> None:
    """Attach this module's commands to the ``mapsearch`` group."""

    @cli.command("backup", with_appcontext=False)
    @location_argument
    @name_option
    @es_url_option
    @prefix_option
    @data_dir_option
    def backup(
        location: str,
        name: str | None,
        es_url: str | None,
        prefix: str | None,
        data_dir: Path | None,
    ) -> None:
        """Back up the serving index to LOCATION (embedded: a folder; Elasticsearch: a folder under
        every node's path.repo, registered as an fs snapshot repository)."""
        with opened(lifecycle_settings(es_url, prefix, data_dir)) as lifecycle:
            outcome = lifecycle.backup(location, name)
        click.echo(
            f"backed up {outcome.documents} documents of {outcome.index} as {outcome.name} in "
            f"{outcome.location}"
        )

    @cli.command("restore", with_appcontext=False)
    @location_argument
    @name_option
    @es_url_option
    @prefix_option
    @data_dir_option
    def restore(
        location: str,
        name: str | None,
        es_url: str | None,
        prefix: str | None,
        data_dir: Path | None,
    ) -> None:
        """Put a backup from LOCATION behind the alias (the newest unless --name); the index it
        replaces serves until the atomic swap."""
        with opened(lifecycle_settings(es_url, prefix, data_dir)) as lifecycle:
            outcome = lifecycle.restore(location, name)
        click.echo(
            f"restored {outcome.name} ({outcome.documents} documents) from {outcome.location}; now "
            f"serving {outcome.index}"
        )
