"""HTML pages: the search page (its state is the URL), item pages, exports and the staff console.
Views call the app's search service directly; they never reach the index themselves."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from webapi.search.params import SearchParams, SearchResponse
from webapi.services import services_of
from webapi.ui import export, records
from webapi.ui.images import thumbnail
from webapi.ui.problems import PageProblem, problem_of
from webapi.ui.query import (
    SIDEBAR_FACETS,
    clean_args,
    decade_histogram,
    modifier_links,
    page_links,
    params_from_args,
    toggle_value,
    url_with,
)

bp = Blueprint("ui", __name__, template_folder="templates", static_folder="static", static_url_path="/ui/static")

EXPORT_PAGE_SIZE = 100
EXPORT_MAX_HITS = 1000
FACET_VISIBLE = 8  # values shown before "show all" on long facet lists
PAGE_SIZES = (20, 40, 100)


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
    return render_template("ui/search.html", problem=problem, **context), problem.status if problem else 200


@bp.post("/upload")
def upload_example() -> Any:
    """No-JavaScript fallback of the drop zone: store the file, then search with its token."""
    args = clean_args(request.form)
    upload = request.files.get("image")
    data = upload.read() if upload else b""
    if not data:
        problem = PageProblem(400, "No image", "Choose an image file to search with.")
        return render_template("ui/search.html", problem=problem, **_search_context(args, None, None)), 400
    try:
        stored = services_of().uploads.save(data)
    except Exception as exc:  # noqa: BLE001
        upload_problem = problem_of(exc)
        if upload_problem is None:
            raise
        context = _search_context(args, None, None)
        return render_template("ui/search.html", problem=upload_problem, **context), upload_problem.status
    return redirect(url_with(args, image_token=stored.token, image_id=None, image_url=None), code=303)


@bp.get("/ui/uploads/<token>.jpg")
def uploaded_preview(token: str) -> Response:
    """A small JPEG of an uploaded example image, for the search page's preview."""
    try:
        image = services_of().uploads.load(token)
    except Exception:  # noqa: BLE001 - an expired token simply has no preview
        abort(404)
    return Response(records.jpeg_thumbnail(image, 400), mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=600"})


@bp.get("/items/<path:doc_id>")
def item_page(doc_id: str) -> tuple[str, int]:
    """One map: zoomable image, metadata, citation, source link and more like this."""
    record = records.fetch_record(doc_id)
    if record is None:
        problem = PageProblem(404, "Not Found", f"No map with id {doc_id!r} is in the index.")
        return render_template("ui/error.html", problem=problem), 404
    similar: list[Any] = []
    similar_problem: PageProblem | None = None
    try:
        similar = records.similar_hits(doc_id, size=12)
    except Exception as exc:  # noqa: BLE001 - the item page still shows without its neighbours
        similar_problem = problem_of(exc)
        if similar_problem is None:
            raise
    view = records.item_view(record)
    return (
        render_template(
            "ui/item.html",
            record=record,
            item=view,
            citation=records.citation(record, url_for("ui.item_page", doc_id=record.id, _external=True)),
            similar=[_card(hit) for hit in similar],
            similar_problem=similar_problem,
            search_with_url=url_with(MultiDict(), image_id=record.id),
            manifest_url=url_for("ui.item_manifest", doc_id=record.id),
        ),
        200,
    )


@bp.get("/items/<path:doc_id>/manifest.json")
def item_manifest(doc_id: str) -> Response:
    """A IIIF Presentation 3 Manifest for one map (the export Collection links these)."""
    record = records.fetch_record(doc_id)
    if record is None:
        abort(404)
    view = records.item_view(record)
    body = export.record_manifest(
        manifest_id=url_for("ui.item_manifest", doc_id=doc_id, _external=True),
        title=record.title,
        image_url=_absolute(view["image_url"]),
        iiif_service=view["iiif_service"],
        width=record.image.width if record.image else None,
        height=record.image.height if record.image else None,
        metadata=[(label, value) for label, value in view["metadata"]],
        homepage=url_for("ui.item_page", doc_id=doc_id, _external=True),
    )
    return Response(body, mimetype="application/ld+json", headers=_CORS)


@bp.get("/export.<fmt>")
def export_results(fmt: str) -> Any:
    """The current query's results (up to EXPORT_MAX_HITS) as CSV, JSON or a IIIF Collection."""
    if fmt not in {"csv", "json", "iiif.json"}:
        abort(404)
    args = clean_args(request.args)
    try:
        params = params_from_args(args, facets=False)
        hits, total = _all_hits(params)
    except Exception as exc:  # noqa: BLE001
        problem = problem_of(exc)
        if problem is None:
            raise
        return render_template("ui/error.html", problem=problem), problem.status
    stem = "mapsearch-results"
    if fmt == "csv":
        body = export.hits_to_csv(hits, lambda doc_id: url_for("ui.item_page", doc_id=doc_id, _external=True))
        return _download(body, "text/csv; charset=utf-8", f"{stem}.csv")
    if fmt == "json":
        query = params.model_dump(mode="json", exclude_defaults=True, exclude={"facet", "explain", "page", "size"})
        return _download(export.hits_to_json(hits, total, query), "application/json", f"{stem}.json")
    label = f"mapsearch results: {params.q}" if params.q else "mapsearch results"
    body = export.hits_to_iiif_collection(
        hits,
        collection_id=request.url,
        label=label,
        manifest_url=lambda doc_id: url_for("ui.item_manifest", doc_id=doc_id, _external=True),
    )
    return _download(body, "application/ld+json", f"{stem}.iiif.json")


@bp.get("/staff")
def staff_page() -> str:
    """The staff console: sign in with a token, watch and start jobs, see the index status."""
    return render_template("ui/staff.html")


_CORS = {"Access-Control-Allow-Origin": "*"}  # IIIF viewers elsewhere may load manifests


def _download(body: str, mimetype: str, filename: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', **_CORS}
    return Response(body, mimetype=mimetype.split(";")[0], headers=headers, content_type=mimetype)


def _absolute(url: str | None) -> str | None:
    if url and url.startswith("/"):
        return request.host_url.rstrip("/") + url
    return url


def _all_hits(params: SearchParams) -> tuple[list[Any], int]:
    """Walk the pages of a query (the semantic window bounds it) up to EXPORT_MAX_HITS."""
    search = services_of().search
    hits: list[Any] = []
    page = 1
    total = 0
    while len(hits) < EXPORT_MAX_HITS:
        response = search.search(params.model_copy(update={"page": page, "size": EXPORT_PAGE_SIZE}), image=None)
        total = response.total
        # Downloaded files leave the site: their image links must be absolute.
        hits.extend(
            hit.model_copy(update={"thumbnail_url": _absolute(records.browser_url(hit.thumbnail_url))})
            for hit in response.hits
        )
        if len(response.hits) < EXPORT_PAGE_SIZE or len(hits) >= total:
            break
        page += 1
    return hits[:EXPORT_MAX_HITS], total


def _card(hit: Any) -> dict[str, Any]:
    """What a result card shows."""
    hit = records.browser_hit(hit)
    return {
        "hit": hit,
        "url": url_for("ui.item_page", doc_id=hit.id),
        "image": thumbnail(hit.thumbnail_url),
        "search_with_url": url_with(MultiDict(), image_id=hit.id),
    }


def _facet_groups(args: MultiDict[str, str], response: SearchResponse | None) -> list[dict[str, Any]]:
    groups = []
    for name, label in SIDEBAR_FACETS.items():
        selected = args.getlist(name)
        buckets = response.facets.get(name, []) if response else []
        values = [
            {"value": b.value, "count": b.count, "selected": b.value in selected, "url": toggle_value(args, name, b.value)}
            for b in buckets
        ]
        present = {b.value for b in buckets}
        # A chosen value the result set no longer counts stays visible so it can be unticked.
        values[:0] = [
            {"value": v, "count": 0, "selected": True, "url": toggle_value(args, name, v)} for v in selected if v not in present
        ]
        if values:
            groups.append({"name": name, "label": label, "buckets": values, "long": len(values) > FACET_VISIBLE})
    return groups


def _example_image(args: MultiDict[str, str]) -> dict[str, Any] | None:
    """What the example-image preview shows, and the link that removes it."""
    remove_url = url_with(args, image_id=None, image_url=None, image_token=None, mix=None)
    if "image_id" in args:
        record = records.fetch_record(args["image_id"])
        if record is None:
            return {"label": args["image_id"], "src": None, "remove_url": remove_url, "kind": "item"}
        view = records.item_view(record)
        return {"label": record.title, "src": view["thumbnail"]["src"], "remove_url": remove_url, "kind": "item",
                "url": url_for("ui.item_page", doc_id=record.id)}
    if "image_token" in args:
        return {"label": "Uploaded image", "src": url_for("ui.uploaded_preview", token=args["image_token"]),
                "remove_url": remove_url, "kind": "upload"}
    if "image_url" in args:
        return {"label": args["image_url"], "src": args["image_url"], "remove_url": remove_url, "kind": "url"}
    return None


def _search_context(args: MultiDict[str, str], params: SearchParams | None, response: SearchResponse | None) -> dict[str, Any]:
    size = params.size if params else 20
    page = params.page if params else 1
    total = response.total if response else 0
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
        "cards": [_card(hit) for hit in response.hits] if response else [],
        "facet_groups": _facet_groups(args, response),
        "histogram": decade_histogram([(b.value, b.count) for b in response.facets.get("decade", [])], args)
        if response
        else [],
        "chips": modifier_links(args),
        "pages": page_links(args, page, size, total) if response and total > size else [],
        "last_page": max(1, math.ceil(total / size)),
        "example": example,
        "bbox": bbox,
        "clear_bbox_url": url_with(args, bbox=None),
        "clear_years_url": url_with(args, year_from=None, year_to=None),
        "page_sizes": PAGE_SIZES,
        "exports": {
            "CSV": url_with(args, "/export.csv", page=None),
            "JSON": url_with(args, "/export.json", page=None),
            "IIIF Collection": url_with(args, "/export.iiif.json", page=None),
        },
        "permalink": url_with(args, page=page if page > 1 else None),
        "has_text": bool(params and params.q),
        "has_image": example is not None,
    }
