"""Downloads of the current results: CSV, JSON and a IIIF Presentation 3 Collection, bounded in
cost so they cannot starve searches: anonymous users get at most ``export_max_hits_anonymous``
hits (staff, with their bearer token, ``export_max_hits_staff``), an identical export is served
from a short-lived cache, and each process builds one export at a time (another is a 503 with
Retry-After, not a worker held waiting)."""

from __future__ import annotations

import threading
from typing import Any

from cachetools import TTLCache
from flask import Response, abort, current_app, render_template, request, url_for

from webapi.search.params import SearchParams
from webapi.services import services_of
from webapi.staff_auth import bearer_token, is_staff_token
from webapi.ui import export, records
from webapi.ui.blueprint import bp
from webapi.ui.links import absolute_url
from webapi.ui.problems import problem_of
from webapi.ui.query import clean_args, params_from_args

EXPORT_PAGE_SIZE = 100
CACHE_SECONDS = 120
RETRY_AFTER_SECONDS = 5
_CORS = {"Access-Control-Allow-Origin": "*"}  # IIIF viewers on other sites may load the collection
ExportCache = TTLCache[tuple[str, str, int], tuple[str, str, str]]
_cache_lock = threading.Lock()
_building = threading.BoundedSemaphore(1)  # exports built at once in this process


def _cache() -> ExportCache:
    """This app's finished exports by (format, URL, cap): the same link clicked again, or
    shared, costs nothing for a while."""
    extensions = current_app.extensions
    with _cache_lock:
        cache = extensions.get("mapsearch_export_cache")
        if cache is None:
            cache = extensions["mapsearch_export_cache"] = ExportCache(
                maxsize=64, ttl=CACHE_SECONDS
            )
    return cache  # type: ignore[no-any-return]


def export_cap() -> int:
    """How many hits this request may export: staff (bearer token) more than anonymous users."""
    settings = services_of().settings
    token = bearer_token(request)
    if token is not None and is_staff_token(token, settings.admin_tokens):
        return settings.export_max_hits_staff
    return settings.export_max_hits_anonymous


@bp.get("/export.<fmt>")
def export_results(fmt: str) -> Any:
    """The current query's results (up to the caller's cap) as CSV, JSON or a IIIF Collection."""
    if fmt not in {"csv", "json", "iiif.json"}:
        abort(404)
    args = clean_args(request.args)
    cap = export_cap()
    key = (fmt, request.url, cap)
    cache = _cache()
    with _cache_lock:
        cached = cache.get(key)
    if cached is not None:
        return _download(*cached)
    if not _building.acquire(blocking=False):
        return Response(
            "Another export is being built; try again in a few seconds.\n",
            status=503,
            mimetype="text/plain",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    try:
        params = params_from_args(args, facets=False)
        built = _build(fmt, params, cap)
    except Exception as exc:  # noqa: BLE001
        problem = problem_of(exc)
        if problem is None:
            raise
        return render_template("ui/error.html", problem=problem), problem.status
    finally:
        _building.release()
    with _cache_lock:
        cache[key] = built
    return _download(*built)


def _build(fmt: str, params: SearchParams, cap: int) -> tuple[str, str, str]:
    """(body, content type, file name) of one export."""
    hits, total = _all_hits(params, cap)
    stem = "mapsearch-results"
    if fmt == "csv":
        body = export.hits_to_csv(
            hits, lambda doc_id: url_for("ui.item_page", doc_id=doc_id, _external=True)
        )
        return body, "text/csv; charset=utf-8", f"{stem}.csv"
    if fmt == "json":
        query = params.model_dump(
            mode="json", exclude_defaults=True, exclude={"facet", "explain", "page", "size"}
        )
        return export.hits_to_json(hits, total, query), "application/json", f"{stem}.json"
    label = f"mapsearch results: {params.q}" if params.q else "mapsearch results"
    body = export.hits_to_iiif_collection(
        hits,
        collection_id=request.url,
        label=label,
        manifest_url=lambda doc_id: url_for("ui.item_manifest", doc_id=doc_id, _external=True),
    )
    return body, "application/ld+json", f"{stem}.iiif.json"


def _download(body: str, mimetype: str, filename: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', **_CORS}
    return Response(body, mimetype=mimetype.split(";")[0], headers=headers, content_type=mimetype)


def _all_hits(params: SearchParams, cap: int) -> tuple[list[Any], int]:
    """Walk the pages of a query up to ``cap`` hits; a ranked query (words or an example map)
    also stops at the candidate window, past which the service refuses to page."""
    services = services_of()
    ranked = bool(params.q or params.image_id or params.image_url or params.image_token)
    limit = min(cap, services.settings.num_candidates) if ranked else cap
    hits: list[Any] = []
    page = 1
    total = 0
    while len(hits) < limit:
        response = services.search.search(
            params.model_copy(update={"page": page, "size": EXPORT_PAGE_SIZE}), image=None
        )
        total = response.total
        # Downloaded files leave the site: their image links must be absolute.
        hits.extend(
            hit.model_copy(
                update={"thumbnail_url": absolute_url(records.browser_url(hit.thumbnail_url))}
            )
            for hit in response.hits
        )
        if (
            len(response.hits) < EXPORT_PAGE_SIZE
            or len(hits) >= total
            or page * EXPORT_PAGE_SIZE >= limit
        ):
            break
        page += 1
    return hits[:limit], total
