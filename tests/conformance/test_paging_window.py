"""Conformance: paging stays within the result window. The response says how far paging reaches
(``reachable``, ``last_page``) and its last page says how to see the rest when the window cut it."""

from __future__ import annotations

import pytest

from indexer.backends.base import SearchBackend
from indexer.settings import Settings
from tests.support.corpus import FakeEmbedder
from webapi.search.errors import PageOutOfWindow
from webapi.search.params import SearchParams
from webapi.search.service import SearchService


def test_last_page_of_a_cut_ranking_says_how_to_narrow(small_window: SearchService) -> None:
    pages = [
        small_window.search(SearchParams(q="sea monsters", mode="semantic", size=2, page=p))
        for p in (1, 2)
    ]
    # no bar: the 9 maps with vectors rank, the semantic list (and the window) keeps 3
    assert [(p.total, p.total_kind, p.reachable, p.last_page) for p in pages] == [
        (3, "best_matches", 3, 2)
    ] * 2
    assert pages[0].window_notice is None
    notice = pages[1].window_notice
    assert notice is not None and "last page" in notice and "best 3 matches" in notice
    assert "Narrow the search" in notice
    with pytest.raises(PageOutOfWindow):
        small_window.search(SearchParams(q="sea monsters", mode="semantic", size=2, page=3))


def test_notice_counts_the_matches_beyond_the_window(
    settings: Settings, backend: SearchBackend, embedder: FakeEmbedder
) -> None:
    service = SearchService(
        settings.model_copy(update={"num_candidates": 3, "min_similarity": 0.55}),
        backend,
        embedder,
    )
    last = service.search(SearchParams(q="sea monsters", size=3))
    # keyword {c:01, c:08} ∪ semantic above .55 {c:01, c:02, c:05} = 4; the window holds 3
    assert (last.total, last.reachable, last.last_page) == (4, 3, 1)
    assert last.window_notice is not None and "best 3 of 4 matches" in last.window_notice


def test_an_uncut_result_needs_no_notice(service: SearchService) -> None:
    keyword = service.search(SearchParams(q="sea monsters", mode="keyword", size=1, page=2))
    assert (keyword.total, keyword.reachable, keyword.last_page) == (2, 2, 2)
    assert keyword.window_notice is None
    browse = service.search(SearchParams(size=4, page=3))
    assert (browse.reachable, browse.last_page, browse.window_notice) == (10, 3, None)
