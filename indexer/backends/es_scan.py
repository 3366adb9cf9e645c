"""Read every (matching) document of an index in a consistent snapshot: point-in-time +
``search_after`` on ``_shard_doc`` (what the minimal distribution offers instead of
scroll/_reindex)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from typing import Any

from elasticsearch import Elasticsearch

from indexer.backends.es_client import backend_errors

PIT_KEEP_ALIVE = "5m"


def scan_pages(
    client: Elasticsearch,
    index: str,
    page_size: int,
    query: dict[str, Any] | None = None,
    source: list[str] | bool = True,
) -> Iterator[list[dict[str, Any]]]:
    """Pages of raw hits (``_id``, ``_version``, ``_source``) of ``index`` as of the first call."""
    with backend_errors("opening a point in time"):
        pit_id = client.open_point_in_time(index=index, keep_alive=PIT_KEEP_ALIVE)["id"]
    search_after: list[Any] | None = None
    try:
        while True:
            with backend_errors("reading documents"):
                response = client.search(
                    pit={"id": pit_id, "keep_alive": PIT_KEEP_ALIVE},
                    query=query or {"match_all": {}},
                    sort=["_shard_doc"],
                    size=page_size,
                    version=True,
                    search_after=search_after,
                    track_total_hits=False,
                    source=source,  # type: ignore[arg-type]  # the client accepts a list of fields too
                )
            pit_id = response.get("pit_id", pit_id)
            hits = response["hits"]["hits"]
            if not hits:
                return
            yield hits
            search_after = hits[-1]["sort"]
    finally:
        # the PIT expires by itself: never let closing it mask the real outcome
        with suppress(Exception):
            client.close_point_in_time(id=pit_id)
