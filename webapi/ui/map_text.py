"""The item page's words read from the map: every word with its box, and which of them the
reader's query matched (outlined in the viewer; the toggle shows the rest)."""

from __future__ import annotations

from typing import Any

from indexer.map_text_match import matched_map_words
from indexer.records import MapRecord


def map_text_view(record: MapRecord, query: str | None) -> list[dict[str, Any]]:
    """``[{"text", "box", "score", "matched"}]`` for every word read from the map, matched
    words first (the same matching as the search's hits)."""
    matched = set(matched_map_words(record, query, limit=len(record.map_text))) if query else set()
    words = [
        {"text": w.text, "box": list(w.box), "score": w.score, "matched": w in matched}
        for w in record.map_text
    ]
    return sorted(words, key=lambda word: not word["matched"])
