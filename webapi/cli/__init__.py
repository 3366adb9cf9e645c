"""The ``mapsearch`` command line: a Flask CLI group whose commands live one concern per module.

A command's module is imported only when that command runs (or shows its own help), so
``mapsearch --help`` and light commands never pay for the model runtime, Celery or the web app.
"""

from __future__ import annotations

import importlib

import click
from flask.cli import AppGroup, FlaskGroup

#: Top-level command → (module under ``webapi.cli`` that registers it, one-line help for the
#: command list). ``None``: a command the Flask app itself provides. A unit test checks that
#: each line here is the command's own short help.
COMMANDS: dict[str, tuple[str | None, str]] = {
    "demo": ("demo_commands", "Build a synthetic demo collection and serve it."),
    "serve": ("demo_commands", "Serve the web UI and JSON API."),
    "import": ("import_commands", "Import CSV, JSON Lines or GeoBlacklight Aardvark records."),
    "search": ("search_commands", "Search the index by words, an example image, or both."),
    "index": ("index_commands", "Elasticsearch index lifecycle: create, status, reindex, cleanup."),
    "attach": ("index_commands", "Add CLIP vectors to an existing catalogue index."),
    "backup": ("backup_commands", "Back up the index (SQLite online backup, ES snapshot)."),
    "restore": ("backup_commands", "Restore the index from a backup."),
    "harvest": ("harvest_commands", "Harvest a source into the index."),
    "worker": ("harvest_commands", "Run a Celery worker for the pipeline queues."),
    "jobs": ("job_commands", "Harvest and reindex jobs (default: list)."),
    "model": ("model_commands", "The CLIP model: export it to ONNX, show what serves it."),
    "finetune": ("model_commands", "Fine-tune a CLIP model on the collection's captions."),
    "weaken-model": ("model_commands", "Blend a checkpoint with random weights."),
    "make-gold": ("model_commands", "Generate a gold query set from a synthetic collection."),
    "eval": ("model_commands", "Run a gold query set through the real search path."),
    "calibrate": ("calibrate_commands", "Calibrate the model's similarity bar on a gold set."),
    "calibrate-steering": (
        "calibrate_commands",
        "Calibrate the default modifier weight on a development collection.",
    ),
    "train-demo-model": ("model_commands", "Reproduce the shipped demo CLIP."),
    "openapi": (None, "Export the OpenAPI document to the console or a file."),
}


class LazyCommands(FlaskGroup):
    """Lists the table above without importing anything; loads one module per command run."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name = COMMANDS[cmd_name][0]
        if module_name is None:  # the app's own commands: building the app is the price
            return super().get_command(ctx, cmd_name)
        module = importlib.import_module(f"webapi.cli.{module_name}")
        commands = AppGroup()  # registered as on this group: commands get the app context
        module.register(commands)
        return commands.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def default_app_factory() -> object:
    """The app a command gets when nothing else was handed in (settings from ``MAPSEARCH_*``)."""
    from webapi.app import create_app

    return create_app()


@click.group(
    cls=LazyCommands,
    create_app=default_app_factory,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
)
def cli() -> None:
    """mapsearch: CLIP-powered search for digitized map collections."""


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="mapsearch")
