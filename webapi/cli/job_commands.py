"""CLI: jobs (owned by the pipeline work)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Attach this module's commands to the ``mapsearch`` group."""
