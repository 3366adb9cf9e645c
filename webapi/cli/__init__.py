"""The ``mapsearch`` command line: a Flask CLI group whose commands live one concern per module."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from webapi.cli import (
    backup_commands,
    demo_commands,
    harvest_commands,
    import_commands,
    index_commands,
    job_commands,
    model_commands,
    search_commands,
)


def _create_app() -> object:
    from webapi.app import create_app

    return create_app()


@click.group(
    cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False
)
def cli() -> None:
    """mapsearch: CLIP-powered search for digitized map collections."""


for _module in (
    demo_commands,
    import_commands,
    search_commands,
    index_commands,
    harvest_commands,
    job_commands,
    model_commands,
    backup_commands,
):
    _module.register(cli)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="mapsearch")
