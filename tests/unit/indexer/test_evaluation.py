"""Evaluation: metrics on hand-made rankings, the gold file format, gold generation from ground
truth, and a gold run through the real SearchService over the embedded backend."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from indexer.evaluation.gold import GoldQuery, load_gold, write_gold
from indexer.evaluation.goldgen import generate_gold
from indexer.evaluation.metrics import (
    ndcg_at_k,
    precision_at_k,
    query_metrics,
    recall_at_k,
    reciprocal_rank,
)
from indexer.evaluation.report import json_report, markdown_report
from indexer.evaluation.runner import EvalRun, compare_runs, run_gold
from indexer.records import ImageRef, IndexDocument, MapRecord
from indexer.settings import Settings

JUDGED = {"a": 2, "b": 1, "c": 2}


# ---- metrics on hand-made rankings ------------------------------------------------------------


def test_precision_recall_mrr() -> None:
    ranking = ["x", "a", "b", "y", "c"]
    assert precision_at_k(ranking, JUDGED, k=5) == pytest.approx(2 / 5)  # grade-2 only
    assert precision_at_k(ranking, JUDGED, k=5, min_grade=1) == pytest.approx(3 / 5)
    assert precision_at_k(["a"], JUDGED, k=10) == pytest.approx(0.1)  # short lists are not rewarded
    assert recall_at_k(ranking, JUDGED, k=2) == pytest.approx(1 / 2)
    assert recall_at_k(ranking, JUDGED, k=10) == 1.0
    assert recall_at_k(ranking, {}, k=10) == 0.0
    assert reciprocal_rank(ranking, JUDGED) == pytest.approx(1 / 2)
    assert reciprocal_rank(["x", "b"], JUDGED) == 0.0
    assert reciprocal_rank(["x", "b"], JUDGED, min_grade=1) == pytest.approx(1 / 2)


def test_ndcg_known_values() -> None:
    # ideal gains (2^2-1, 2^2-1, 2^1-1) = 3, 3, 1
    ideal = 3 + 3 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(["a", "c", "b"], JUDGED) == pytest.approx(1.0)
    got = (0 + 3 / math.log2(3) + 1 / math.log2(4) + 0 + 3 / math.log2(6)) / ideal
    assert ndcg_at_k(["x", "a", "b", "y", "c"], JUDGED) == pytest.approx(got)
    assert ndcg_at_k(["x", "y"], JUDGED) == 0.0
    assert ndcg_at_k(["a"], {}) == 0.0
    assert ndcg_at_k(["b", "a", "c"], JUDGED, k=1) == pytest.approx(1 / 3)
    metrics = query_metrics(["a", "c"], JUDGED)
    assert (
        metrics["recall@10"] == 1.0
        and metrics["mrr"] == 1.0
        and metrics["p@10"] == pytest.approx(0.2)
    )


# ---- gold files --------------------------------------------------------------------------------


def test_gold_round_trip_and_errors(tmp_path: Path) -> None:
    queries = [
        GoldQuery(id="t1", type="text", q="sea monster", relevant={"a": 2}),
        GoldQuery(
            id="m1",
            type="multimodal",
            image_id="a",
            modify=["grayscale:1", "colour:-1"],
            relevant={"b": 2},
            exclude=["a"],
        ),
    ]
    path = tmp_path / "gold.jsonl"
    write_gold(path, queries)
    assert load_gold(path) == queries
    path.write_text('{"id": "i1", "type": "image", "q": "x", "relevant": {}}\n')
    with pytest.raises(ValueError, match="gold.jsonl:1"):
        load_gold(path)
    path.write_text(
        json.dumps({"id": "t", "type": "text", "q": "x"})
        + "\n"
        + json.dumps({"id": "t", "type": "text", "q": "y"})
        + "\n"
    )
    with pytest.raises(ValueError, match="duplicate"):
        load_gold(path)


def test_generated_gold_follows_ground_truth() -> None:
    kinds = ["world_map", "city_plan", "nautical_chart", "regional_map", "birds_eye_view"]
    colours = ["grayscale", "full_colour", "sepia", "blueprint", "hand_coloured"]
    truth = {
        f"d{i}": {
            "kind": kinds[i % 5],
            "colour_scheme": colours[(i // 5) % 5],
            "ornaments": ["sea_monster"] if i % 3 == 0 else [],
        }
        for i in range(300)
    }
    gold = generate_gold(truth, seed=0)
    text = [q for q in gold if q.type == "text"]
    assert len(text) >= 20
    for q in gold:
        if q.type == "image":
            src = truth[q.image_id]  # type: ignore[index]
            assert q.exclude == [q.image_id]
            for doc, grade in q.relevant.items():
                assert truth[doc]["kind"] == src["kind"]
                assert (grade == 2) == (truth[doc]["colour_scheme"] == src["colour_scheme"])
        if q.type == "multimodal":
            assert truth[q.image_id]["colour_scheme"] != "grayscale"  # type: ignore[index]
            assert all(truth[d]["colour_scheme"] == "grayscale" for d in q.relevant)
    assert {q.variant for q in gold if q.type == "multimodal"} == {"mix", "modifier", "difference"}
    assert generate_gold(truth, seed=0) == gold  # deterministic


# ---- through the real search path --------------------------------------------------------------


class WordEmbedder:
    """A stand-in model: text vectors are fixed per word, so rankings are known in advance."""

    model_id = "words-v1"
    dims = 4
    VECTORS = {
        "red": [1, 0, 0, 0],
        "blue": [0, 1, 0, 0],
        "grayscale": [0, 0, 1, 0],
        "colour": [1, 1, 0, 0],
    }

    def _vec(self, text: str) -> np.ndarray:
        word = text.replace(" map", "").strip()
        v = np.array(self.VECTORS.get(word, [0, 0, 0, 1]), dtype=np.float32)
        return v / np.linalg.norm(v)

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        return np.stack([self._vec("red") for _ in images])

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts])

    def embed_query_text(self, text: str) -> np.ndarray:
        return self._vec(text)


def _doc(i: int, vector: list[float]) -> IndexDocument:
    v = np.array(vector, dtype=np.float32)
    record = MapRecord(
        id=f"m:{i}", source="m", title=f"Map {i}", image=ImageRef(url=f"images/{i}.png")
    )
    return IndexDocument(
        record=record,
        vector=v / np.linalg.norm(v),
        model_id=WordEmbedder.model_id,
        image_hash=str(i),
    )


def test_run_gold_through_search_service(settings: Settings) -> None:
    from indexer.backends import open_backend
    from webapi.search.evaluation import page_search
    from webapi.search.service import SearchService

    backend = open_backend(settings)
    backend.write(
        [
            _doc(1, [1, 0, 0, 0]),
            _doc(2, [0.9, 0.1, 0, 0]),
            _doc(3, [0, 1, 0, 0]),
            _doc(4, [0.2, 0, 1, 0]),
            _doc(5, [0, 0.1, 1, 0]),
        ]
    )
    backend.refresh()
    search = page_search(SearchService(settings, backend, WordEmbedder()))
    queries = [
        GoldQuery(id="red", type="text", q="red", relevant={"m:1": 2, "m:2": 2}),
        GoldQuery(id="like1", type="image", image_id="m:1", relevant={"m:2": 2}, exclude=["m:1"]),
        GoldQuery(
            id="gray1",
            type="multimodal",
            image_id="m:1",
            modify=["grayscale:1", "red:-0.5"],
            relevant={"m:4": 2, "m:5": 1},
            exclude=["m:1"],
        ),
    ]
    run = run_gold(search, queries, mode="semantic", model_id="words-v1")
    by_id = {r.id: r for r in run.results}
    assert by_id["red"].ranking[:2] == ["m:1", "m:2"] and by_id["red"].metrics[
        "ndcg@10"
    ] == pytest.approx(1.0)
    assert by_id["like1"].ranking[0] == "m:2" and "m:1" not in by_id["like1"].ranking
    assert by_id["gray1"].ranking[:2] == ["m:4", "m:5"]
    assert run.summary()["text"]["queries"] == 1
    keyword = run_gold(search, queries, mode="keyword")
    assert (
        keyword.results[1].error is not None
    )  # an image query has no keyword list: reported, not fatal
    changes = compare_runs(run, keyword)
    assert {c.id for c in changes} == {"red", "like1", "gray1"}
    md = markdown_report([run, keyword], changes)
    assert "| text | 1 |" in md and "Top-10 changes" in md
    again = EvalRun.from_json(json_report([run])["runs"][0])
    assert compare_runs(run, again) == []
