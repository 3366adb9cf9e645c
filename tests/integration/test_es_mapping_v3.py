"""Mapping v3 (nested region vectors, docs/regions.md) on a real cluster: a v2 index moves to v3
with the lossless reindex, its maps keep their whole-map vectors, and regions written afterwards
are searched with nested kNN and come back with their boxes."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from elasticsearch import Elasticsearch

from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.elasticsearch_lifecycle import ElasticsearchLifecycle
from indexer.settings import Settings
from tests.conformance.test_regions import MONSTER_BOX, REGIONS
from tests.support.corpus import FakeEmbedder, corpus
from tests.support.es import ES_URL, fresh_prefix, remove_prefix
from webapi.cli import cli
from webapi.search.params import SearchParams
from webapi.search.service import SearchService


def test_reindex_moves_a_v2_index_to_v3_and_regions_follow(
    client: Elasticsearch, tmp_path: Path
) -> None:
    prefix = fresh_prefix("v3")
    try:
        assert ElasticsearchLifecycle(client, prefix).create(mapping_version=2, dims=4)
        backend = ElasticsearchBackend(client, prefix)
        # a v2 index has no place for regions: they are not written there
        assert backend.write(corpus()).written == 10
        backend.refresh()
        result = CliRunner().invoke(
            cli,
            ["index", "reindex", "--es-url", ES_URL, "--prefix", prefix, "--mapping-version", "3"],
        )
        assert result.exit_code == 0, result.output
        assert "mapping v3" in result.output
        status = ElasticsearchLifecycle(client, prefix).status()
        assert status.mapping_version == 3 and status.documents == 10 and status.with_vectors == 9
        after = ElasticsearchBackend(client, prefix)
        settings = Settings(data_dir=tmp_path, region_combine="max")
        service = SearchService(settings, after, FakeEmbedder())
        before = service.search(SearchParams(q="sea", mode="semantic", size=3))
        assert [h.id for h in before.hits] == ["c:01", "c:02", "c:05"]  # no regions yet
        stored = after.fetch(["c:03"])["c:03"]
        assert stored.regions is None and stored.vector is not None
        stored.record.revision += 1
        with_regions = stored.model_copy(update={"regions": REGIONS["c:03"]})
        assert after.write([with_regions]).written == 1
        after.refresh()
        found = service.search(SearchParams(q="sea", mode="semantic", size=3))
        assert [h.id for h in found.hits] == ["c:01", "c:03", "c:02"]
        assert found.hits[1].regions[0].box == list(MONSTER_BOX)
        back = after.fetch(["c:03"])["c:03"].regions
        assert back is not None and back.boxes.tolist() == REGIONS["c:03"].boxes.tolist()
    finally:
        remove_prefix(client, prefix)
