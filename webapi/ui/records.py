"""What the item page shows of one record: display fields, image sources, citation, neighbours.
Records are read through the app's services, like the JSON API's item endpoints do."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from indexer.records import IndexDocument, MapRecord
from webapi.search.params import Hit
from webapi.search.service import thumbnail_of
from webapi.services import services_of
from webapi.ui.collection_names import facet_value_label
from webapi.ui.images import thumbnail, tile_source
from webapi.ui.links import web_link


def fetch_document(doc_id: str) -> IndexDocument | None:
    """The indexed document (record and vector) with this id, or None."""
    return services_of().backend.fetch([doc_id]).get(doc_id)


def fetch_record(doc_id: str) -> MapRecord | None:
    """The indexed record with this id, or None."""
    doc = fetch_document(doc_id)
    return doc.record if doc is not None else None


def similar_hits(doc_id: str, size: int) -> list[Hit]:
    """ "More like this": the image-only neighbours of a record (itself left out)."""
    return [browser_hit(hit) for hit in services_of().search.similar(doc_id, size=size).hits]


def browser_url(ref: str | None) -> str | None:
    """A URL a browser can load: remote URLs as they are, local image paths via the app's
    ``/images/`` route (which serves ``data_dir/images``)."""
    if not ref:
        return None
    if ref.startswith(("http://", "https://", "//", "/")):
        return ref
    return "/" + ref


def browser_hit(hit: Hit) -> Hit:
    """A hit whose thumbnail URL a browser can load."""
    url = browser_url(hit.thumbnail_url)
    return hit if url == hit.thumbnail_url else hit.model_copy(update={"thumbnail_url": url})


def citation(record: MapRecord, page_url: str | None = None) -> str:
    """A plain citation (Chicago-like): who, title, where/publisher, date, collection, link."""
    parts: list[str] = []
    if record.contributors:
        parts.append(
            "; ".join(record.contributors[:3]) + (" et al." if len(record.contributors) > 3 else "")
        )
    parts.append(record.title or "Untitled map")
    imprint = ", ".join(p for p in (record.publisher, record.date) if p)
    if imprint:
        parts.append(imprint)
    if record.collections:
        parts.append(facet_value_label("collection", record.collections[0]))
    link = web_link(record.source_url) or page_url
    if link:
        parts.append(link)
    return ". ".join(part.rstrip(".") for part in parts) + "."


def item_view(record: MapRecord) -> dict[str, Any]:
    """Display values for the item page and the example-image preview."""
    image = record.image
    service = image.iiif_service.rstrip("/") if image and image.iiif_service else None
    full_url = browser_url(image.url if image else None)
    thumb_url = browser_url(thumbnail_of(record))
    metadata: list[tuple[str, str]] = [
        ("Date", record.date or ""),
        ("Places", "; ".join(record.place_names)),
        ("Subjects", "; ".join(record.subjects)),
        ("Contributors", "; ".join(record.contributors)),
        ("Publisher", record.publisher or ""),
        ("Format", "; ".join(record.formats)),
        ("Language", "; ".join(record.languages)),
        ("Collection", "; ".join(facet_value_label("collection", c) for c in record.collections)),
        ("Call number", record.call_number or ""),
        ("Rights", record.rights or ""),
        ("Source", record.source),
        ("Identifier", record.id),
    ]
    if record.extent:
        e = record.extent
        metadata.append(
            ("Extent (W, S, E, N)", f"{e.west:g}, {e.south:g}, {e.east:g}, {e.north:g}")
        )
    return {
        "iiif_service": service,
        "image_url": full_url or thumb_url,
        "thumbnail": thumbnail(thumb_url, service),
        "tile_source": tile_source(service, full_url or thumb_url),
        "metadata": [(label, value) for label, value in metadata if value],
        "description": [text for text in (record.description, *record.notes) if text],
        "other_titles": record.other_titles,
    }


def jpeg_thumbnail(image: Image.Image, size: int) -> bytes:
    """The image shrunk to fit ``size`` x ``size``, as JPEG bytes."""
    copy = image.convert("RGB")
    copy.thumbnail((size, size))
    buffer = io.BytesIO()
    copy.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
