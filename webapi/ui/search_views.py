"""The search page (its whole state is the URL) and the no-JavaScript upload of an example map."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from indexer.search_surface import (
    DEFAULT_PAGE_SIZE,
    FACETS_BY_NAME,
    FILTER_FACETS,
    MAX_PAGE_SIZE,
    SORT_LABELS,
)
from webapi.search.params import SearchParams, SearchResponse
from webapi.services import services_of
from webapi.ui import records
from webapi.ui.active_filters import active_filters
from webapi.ui.blueprint import bp
from webapi.ui.cards import result_cards
from webapi.ui.collection_names import facet_value_label
from webapi.ui.problems import PageProblem, problem_of
from webapi.ui.query import (
    SIDEBAR_FACETS,
    clean_args,
    modifier_links,
    page_links,
    params_from_args,
    toggle_value,
    url_with,
    url_with_changes,
)
from webapi.ui.year_histogram import YearHistogram, year_histogram

FACET_VISIBLE = 8  # longer facet lists get a filter box and scroll
PAGE_SIZES = (DEFAULT_PAGE_SIZE, 40, MAX_PAGE_SIZE)
SORT_OPTIONS: tuple[tuple[str, str], ...] = tuple(SORT_LABELS.items())  # the sort menu
# The query-string keys that filter (what "search again without filters" drops).
FILTER_KEYS = ("year_from", "year_to", "bbox", "has_image", *(f.name for f in FILTER_FACETS))


@bp.get("/")
def search_page() -> tuple[str, int]:
    """The search page; with no words and no image it browses the whole collection."""
    args = clean_args(request.args)
    problem: PageProblem | None = None
    response: SearchResponse | None = None
    params: SearchParams | None = None
    try:
        params = params_from_args(args)
        response = services_of().search.search(params, image=None)
    except Exception as exc:  # noqa: BLE001 - typed errors become the page's problem box
        problem = problem_of(exc)
        if problem is None:
            raise
    context = _search_context(args, params, response)
    return render_template(
        "ui/search.html", problem=problem, **context
    ), problem.status if problem else 200


@bp.post("/upload")
def upload_example() -> Any:
    """No-JavaScript fallback of the drop zone: store the file, then search with its token."""
    args = clean_args(request.form)
    upload = request.files.get("image")
    data = upload.read() if upload else b""
    if not data:
        problem = PageProblem(400, "No image", "Choose an image file to search with.")
        return render_template(
            "ui/search.html", problem=problem, **_search_context(args, None, None)
        ), 400
    try:
        stored = services_of().uploads.save(data)
    except Exception as exc:  # noqa: BLE001
        upload_problem = problem_of(exc)
        if upload_problem is None:
            raise
        context = _search_context(args, None, None)
        return render_template(
            "ui/search.html", problem=upload_problem, **context
        ), upload_problem.status
    return redirect(
        url_with(args, image_token=stored.token, image_id=None, image_url=None), code=303
    )


@bp.get("/ui/uploads/<token>.jpg")
def uploaded_preview(token: str) -> Response:
    """A small JPEG of an uploaded example image, for the search page's preview."""
    try:
        image = services_of().uploads.load(token)
    except Exception:  # noqa: BLE001 - an expired token simply has no preview
        abort(404)
    return Response(
        records.jpeg_thumbnail(image, 400),
        mimetype="image/jpeg",
        headers={"Cache-Control": "private, max-age=600"},
    )


def _facet_groups(
    args: MultiDict[str, str], response: SearchResponse | None
) -> list[dict[str, Any]]:
    groups = []
    for name, label in SIDEBAR_FACETS.items():
        selected = args.getlist(name)
        buckets = response.facets.get(name, []) if response else []
        values = [
            {
                "value": b.value,
                "label": facet_value_label(name, b.value),
                "count": b.count,
                "selected": b.value in selected,
                "url": toggle_value(args, name, b.value),
            }
            for b in buckets
        ]
        present = {b.value for b in buckets}
        # A chosen value the result set no longer counts stays visible so it can be unticked.
        values[:0] = [
            {
                "value": v,
                "label": facet_value_label(name, v),
                "count": 0,
                "selected": True,
                "url": toggle_value(args, name, v),
            }
            for v in selected
            if v not in present
        ]
        choices = FACETS_BY_NAME[name].choices
        if choices:  # a closed vocabulary reads best in its declared order
            order = list(choices)
            values.sort(
                key=lambda v: order.index(v["value"]) if v["value"] in order else len(order)
            )
        if values:
            groups.append(
                {
                    "name": name,
                    "label": label,
                    "buckets": values,
                    "long": len(values) > FACET_VISIBLE,
                }
            )
    return groups


def _example_image(args: MultiDict[str, str]) -> dict[str, Any] | None:
    """What the example-image preview shows, and the link that removes it."""
    remove_url = url_with(
        args, image_id=None, image_url=None, image_token=None, mix=None, image_region=None
    )
    region = f" (region {args['image_region']})" if args.get("image_region") else ""
    if "image_id" in args:
        record = records.fetch_record(args["image_id"])
        if record is None:
            return {
                "label": args["image_id"],
                "src": None,
                "remove_url": remove_url,
                "kind": "item",
            }
        view = records.item_view(record)
        return {
            "label": record.title + region,
            "src": view["thumbnail"]["src"],
            "remove_url": remove_url,
            "kind": "item",
            "url": url_for("ui.item_page", doc_id=record.id),
        }
    if "image_token" in args:
        return {
            "label": "Uploaded image",
            "src": url_for("ui.uploaded_preview", token=args["image_token"]),
            "remove_url": remove_url,
            "kind": "upload",
        }
    if "image_url" in args:
        return {
            "label": args["image_url"],
            "src": args["image_url"],
            "remove_url": remove_url,
            "kind": "url",
        }
    return None


def _no_close_matches(
    args: MultiDict[str, str], response: SearchResponse | None
) -> dict[str, str | None] | None:
    """The "no close matches" state: a ranked search with a similarity bar found nothing; links to
    the closest maps anyway (no bar), the same words without filters, and browsing."""
    if response is None or response.hits or response.query.get("min_similarity") is None:
        return None
    filter_keys = [key for key in FILTER_KEYS if key in args]
    return {
        "closest_url": url_with(args, min_similarity="-1"),
        "clear_filters_url": url_with_changes(args, dict.fromkeys(filter_keys))
        if filter_keys
        else None,
    }


def _year_suggestion(
    args: MultiDict[str, str], response: SearchResponse | None
) -> dict[str, str] | None:
    """Years typed into the words, offered as the year filter (one link)."""
    suggestion = response.year_suggestion if response else None
    if suggestion is None:
        return None
    span = suggestion.year_from, suggestion.year_to
    return {
        "text": suggestion.text,
        "label": str(span[0]) if span[0] == span[1] else f"{span[0]}–{span[1]}",
        "url": url_with(args, year_from=span[0], year_to=span[1]),
    }


def _search_context(
    args: MultiDict[str, str], params: SearchParams | None, response: SearchResponse | None
) -> dict[str, Any]:
    size = params.size if params else DEFAULT_PAGE_SIZE
    page = params.page if params else 1
    reachable = response.reachable if response else 0
    example = None
    try:
        example = _example_image(args)
    except Exception:  # noqa: BLE001 - the preview is decoration; the search reports real errors
        example = None
    bbox = params.bbox_tuple if params else None
    return {
        "args": args,
        "params": params,
        "response": response,
        "cards": result_cards(response.hits, params.q if params else None) if response else [],
        "facet_groups": _facet_groups(args, response),
        "histogram": year_histogram(
            [(b.value, b.count) for b in response.facets.get("decade", [])], args
        )
        if response
        else YearHistogram(),
        "active_filters": active_filters(args, example, facet_value_label),
        "chips": modifier_links(args, services_of().search.modifier_weight()),
        # the pager stops at the last page paging reaches (the window), never past it
        "pages": page_links(args, page, size, reachable) if reachable > size else [],
        "last_page": response.last_page if response else 1,
        "example": example,
        "bbox": bbox,
        "clear_bbox_url": url_with(args, bbox=None),
        "clear_years_url": url_with(args, year_from=None, year_to=None),
        "page_sizes": PAGE_SIZES,
        "sort_options": SORT_OPTIONS,
        "exports": {
            "CSV": url_with(args, "/export.csv", page=None),
            "JSON": url_with(args, "/export.json", page=None),
            "IIIF Collection": url_with(args, "/export.iiif.json", page=None),
        },
        "permalink": url_with(args, page=page if page > 1 else None),
        "has_text": bool(params and params.q),
        "has_image": example is not None,
        "no_close_matches": _no_close_matches(args, response),
        "year_suggestion": _year_suggestion(args, response),
    }
