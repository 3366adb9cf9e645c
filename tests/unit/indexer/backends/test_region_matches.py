"""The best regions of shown semantic hits, scored exactly from their documents when the lists
left them out (Elasticsearch), and left as they are when the lists carry them (embedded)."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.backends.base import BackendResult, ListHit, RegionMatch
from indexer.backends.region_matches import best_regions, with_regions
from indexer.records import IndexDocument, MapRecord
from indexer.region_set import RegionSet


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, np.float32)
    return vector / np.linalg.norm(vector)


QUERY = unit(1, 0, 0)
REGIONS = RegionSet.build(
    "2,4@0.25",
    [(0, 0, 10, 10), (10, 0, 10, 10), (0, 0, 20, 20), (5, 5, 5, 5), (9, 9, 9, 9)],
    [4, 4, 2, 4, 4],
    [unit(0, 1, 0), unit(0.6, 0.8, 0), unit(0.6, 0.8, 0), unit(1, 0.1, 0), unit(0.2, 0, 1)],
)


def document(doc_id: str, regions: RegionSet | None) -> IndexDocument:
    record = MapRecord(id=doc_id, source="t", title=doc_id)
    return IndexDocument(record=record, vector=unit(0, 0, 1), model_id="t", regions=regions)


def hit(doc_id: str) -> ListHit:
    return ListHit(doc_id, 0.5, doc_id, None, doc_id, whole_score=0.1, region_score=0.9)


def test_the_best_three_by_exact_cosine_ties_coarser_first() -> None:
    found = best_regions(REGIONS, QUERY)
    assert [m.box for m in found] == [(5, 5, 5, 5), (0, 0, 20, 20), (10, 0, 10, 10)]
    assert [m.level for m in found] == [4, 2, 4]
    assert found[0].score == pytest.approx(float(unit(1, 0.1, 0) @ QUERY), abs=1e-6)
    assert found[1].score == found[2].score == pytest.approx(0.6, abs=1e-6)
    assert best_regions(None, QUERY) == () and best_regions(RegionSet.empty("2"), QUERY) == ()


def test_left_out_regions_are_scored_from_the_shown_documents_only() -> None:
    result = BackendResult(region_query=QUERY)
    documents = {"t:a": document("t:a", REGIONS), "t:b": document("t:b", None)}
    shown = with_regions(result, [hit("t:a"), hit("t:b"), hit("t:gone")], documents)
    assert [h.id for h in shown] == ["t:a", "t:b", "t:gone"]
    assert shown[0].regions == best_regions(REGIONS, QUERY) and len(shown[0].regions) == 3
    assert shown[1].regions == () and shown[2].regions == ()  # no regions; deleted meanwhile
    # the list's scores and ranks are kept: only the boxes are added
    assert (shown[0].score, shown[0].whole_score, shown[0].region_score) == (0.5, 0.1, 0.9)


def test_regions_the_lists_carry_are_kept() -> None:
    carried = (RegionMatch((1, 2, 3, 4), 2, 0.7),)
    listed = ListHit("t:a", 0.5, "t:a", None, "t:a", regions=carried)
    shown = with_regions(BackendResult(), [listed], {"t:a": document("t:a", REGIONS)})
    assert shown[0].regions == carried
