"""What a result card shows (search results and "more like this")."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import url_for
from werkzeug.datastructures import MultiDict

from webapi.ui import records
from webapi.ui.images import thumbnail
from webapi.ui.query import url_with


def result_card(hit: Any) -> dict[str, Any]:
    """What a result card shows."""
    hit = records.browser_hit(hit)
    name = hit.title or "Untitled map"
    return {
        "hit": hit,
        "name": f"{name} ({hit.date})" if hit.date else name,
        "url": url_for("ui.item_page", doc_id=hit.id),
        "image": thumbnail(hit.thumbnail_url),
        "search_with_url": url_with(MultiDict(), image_id=hit.id),
    }


def result_cards(hits: list[Any]) -> list[dict[str, Any]]:
    """Cards for a list of hits; maps that share a title and date are told apart by their id, so
    every card's "Search with this map" has its own accessible name."""
    cards = [result_card(hit) for hit in hits]
    seen = Counter(card["name"] for card in cards)
    for card in cards:
        if seen[card["name"]] > 1:
            card["name"] = f"{card['name']}, {card['hit'].id}"
    return cards
