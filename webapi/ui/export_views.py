"""Downloads of the current results: CSV, JSON and a IIIF Presentation 3 Collection."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request, url_for

from webapi.search.params import SearchParams
from webapi.services import services_of
from webapi.ui import export, records
from webapi.ui.blueprint import bp
from webapi.ui.links import absolute_url
from webapi.ui.problems import problem_of
from webapi.ui.query import clean_args, params_from_args

EXPORT_PAGE_SIZE = 100
EXPORT_MAX_HITS = 1000
_CORS = {"Access-Control-Allow-Origin": "*"}  # IIIF viewers on other sites may load the collection


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
        body = export.hits_to_csv(
            hits, lambda doc_id: url_for("ui.item_page", doc_id=doc_id, _external=True)
        )
        return _download(body, "text/csv; charset=utf-8", f"{stem}.csv")
    if fmt == "json":
        query = params.model_dump(
            mode="json", exclude_defaults=True, exclude={"facet", "explain", "page", "size"}
        )
        return _download(
            export.hits_to_json(hits, total, query), "application/json", f"{stem}.json"
        )
    label = f"mapsearch results: {params.q}" if params.q else "mapsearch results"
    body = export.hits_to_iiif_collection(
        hits,
        collection_id=request.url,
        label=label,
        manifest_url=lambda doc_id: url_for("ui.item_manifest", doc_id=doc_id, _external=True),
    )
    return _download(body, "application/ld+json", f"{stem}.iiif.json")


def _download(body: str, mimetype: str, filename: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', **_CORS}
    return Response(body, mimetype=mimetype.split(";")[0], headers=headers, content_type=mimetype)


def _all_hits(params: SearchParams) -> tuple[list[Any], int]:
    """Walk the pages of a query up to EXPORT_MAX_HITS; a ranked query (words or an example map)
    also stops at the candidate window, past which the service refuses to page."""
    services = services_of()
    ranked = bool(params.q or params.image_id or params.image_url or params.image_token)
    limit = min(EXPORT_MAX_HITS, services.settings.num_candidates) if ranked else EXPORT_MAX_HITS
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
