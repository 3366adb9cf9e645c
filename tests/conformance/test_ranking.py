"""Conformance: the three modes, the query-vector formula, fusion, explain, ties and sorting."""

from __future__ import annotations

import pytest

from indexer.settings import Settings
from tests.support.corpus import FakeEmbedder, solid_image
from webapi.search.params import SearchParams, SearchResponse
from webapi.search.service import SearchService


def ids(response: SearchResponse) -> list[str]:
    return [hit.id for hit in response.hits]


def test_semantic_mode_ranks_by_cosine_with_ties_by_id(service: SearchService) -> None:
    response = service.search(SearchParams(q="sea monsters", mode="semantic", size=100))
    # cos: c:01 1.0, c:02 .8, c:05 .6, c:06 = c:07 .5 (tie
    # → id), then the zeros by id; c:08 has no vector
    assert ids(response) == ["c:01", "c:02", "c:05", "c:06", "c:07", "c:03", "c:04", "c:09", "c:10"]
    assert [round(h.score, 4) for h in response.hits[:5]] == [1.0, 0.8, 0.6, 0.5, 0.5]


def test_keyword_mode_requires_every_token_and_never_embeds(
    settings: Settings, backend, embedder: FakeEmbedder
) -> None:
    def no_model() -> FakeEmbedder:
        raise AssertionError("keyword mode must not load the model")

    service = SearchService(settings, backend, no_model)
    response = service.search(SearchParams(q="sea monsters", mode="keyword", facet=["subject"]))
    assert sorted(ids(response)) == ["c:01", "c:08"]  # c:05 has "sea" but not "monsters"
    assert response.total == 2


def test_keyword_title_outweighs_other_fields(service: SearchService) -> None:
    paris = service.search(SearchParams(q="paris", mode="keyword"))
    assert (
        sorted(ids(paris)[:2]) == ["c:03", "c:04"] and ids(paris)[2] == "c:10"
    )  # c:10 only as contributor
    norway = service.search(SearchParams(q="norway", mode="keyword"))
    assert ids(norway) == ["c:02", "c:01"]  # title beats places


def test_stopwords_are_dropped_from_keyword_queries(service: SearchService) -> None:
    response = service.search(SearchParams(q="maps with sea monsters", mode="keyword"))
    assert sorted(ids(response)) == ["c:01", "c:08"]


def test_image_only_query_is_the_image_vector(service: SearchService) -> None:
    by_upload = service.search(SearchParams(mode="hybrid", size=3), image=solid_image((255, 0, 0)))
    assert ids(by_upload) == ["c:04", "c:05", "c:06"]  # colour axis: .8, .8 (id), .5
    by_id = service.search(SearchParams(image_id="c:03", size=3))
    assert ids(by_id) == ["c:03", "c:09", "c:04"]  # stored vector of c:03: 1, .8, .6


@pytest.mark.parametrize(
    ("mix", "expected_top"),
    [
        (0.5, ["c:03", "c:04", "c:09", "c:06"]),  # v ∝ .25·colour + .75·city
        (-0.5, ["c:04", "c:05", "c:06", "c:07", "c:03", "c:09"]),  # v ∝ .75·colour + .25·city
        (1.0, ["c:03", "c:09", "c:04"]),  # text only
        (-1.0, ["c:04", "c:05", "c:06"]),  # image only (c:04 and c:05 tie at .8: id)
    ],
)
def test_mix_weights_text_against_image(
    service: SearchService, mix: float, expected_top: list[str]
) -> None:
    response = service.search(
        SearchParams(q="paris", mode="semantic", mix=mix, size=len(expected_top)),
        image=solid_image((255, 0, 0)),
    )
    assert ids(response) == expected_top


def test_modifiers_push_the_query_vector(service: SearchService) -> None:
    plain = service.search(SearchParams(q="paris", mode="semantic", size=3))
    assert ids(plain) == ["c:03", "c:09", "c:04"]
    colour = service.search(SearchParams(q="paris", mode="semantic", modify=["color:2"], size=3))
    assert ids(colour) == ["c:04", "c:05", "c:06"]  # v ∝ city + 2·colour
    less_gray = service.search(
        SearchParams(q="paris", mode="semantic", modify=["gray:-1"], size=100)
    )
    assert ids(less_gray)[:3] == ["c:03", "c:04", "c:09"] and ids(less_gray)[-1] == "c:10"


def test_hybrid_rrf_order_and_explain(service: SearchService) -> None:
    keyword = ids(service.search(SearchParams(q="sea monsters", mode="keyword")))
    semantic = ids(service.search(SearchParams(q="sea monsters", mode="semantic", size=100)))
    response = service.search(SearchParams(q="sea monsters", explain=True, size=100))
    expected_scores = {
        doc_id: sum(
            1 / (60 + lst.index(doc_id) + 1) for lst in (keyword, semantic) if doc_id in lst
        )
        for doc_id in set(keyword) | set(semantic)
    }
    expected = sorted(expected_scores, key=lambda d: (-expected_scores[d], d))
    assert ids(response) == expected
    assert response.hits[0].id == "c:01"  # first in both lists
    for hit in response.hits:
        assert hit.explain is not None
        assert hit.explain.keyword.rank == (
            keyword.index(hit.id) + 1 if hit.id in keyword else None
        )
        assert hit.explain.semantic.rank == (
            semantic.index(hit.id) + 1 if hit.id in semantic else None
        )
        assert hit.explain.fused == pytest.approx(expected_scores[hit.id])
        assert hit.score == pytest.approx(expected_scores[hit.id])
    c08 = next(h for h in response.hits if h.id == "c:08")
    assert c08.explain is not None and c08.explain.semantic.rank is None  # no vector: keyword only


def test_hybrid_linear_fusion(service: SearchService) -> None:
    response = service.search(SearchParams(q="paris", fusion="linear", explain=True, size=100))
    hits = {h.id: h.explain for h in response.hits}
    kw = {d: e.keyword.score for d, e in hits.items() if e and e.keyword.score is not None}
    sem = {d: e.semantic.score for d, e in hits.items() if e and e.semantic.score is not None}
    assert set(kw) == {"c:03", "c:04", "c:10"} and len(sem) == 9

    def norm(scores: dict[str, float]) -> dict[str, float]:
        low, high = min(scores.values()), max(scores.values())
        return {d: (s - low) / (high - low) for d, s in scores.items()}

    alpha = 0.5
    expected = {
        d: alpha * norm(sem).get(d, 0.0) + (1 - alpha) * norm(kw).get(d, 0.0)
        for d in set(kw) | set(sem)
    }
    for doc_id, explain in hits.items():
        assert explain is not None and explain.fused == pytest.approx(expected[doc_id])
    assert ids(response) == sorted(expected, key=lambda d: (-round(expected[d], 9), d))


def test_keyword_ties_break_by_id(service: SearchService) -> None:
    response = service.search(SearchParams(q="world atlas sheet", mode="keyword"))
    assert ids(response) == ["c:06", "c:07"]


def test_min_similarity_cuts_the_semantic_list(service: SearchService) -> None:
    response = service.search(
        SearchParams(q="sea monsters", mode="semantic", min_similarity=0.55, size=100)
    )
    assert ids(response) == ["c:01", "c:02", "c:05"]
    assert response.total == 3


def test_collapse_keeps_the_best_sheet_per_item(service: SearchService) -> None:
    plain = service.search(SearchParams(q="atlas", mode="semantic", size=100))
    assert ids(plain)[:2] == ["c:06", "c:07"]  # identical vectors: tie by id
    collapsed = service.search(SearchParams(q="atlas", mode="semantic", size=100, collapse=True))
    assert "c:07" not in ids(collapsed) and ids(collapsed)[0] == "c:06"
    assert len(collapsed.hits) == len(plain.hits) - 1


def test_sort_reorders_the_ranked_window(service: SearchService) -> None:
    by_year = service.search(
        SearchParams(q="sea monsters", mode="semantic", min_similarity=0.55, sort="year")
    )
    assert ids(by_year) == ["c:01", "c:02", "c:05"]
    newest = service.search(
        SearchParams(q="sea monsters", mode="semantic", min_similarity=0.55, sort="-year")
    )
    assert ids(newest) == ["c:05", "c:02", "c:01"]
    by_title = service.search(
        SearchParams(q="sea monsters", mode="semantic", min_similarity=0.55, sort="title")
    )
    assert ids(by_title) == ["c:02", "c:05", "c:01"]


def test_similar_excludes_the_item_itself(service: SearchService) -> None:
    response = service.search(SearchParams(image_id="c:03", size=3))
    similar = service.similar("c:03", size=2)
    assert ids(similar) == ids(response)[1:3] == ["c:09", "c:04"]


def test_min_similarity_leaves_keyword_matches_in_hybrid(service: SearchService) -> None:
    response = service.search(SearchParams(q="sea monsters", min_similarity=0.55, size=100))
    assert sorted(ids(response)) == ["c:01", "c:02", "c:05", "c:08"] and response.total == 4
