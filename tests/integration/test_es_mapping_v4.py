"""Mapping v4 on a real cluster: the nested region vectors are indexed as bbq_hnsw and the image
vector as bbq_flat (from 64 dims; int8 below), a v3 index moves to v4 with the lossless reindex,
its regions come across intact and are searched with nested kNN, every image vector comes back bit
for bit, and the flat index's semantic list (1-bit scan, float rescoring) is the exact cosine
ranking (docs/regions.md, docs/elasticsearch.md)."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from indexer.backends import es_lifecycle
from indexer.backends.base import BackendQuery
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.elasticsearch_lifecycle import ElasticsearchLifecycle
from indexer.backends.region_matches import with_regions
from indexer.records import IndexDocument, MapRecord
from indexer.region_set import RegionSet
from tests.support.es import ES_URL, fresh_prefix, remove_prefix
from webapi.cli import cli

DIMS = 64


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def documents() -> list[IndexDocument]:
    rng = np.random.default_rng(3)
    whole = unit(rng.standard_normal((20, DIMS)))
    return [
        IndexDocument(
            record=MapRecord(id=f"v4:{n:02d}", source="v4", title=f"Sheet {n}"),
            vector=whole[n],
            model_id="v4-64d",
            regions=RegionSet.build(
                "2,4@0.25",
                [(j * 100, n, 100, 100) for j in range(4)],
                [2, 4, 4, 4],
                unit(rng.standard_normal((4, DIMS))),
            ),
        )
        for n in range(20)
    ]


def region_options(client: Elasticsearch, prefix: str) -> dict:
    index = es_lifecycle.current_index(client, prefix)
    mapping = client.indices.get_mapping(index=index)[index]["mappings"]
    return dict(mapping["properties"]["regions"]["properties"]["vector"]["index_options"])


def test_region_vectors_take_binary_quantization_from_64_dims() -> None:
    big = es_lifecycle.index_definition(4, dims=512, english=False)["mappings"]["properties"]
    assert big["regions"]["properties"]["vector"]["index_options"]["type"] == "bbq_hnsw"
    small = es_lifecycle.index_definition(4, dims=16, english=False)["mappings"]["properties"]
    assert small["regions"]["properties"]["vector"]["index_options"]["type"] == "int8_hnsw"
    v3 = es_lifecycle.index_definition(3, dims=512, english=False)["mappings"]["properties"]
    assert v3["regions"]["properties"]["vector"]["index_options"]["type"] == "int8_hnsw"


def test_reindex_moves_a_v3_index_to_v4_with_its_regions(client: Elasticsearch) -> None:
    prefix = fresh_prefix("v4")
    docs = documents()
    try:
        assert ElasticsearchLifecycle(client, prefix).create(mapping_version=3, dims=DIMS)
        assert region_options(client, prefix)["type"] == "int8_hnsw"
        backend = ElasticsearchBackend(client, prefix)
        assert backend.write(docs).written == 20
        backend.refresh()
        result = CliRunner().invoke(
            cli,
            ["index", "reindex", "--es-url", ES_URL, "--prefix", prefix, "--mapping-version", "4"],
        )
        assert result.exit_code == 0, result.output
        status = ElasticsearchLifecycle(client, prefix).status()
        assert status.mapping_version == 4 and status.documents == 20
        assert region_options(client, prefix)["type"] == "bbq_hnsw"
        after = ElasticsearchBackend(client, prefix)
        stored = after.fetch(["v4:07"])["v4:07"].regions
        original = docs[7].regions
        assert stored is not None and original is not None
        assert stored.boxes.tolist() == original.boxes.tolist()
        assert np.allclose(stored.vectors, original.vectors, atol=1e-6)
        # a query equal to one region of sheet 7 finds sheet 7 by that region, box and all
        query = BackendQuery(vector=original.vectors[2], num_candidates=20, region_combine="max")
        found = after.search(query)
        hits = with_regions(found, found.semantic[:1], after.fetch([found.semantic[0].id]))
        assert hits[0].id == "v4:07" and hits[0].regions[0].box == (200, 7, 100, 100)
    finally:
        remove_prefix(client, prefix)


MAPS = 300


def unit_rows(count: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, DIMS)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def flat_documents(vectors: np.ndarray) -> list[IndexDocument]:
    return [
        IndexDocument(
            record=MapRecord(id=f"v:{n:03d}", source="v", title=f"Sheet {n}"),
            vector=vector,
            model_id="random-64",
        )
        for n, vector in enumerate(vectors)
    ]


def vector_type(client: Elasticsearch, prefix: str) -> str:
    index = es_lifecycle.current_index(client, prefix)
    assert index is not None
    mapping = client.indices.get_mapping(index=index)[index]["mappings"]
    return str(mapping["properties"]["vector"]["index_options"]["type"])


def test_reindex_moves_a_v3_index_to_flat_v4_losslessly(client: Elasticsearch) -> None:
    prefix = fresh_prefix("v4")
    vectors = unit_rows(MAPS, seed=4)
    try:
        assert ElasticsearchLifecycle(client, prefix).create(mapping_version=3, dims=DIMS)
        backend = ElasticsearchBackend(client, prefix)
        assert backend.write(flat_documents(vectors)).written == MAPS
        backend.refresh()
        assert vector_type(client, prefix) == "bbq_hnsw"

        result = CliRunner().invoke(
            cli, ["index", "reindex", "--es-url", ES_URL, "--prefix", prefix]
        )
        assert result.exit_code == 0, result.output
        assert "mapping v4" in result.output  # the newest mapping by default
        status = ElasticsearchLifecycle(client, prefix).status()
        assert status.mapping_version == 4 and status.documents == MAPS
        assert status.with_vectors == MAPS
        assert vector_type(client, prefix) == "bbq_flat"

        after = ElasticsearchBackend(client, prefix)
        stored = after.fetch([f"v:{n:03d}" for n in range(MAPS)])
        assert all(
            np.array_equal(np.asarray(stored[f"v:{n:03d}"].vector), vectors[n]) for n in range(MAPS)
        )
        for query in unit_rows(20, seed=5):
            exact = np.argsort(-(vectors @ query), kind="stable")[:10]
            found = after.search(BackendQuery(vector=query, num_candidates=10)).semantic
            assert [hit.id for hit in found] == [f"v:{n:03d}" for n in exact]
            assert [hit.score for hit in found] == pytest.approx(
                (vectors[exact] @ query).tolist(), abs=1e-5
            )
    finally:
        remove_prefix(client, prefix)


def test_flat_v4_falls_back_to_int8_below_64_dims() -> None:
    small = es_lifecycle.index_definition(4, dims=4, english=False)["mappings"]["properties"]
    assert small["vector"]["index_options"] == {"type": "int8_flat"}
    full = es_lifecycle.index_definition(4, dims=512, english=False)["mappings"]["properties"]
    assert full["vector"]["index_options"] == {"type": "bbq_flat"}
