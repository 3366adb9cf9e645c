"""Item pages (zoomable image, metadata, citation, more like this) and their IIIF manifests."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from webapi.ui import export, records
from webapi.ui.blueprint import bp
from webapi.ui.cards import result_cards
from webapi.ui.links import absolute_url
from webapi.ui.map_text import map_text_view
from webapi.ui.problems import PageProblem, problem_of
from webapi.ui.query import url_with
from webapi.ui.regions import shown_regions, viewer_regions

_CORS = {"Access-Control-Allow-Origin": "*"}  # IIIF viewers elsewhere may load manifests


@bp.get("/items/<path:doc_id>")
def item_page(doc_id: str) -> tuple[str, int]:
    """One map: zoomable image, metadata, citation, source link and more like this."""
    doc = records.fetch_document(doc_id)
    if doc is None:
        problem = PageProblem(404, "Not Found", f"No map with id {doc_id!r} is in the index.")
        return render_template("ui/error.html", problem=problem), 404
    record = doc.record
    similar: list[Any] = []
    similar_problem: PageProblem | None = None
    if doc.vector is not None:  # without one there is nothing to compare: said, not an error
        try:
            similar = records.similar_hits(doc_id, size=12)
        except Exception as exc:  # noqa: BLE001 - the item page still shows without its neighbours
            similar_problem = problem_of(exc)
            if similar_problem is None:
                raise
    view = records.item_view(record)
    words = map_text_view(record, request.args.get("q"))
    size = (record.image.width, record.image.height) if record.image else (None, None)
    regions = viewer_regions(shown_regions(request.args.getlist("region"), size))
    return (
        render_template(
            "ui/item.html",
            record=record,
            item=view,
            citation=records.citation(
                record, url_for("ui.item_page", doc_id=record.id, _external=True)
            ),
            similar=result_cards(similar),
            similar_problem=similar_problem,
            has_vector=doc.vector is not None,
            search_with_url=url_with(MultiDict(), image_id=record.id),
            manifest_url=url_for("ui.item_manifest", doc_id=record.id),
            map_words=words,
            map_words_matched=sum(1 for word in words if word["matched"]),
            regions=regions,
            search_url=url_for("ui.search_page"),
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
        image_url=absolute_url(view["image_url"]),
        iiif_service=view["iiif_service"],
        width=record.image.width if record.image else None,
        height=record.image.height if record.image else None,
        metadata=[(label, value) for label, value in view["metadata"]],
        homepage=url_for("ui.item_page", doc_id=doc_id, _external=True),
    )
    return Response(body, mimetype="application/ld+json", headers=_CORS)
