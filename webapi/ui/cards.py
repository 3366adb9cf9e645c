"""What a result card shows (search results and "more like this")."""

from __future__ import annotations

from typing import Any

from flask import url_for
from werkzeug.datastructures import MultiDict

from webapi.ui import records
from webapi.ui.images import thumbnail
from webapi.ui.query import url_with


def result_card(hit: Any) -> dict[str, Any]:
    """What a result card shows."""
    hit = records.browser_hit(hit)
    return {
        "hit": hit,
        "url": url_for("ui.item_page", doc_id=hit.id),
        "image": thumbnail(hit.thumbnail_url),
        "search_with_url": url_with(MultiDict(), image_id=hit.id),
    }
