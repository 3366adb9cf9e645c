"""Conformance: region vectors (docs/regions.md). A map ranks by the best of its whole-map and
region similarities, hits carry their best regions, explain says which won, ``regions=false``
ignores them, filters and totals still count maps, and an example can be a box of a map."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from indexer.backends.base import SearchBackend
from indexer.records import ImageRef, IndexDocument
from indexer.region_set import RegionSet
from indexer.settings import Settings
from tests.support.corpus import FakeEmbedder, corpus
from webapi.search.errors import InvalidSearch
from webapi.search.params import SearchParams, SearchResponse
from webapi.search.service import SearchService

GRID = "2,4@0.25"
# The Paris plan (whole map: the CITY axis) has a sea monster in a corner; London (CITY and
# GRAY) has a harbour region leaning to the sea; the Gray survey has a region of nothing but grey.
MONSTER_BOX = (100, 200, 50, 60)


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, np.float32)
    return vector / np.linalg.norm(vector)


REGIONS = {
    "c:03": RegionSet.build(
        GRID,
        [(0, 0, 300, 300), MONSTER_BOX, (150, 0, 150, 150)],
        [2, 4, 4],
        [_unit(0, 1, 0, 0.1), _unit(0.95, 0.31, 0, 0), _unit(0.3, 0.95, 0, 0)],
    ),
    "c:09": RegionSet.build(GRID, [(10, 10, 40, 40)], [4], [_unit(0.7, 0.7, 0.14, 0)]),
    "c:10": RegionSet.empty(GRID),  # tiled, every tile blank
}


def region_corpus(image_path: str | None = None) -> list[IndexDocument]:
    """The ten-map corpus with regions on three maps (and, given a path, a local image)."""
    docs = []
    for doc in corpus():
        if doc.id in REGIONS:
            doc = doc.model_copy(update={"regions": REGIONS[doc.id]})
        if doc.id == "c:03" and image_path is not None:
            image = ImageRef(url=image_path, width=400, height=300)
            record = doc.record.model_copy(update={"image": image})
            doc = doc.model_copy(update={"record": record})
        docs.append(doc)
    return docs


@pytest.fixture
def regions_service(
    settings: Settings, empty_backend: SearchBackend, embedder: FakeEmbedder
) -> SearchService:
    """The corpus with regions; c:03's image is a local 400x300 file, grey with a red box."""
    images = Path(settings.data_dir) / "images"
    images.mkdir(parents=True, exist_ok=True)
    picture = Image.new("RGB", (400, 300), (128, 128, 128))
    picture.paste((255, 0, 0), (200, 100, 300, 200))
    picture.save(images / "paris.png")
    report = empty_backend.write(region_corpus("images/paris.png"))
    assert report.written == 10 and report.failed == 0, report
    empty_backend.refresh()
    return SearchService(
        settings.model_copy(update={"region_combine": "max"}), empty_backend, embedder
    )


def ids(response: SearchResponse) -> list[str]:
    return [hit.id for hit in response.hits]


def test_a_map_ranks_by_its_best_region_under_max(regions_service: SearchService) -> None:
    response = regions_service.search(SearchParams(q="sea", mode="semantic", size=4))
    # c:01 1.0, then Paris by its monster region (0.95), c:02 0.8, London's harbour region (.696)
    assert ids(response) == ["c:01", "c:03", "c:02", "c:09"]
    paris = response.hits[1]
    assert paris.score == pytest.approx(0.95, abs=2e-3)
    assert paris.regions[0].box == list(MONSTER_BOX) and paris.regions[0].level == 4
    assert [round(r.score, 3) for r in paris.regions] == sorted(
        (round(r.score, 3) for r in paris.regions), reverse=True
    )
    assert len(paris.regions) == 3
    assert response.hits[0].regions == []  # c:01 has no regions
    assert response.hits[0].score == pytest.approx(1.0, abs=1e-3)


def test_explain_says_whether_the_whole_map_or_a_region_won(
    regions_service: SearchService,
) -> None:
    response = regions_service.search(SearchParams(q="sea", mode="semantic", size=10, explain=True))
    by_id = {hit.id: hit for hit in response.hits}
    paris = by_id["c:03"].explain
    assert paris is not None and paris.regions is not None
    assert paris.regions.won == "region" and paris.regions.region_rank == 1
    assert paris.regions.region_box == list(MONSTER_BOX)
    assert paris.regions.whole_score == pytest.approx(0.0, abs=1e-3)
    assert paris.regions.region_score == pytest.approx(0.95, abs=2e-3)
    london = by_id["c:09"].explain
    assert london is not None and london.regions is not None
    assert london.regions.won == "region" and london.regions.region_rank == 2
    # no regions at all: nothing to say
    assert by_id["c:01"].explain is not None and by_id["c:01"].explain.regions is None


@pytest.mark.parametrize("mode", ["semantic", "hybrid"])
def test_every_page_shows_its_hits_best_regions(regions_service: SearchService, mode: str) -> None:
    # Elasticsearch ranks without boxes and scores the regions of the shown page only: a hit
    # on a later page carries the same best regions (and explain box) as on one long page
    params = SearchParams(q="sea", mode=mode, size=10, explain=True)
    whole_page = {hit.id: hit for hit in regions_service.search(params).hits}
    assert [r.box for r in whole_page["c:03"].regions][:1] == [list(MONSTER_BOX)]
    seen = set()
    for page in range(1, len(whole_page) + 1):
        (hit,) = regions_service.search(params.model_copy(update={"size": 1, "page": page})).hits
        seen.add(hit.id)
        one = whole_page[hit.id]
        assert [(r.box, r.level) for r in hit.regions] == [(r.box, r.level) for r in one.regions]
        assert [r.score for r in hit.regions] == pytest.approx([r.score for r in one.regions])
        explained = hit.explain.regions if hit.explain else None
        if explained is not None and hit.regions:
            assert explained.region_box == hit.regions[0].box
    assert {"c:03", "c:09"} <= seen
    # the harbour of London (c:09) on its own page: its only region, scored exactly
    harbour = whole_page["c:09"].regions
    assert [r.box for r in harbour] == [[10, 10, 40, 40]]
    assert harbour[0].score == pytest.approx(
        float(_unit(0.7, 0.7, 0.14, 0) @ _unit(1, 0, 0, 0)), abs=2e-3
    )


def test_regions_false_ranks_whole_maps_only(regions_service: SearchService) -> None:
    response = regions_service.search(
        SearchParams(q="sea", mode="semantic", size=100, regions=False)
    )
    assert ids(response) == ["c:01", "c:02", "c:05", "c:06", "c:07", "c:03", "c:04", "c:09", "c:10"]
    assert all(hit.regions == [] for hit in response.hits)


def test_blend_weighs_the_whole_map_and_the_best_region(
    settings: Settings, regions_service: SearchService
) -> None:
    blend = SearchService(
        settings.model_copy(update={"region_combine": "blend", "region_weight": 0.5}),
        regions_service.backend,
        regions_service._embedder,
    )
    response = blend.search(SearchParams(q="sea", mode="semantic", size=100))
    scores = {hit.id: hit.score for hit in response.hits}
    assert scores["c:03"] == pytest.approx(0.5 * 0.0 + 0.5 * 0.95, abs=2e-3)
    assert scores["c:09"] == pytest.approx(0.5 * 0.0 + 0.5 * 0.6964, abs=2e-3)
    assert scores["c:01"] == pytest.approx(1.0, abs=1e-3)  # no regions: the whole map alone
    assert ids(response)[:5] == ["c:01", "c:02", "c:05", "c:06", "c:07"]
    assert ids(response)[5:7] == ["c:03", "c:09"]
    barred = blend.search(SearchParams(q="sea", mode="semantic", min_similarity=0.45))
    assert ids(barred) == ["c:01", "c:02", "c:05", "c:06", "c:07", "c:03"]  # London: .348
    assert barred.total == 6


def test_filters_totals_and_facets_count_maps_not_regions(
    regions_service: SearchService,
) -> None:
    response = regions_service.search(
        SearchParams(q="sea", mode="semantic", collection=["City Plans"], facet=["place"])
    )
    # Paris by its monster, London by its harbour; Paris's three regions still make one map
    assert ids(response)[:2] == ["c:03", "c:09"]
    assert response.total == len(response.hits) == 3  # c:03, c:09, c:04 (every city plan)
    assert dict((f.value, f.count) for f in response.facets["place"]) == {"Paris": 2, "London": 1}


def test_a_similarity_bar_admits_a_map_by_its_region(regions_service: SearchService) -> None:
    response = regions_service.search(SearchParams(q="sea", mode="semantic", min_similarity=0.9))
    assert ids(response) == ["c:01", "c:03"] and response.total == 2
    whole_only = regions_service.search(
        SearchParams(q="sea", mode="semantic", min_similarity=0.9, regions=False)
    )
    assert ids(whole_only) == ["c:01"] and whole_only.total == 1


def test_hybrid_fuses_the_region_aware_semantic_list(regions_service: SearchService) -> None:
    response = regions_service.search(SearchParams(q="sea", size=20, explain=True))
    by_id = {hit.id: hit for hit in response.hits}
    paris = by_id["c:03"]  # no "sea" in its text: it is found by its monster region alone
    assert paris.explain is not None and paris.explain.keyword.rank is None
    assert paris.explain.semantic.rank == 2
    assert paris.regions and paris.regions[0].box == list(MONSTER_BOX)
    assert by_id["c:08"].regions == []  # a keyword-only hit has no regions


def test_an_index_without_regions_searches_as_before(
    settings: Settings, backend: SearchBackend, embedder: FakeEmbedder
) -> None:
    service = SearchService(settings, backend, embedder)
    on = service.search(SearchParams(q="sea", mode="semantic", size=100, explain=True))
    off = service.search(SearchParams(q="sea", mode="semantic", size=100, regions=False))
    assert ids(on) == ids(off)
    assert [h.score for h in on.hits] == [h.score for h in off.hits]
    assert all(h.regions == [] and h.explain and h.explain.regions is None for h in on.hits)


def test_regions_survive_fetch_and_a_rewrite_without_them_removes_them(
    regions_service: SearchService,
) -> None:
    backend = regions_service.backend
    stored = backend.fetch(["c:03", "c:10", "c:01"])
    paris = stored["c:03"].regions
    assert paris is not None and paris.grid == GRID
    assert paris.boxes.tolist() == REGIONS["c:03"].boxes.tolist()
    assert paris.levels.tolist() == [2, 4, 4]
    np.testing.assert_allclose(paris.vectors, REGIONS["c:03"].vectors, atol=1e-6)
    blank = stored["c:10"].regions
    assert blank is not None and len(blank) == 0 and blank.grid == GRID
    assert stored["c:01"].regions is None
    rewritten = stored["c:03"].model_copy(update={"regions": None})
    rewritten.record.revision += 1
    backend.write([rewritten])
    backend.refresh()
    assert backend.fetch(["c:03"])["c:03"].regions is None
    response = regions_service.search(SearchParams(q="sea", mode="semantic", size=3))
    assert "c:03" not in ids(response)


def test_an_example_can_be_a_box_of_an_indexed_map(regions_service: SearchService) -> None:
    red = regions_service.search(
        SearchParams(image_id="c:03", image_region="210,110,50,50", mode="semantic", size=1)
    )
    assert ids(red) == ["c:04"]  # the red box → the COLOR axis → the Paris street guide
    grey = regions_service.search(
        SearchParams(image_id="c:03", image_region="10,10,50,50", mode="semantic", size=1)
    )
    assert ids(grey) == ["c:10"]  # grey paper → the GRAY axis → the Gray survey
    assert red.query["image_region"] == "210,110,50,50"


@pytest.mark.parametrize(
    "box",
    ["350,10,100,50", "10,250,50,51", "0,0,401,10"],
)
def test_a_box_outside_the_map_is_refused(regions_service: SearchService, box: str) -> None:
    with pytest.raises(InvalidSearch) as refused:
        regions_service.search(SearchParams(image_id="c:03", image_region=box, mode="semantic"))
    assert refused.value.parameter == "image_region"


def test_a_box_needs_an_example_image(regions_service: SearchService) -> None:
    with pytest.raises(InvalidSearch) as refused:
        regions_service.search(SearchParams(q="sea", image_region="0,0,10,10"))
    assert refused.value.parameter == "image_region"


def test_an_uploaded_example_takes_a_box_too(regions_service: SearchService) -> None:
    upload = Image.new("RGB", (100, 50), (0, 0, 255))
    upload.paste((128, 128, 128), (50, 0, 100, 50))
    grey = regions_service.search(
        SearchParams(image_region="60,5,30,30", mode="semantic", size=1), image=upload
    )
    assert ids(grey) == ["c:10"]
    with pytest.raises(InvalidSearch):
        regions_service.search(
            SearchParams(image_region="60,5,50,30", mode="semantic", size=1), image=upload
        )
