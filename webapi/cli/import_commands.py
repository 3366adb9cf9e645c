"""CLI: ``mapsearch import {csv,jsonl,aardvark} PATH`` — read records, embed their images, index."""

from __future__ import annotations

from pathlib import Path

import click

from indexer.importers import IMPORTERS, ImportReport, read_records
from indexer.pipeline import IndexReport, index_records
from webapi.cli.common import data_dir_option, friendly_errors, progress_bar, services_for


def print_samples(title: str, samples: list[str], count: int) -> None:
    """A few example messages of a counted problem."""
    if not count:
        return
    click.echo(f"{title} ({count}), e.g.:", err=True)
    for sample in samples[:5]:
        click.echo(f"  - {sample}", err=True)


def print_index_report(report: IndexReport) -> None:
    """The indexing outcome, problems with examples."""
    click.echo(f"index: {report.summary()}")
    print_samples(
        "images that could not be used", report.image_failure_samples, report.image_failures
    )
    print_samples(
        "documents the index refused", report.write_failure_samples, report.write_failures
    )


def register(cli: click.Group) -> None:
    """Attach this module's commands to the ``mapsearch`` group."""

    @cli.command("import", with_appcontext=False)
    @click.argument("kind", type=click.Choice(sorted(IMPORTERS)))
    @click.argument("path", type=click.Path(path_type=Path))
    @click.option(
        "--no-images",
        is_flag=True,
        help="Index the metadata only (keyword search); keep any stored vectors.",
    )
    @click.option(
        "--id-prefix", default=None, help="Prefix for record ids (default: the source name)."
    )
    @data_dir_option
    @friendly_errors
    def import_command(
        kind: str, path: Path, no_images: bool, id_prefix: str | None, data_dir: Path | None
    ) -> None:
        """Import CSV, JSON Lines or GeoBlacklight Aardvark records from PATH (a file; for aardvark
        also a folder of .json records), embed their images and index them."""
        if not path.exists():
            raise click.ClickException(f"cannot read {path}: no such file or folder")
        services = services_for(data_dir)
        # Naming the file configures its folder as a place local images may be read from.
        folder = path.resolve() if path.is_dir() else path.resolve().parent
        settings = services.settings.model_copy(
            update={"local_image_roots": [*services.settings.local_image_roots, folder]}
        )
        import_report = ImportReport(source=kind)
        records = read_records(kind, path, import_report, id_prefix)
        with progress_bar(f"importing {path.name}", "records") as progress:
            report = index_records(
                records,
                settings=settings,
                backend=services.backend,
                embedder=None if no_images else services.embedder,
                with_images=not no_images,
                progress=progress,
            )
        click.echo(import_report.summary())
        print_samples("broken records skipped", import_report.errors, import_report.broken)
        print_samples(
            "records with warnings", import_report.warning_samples, import_report.warnings
        )
        print_index_report(report)
        if import_report.ok == 0 and import_report.broken > 0:
            raise click.ClickException(f"no usable records in {path}")
