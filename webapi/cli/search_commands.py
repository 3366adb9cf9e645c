"""CLI: ``mapsearch search`` — the API's search from a terminal (a table, or ``--json`` for exactly
the API's response body)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import click
from PIL import Image

from indexer.search_surface import FACET_NAMES, FILTER_FACETS, Sort
from webapi.api.serialize import search_response_json
from webapi.cli.common import data_dir_option, friendly_errors, require_index, services_for
from webapi.search.params import SearchParams
from webapi.search.totals import Totals, total_text
from webapi.services import Services

URL_PATTERN = re.compile(r"^https?://", re.IGNORECASE)


def example_image(
    spec: str | None, services: Services
) -> tuple[dict[str, Any], Image.Image | None]:
    """``--image`` as a search field (URL or item id) or a decoded local file."""
    if not spec:
        return {}, None
    if URL_PATTERN.match(spec):
        return {"image_url": spec}, None
    path = Path(spec).expanduser()
    if path.is_file():
        return {}, services.image_resolver.from_bytes(path.read_bytes())
    if path.suffix.lower() in {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".gif"}:
        raise click.ClickException(f"--image {spec}: no such file")
    return {"image_id": spec}, None


def print_table(body: dict[str, Any]) -> None:
    """Hits as a readable table, then facets."""
    hits = body["hits"]
    first = (body["page"] - 1) * body["size"] + 1
    click.echo(
        f"{total_text(Totals(body['total'], body['total_kind'], body['reachable'], False))} "
        f"({body['took_ms']:.0f} ms); showing "
        f"{first}-{first + len(hits) - 1 if hits else first - 1}"
    )
    for rank, hit in enumerate(hits, start=first):
        year = hit.get("date") or (
            str(hit["year_start"]) if hit.get("year_start") is not None else ""
        )
        title = hit["title"] if len(hit["title"]) <= 70 else hit["title"][:67] + "..."
        click.echo(f"{rank:>4}. {hit['score']:8.4f}  {hit['id']:<36} {year[:12]:<12} {title}")
        explain = hit.get("explain")
        if explain:
            keyword, semantic = explain["keyword"], explain["semantic"]
            click.echo(
                f"        keyword rank {keyword.get('rank')} score {keyword.get('score')}; "
                f"semantic rank {semantic.get('rank')} score {semantic.get('score')}; fused "
                f"{explain['fused']:.5f}"
            )
    if body.get("window_notice"):
        click.echo(body["window_notice"])
    for name, buckets in body.get("facets", {}).items():
        values = ", ".join(f"{bucket['value']} ({bucket['count']})" for bucket in buckets[:10])
        click.echo(f"{name}: {values}")


def facet_filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """One repeatable ``--NAME`` option per filter facet of the search surface (``--place``,
    ``--found-in``, ...); a facet with a closed vocabulary offers only its values."""
    for facet in reversed(FILTER_FACETS):  # decorators apply bottom-up: keep the table's order
        choice = click.Choice(list(facet.choices)) if facet.choices else None
        command = click.option(
            f"--{facet.name.replace('_', '-')}",
            facet.name,
            multiple=True,
            type=choice,
            help=facet.help,
        )(command)
    return command


def register(cli: click.Group) -> None:
    """Attach this module's commands to the ``mapsearch`` group."""

    @cli.command("search", with_appcontext=False)
    @click.argument("text", required=False)
    @click.option(
        "--image",
        "image",
        help="Example image: a local file, an http(s) URL, or an indexed item id.",
    )
    @click.option(
        "--mix",
        type=float,
        default=0.0,
        show_default=True,
        help="-1 = only the image, +1 = only the text.",
    )
    @click.option(
        "--modify",
        multiple=True,
        metavar="TEXT:WEIGHT",
        help='Steer the query, e.g. --modify "grayscale:0.5". Repeatable.',
    )
    @click.option(
        "--mode",
        type=click.Choice(["hybrid", "semantic", "keyword"]),
        default="hybrid",
        show_default=True,
    )
    @click.option(
        "--fusion", type=click.Choice(["rrf", "linear"]), default="rrf", show_default=True
    )
    @click.option("--year-from", type=int)
    @click.option("--year-to", type=int)
    @facet_filter_options
    @click.option(
        "--has-image/--no-image",
        "has_image",
        default=None,
        help="Only maps with (or without) an image.",
    )
    @click.option("--bbox", help="W,S,E,N in degrees.")
    @click.option(
        "--facet",
        multiple=True,
        type=click.Choice(FACET_NAMES),
        help="Facet counts to show. Repeatable.",
    )
    @click.option(
        "--sort",
        type=click.Choice(get_args(Sort)),
        default="relevance",
        show_default=True,
    )
    @click.option("--min-similarity", type=float)
    @click.option("--collapse", is_flag=True, help="One hit per item (atlas, sheet set).")
    @click.option("--size", type=int, default=10, show_default=True)
    @click.option("--page", type=int, default=1, show_default=True)
    @click.option("--explain", is_flag=True, help="Show each hit's rank and score in each list.")
    @click.option("--json", "as_json", is_flag=True, help="Print the API's JSON response.")
    @data_dir_option
    @friendly_errors
    def search_command(
        text: str | None, image: str | None, as_json: bool, data_dir: Path | None, **options: Any
    ) -> None:
        """Search the index by TEXT, by an example --image, or both; with neither, browse."""
        services = services_for(data_dir)
        require_index(services)
        image_fields, image_data = example_image(image, services)
        fields = {
            key: value for key, value in options.items() if not (value is None or value == ())
        }
        fields = {
            key: list(value) if isinstance(value, tuple) else value for key, value in fields.items()
        }
        params = SearchParams.model_validate({**fields, **image_fields, "q": text})
        body = search_response_json(services.search.search(params, image=image_data))
        if as_json:
            click.echo(json.dumps(body, indent=2, ensure_ascii=False))
        else:
            print_table(body)
