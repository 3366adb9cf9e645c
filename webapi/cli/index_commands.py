"""CLI: index create|status|reindex|cleanup, attach (owned by the Elasticsearch work)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Attach this module's commands to the ``mapsearch`` group."""
