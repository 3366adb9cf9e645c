"""What the demo/serve/import/search commands share: the app for a ``--data-dir``, tqdm progress,
and turning the typed errors of every layer into one clear line and a non-zero exit."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask, current_app
from pydantic import ValidationError
from tqdm import tqdm

from indexer.backends import open_lifecycle
from webapi.errors import error_detail, error_kind
from webapi.services import Services, services_of

F = TypeVar("F", bound=Callable[..., Any])

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=(
        "Where the index, images and uploads live (default: MAPSEARCH_DATA_DIR or "
        "./mapsearch-data)."
    ),
)


def app_for(data_dir: Path | None) -> Flask:
    """The current app, or a fresh one whose settings point at ``data_dir``."""
    if data_dir is None:
        return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]
    from webapi.app import create_app

    return create_app({"data_dir": data_dir})


def services_for(data_dir: Path | None) -> Services:
    """Backend, model and search service for ``data_dir`` (default: ``MAPSEARCH_*``), without
    building the web app, so commands that only search or index start fast. An app handed to
    the command line through ``ScriptInfo`` (tests, a host application) is used as it is."""
    from flask.cli import ScriptInfo

    from indexer.settings import load_settings
    from webapi.cli import default_app_factory

    info = click.get_current_context().find_object(ScriptInfo)
    if data_dir is None and info is not None and info.create_app not in (None, default_app_factory):
        return services_of(info.load_app())
    return Services(load_settings({"data_dir": data_dir} if data_dir is not None else {}))


def require_index(services: Services) -> None:
    """Refuse to query an index that does not exist (the embedded one would be created empty)."""
    settings = services.settings
    lifecycle = open_lifecycle(settings)
    try:
        exists, name = lifecycle.exists(), lifecycle.name
    finally:
        lifecycle.close()
    if not exists:
        raise click.ClickException(
            f"no index at {name}; build one with 'mapsearch demo' or 'mapsearch import', "
            "or point --data-dir / MAPSEARCH_DATA_DIR at an existing one"
        )


def describe_validation(exc: ValidationError) -> str:
    """pydantic errors as 'field: message' lines, in the CLI's option names."""
    lines = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        where = ".".join(str(part) for part in error.get("loc", ())) or "input"
        lines.append(f"--{where.replace('_', '-')}: {error.get('msg')}")
    return "; ".join(lines)


def friendly_errors(func: F) -> F:
    """Typed errors → ``Error: <message>`` and exit 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except click.ClickException:
            raise
        except ValidationError as exc:
            raise click.ClickException(describe_validation(exc)) from None
        except (FileNotFoundError, IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"cannot read input: {exc}") from None
        except Exception as exc:
            kind = error_kind(exc)  # the same table as the API's statuses and titles
            if kind is None:
                raise
            raise click.ClickException(f"{kind.title}: {error_detail(exc, kind)}") from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def progress_bar(
    description: str, unit: str, total: int | None = None
) -> Iterator[Callable[[int, int | None], None]]:
    """A tqdm bar driven by ``(done, total)`` callbacks."""
    with tqdm(total=total, desc=description, unit=unit, dynamic_ncols=True, leave=True) as bar:

        def update(done: int, new_total: int | None = None) -> None:
            if new_total is not None and bar.total != new_total:
                bar.total = new_total
                bar.refresh()
            bar.update(done - bar.n)

        yield update
