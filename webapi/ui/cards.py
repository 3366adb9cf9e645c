"""What a result card shows (search results and "more like this")."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import url_for
from werkzeug.datastructures import MultiDict

from webapi.ui import records
from webapi.ui.images import thumbnail
from webapi.ui.query import url_with
from webapi.ui.regions import card_region, region_args


def result_card(hit: Any, query: str | None = None) -> dict[str, Any]:
    """What a result card shows; a hit that matched words on the map links to its item page with
    the query, so the viewer outlines those words."""
    hit = records.browser_hit(hit)
    name = hit.title or "Untitled map"
    url = url_for(
        "ui.item_page",
        doc_id=hit.id,
        q=query if query and hit.map_text else None,
        region=region_args(hit) or None,  # the viewer opens on the hit's best regions
    )
    return {
        "hit": hit,
        "name": f"{name} ({hit.date})" if hit.date else name,
        "url": url,
        "region": card_region(hit),
        "image": thumbnail(hit.thumbnail_url),
        "search_with_url": url_with(MultiDict(), image_id=hit.id),
    }


def result_cards(hits: list[Any], query: str | None = None) -> list[dict[str, Any]]:
    """Cards for a list of hits; maps that share a title and date are told apart by their id, so
    every card's "Search with this map" has its own accessible name."""
    cards = [result_card(hit, query) for hit in hits]
    seen = Counter(card["name"] for card in cards)
    for card in cards:
        if seen[card["name"]] > 1:
            card["name"] = f"{card['name']}, {card['hit'].id}"
    return cards
