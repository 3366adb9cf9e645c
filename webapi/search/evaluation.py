"""The evaluation runner's view of the search service: one page of ranked ids per request."""

from __future__ import annotations

from typing import Any

from indexer.evaluation.runner import PageSearch
from webapi.search.params import SearchParams
from webapi.search.service import SearchService


def page_search(service: SearchService) -> PageSearch:
    """A ``run_gold`` search function that runs each request through ``service``."""

    def search(fields: dict[str, Any]) -> list[str]:
        # Evaluation measures the ranking, so no similarity bar cuts it short (unless asked).
        asked = {"min_similarity": -1.0, **fields}
        return [hit.id for hit in service.search(SearchParams(**asked)).hits]

    return search
