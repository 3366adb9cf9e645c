"""Mapping v2 (keyword terms analysed in Python): a v1 index is moved to v2 by ``mapsearch index
reindex``, after which keyword search matches plurals, accents and case as the embedded backend
does; writes after the swap use the v2 layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from indexer.backends import es_lifecycle
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.elasticsearch_lifecycle import ElasticsearchLifecycle
from indexer.records import IndexDocument, MapRecord
from indexer.settings import Settings
from tests.support.corpus import FakeEmbedder, corpus
from tests.support.es import ES_URL, fresh_prefix, remove_prefix
from webapi.cli import cli
from webapi.search.params import SearchParams
from webapi.search.service import SearchService

pytestmark = pytest.mark.elasticsearch


def keyword_ids(prefix: str, client: Elasticsearch, q: str, tmp_path: Path) -> list[str]:
    backend = ElasticsearchBackend(client, prefix)  # a fresh one reads the live index's _meta
    service = SearchService(Settings(data_dir=tmp_path), backend, FakeEmbedder())
    return sorted(h.id for h in service.search(SearchParams(q=q, mode="keyword")).hits)


def test_reindex_moves_a_v1_index_to_v2(client: Elasticsearch, tmp_path: Path) -> None:
    prefix = fresh_prefix("v2")
    try:
        assert ElasticsearchLifecycle(client, prefix).create(mapping_version=1, dims=4)
        backend = ElasticsearchBackend(client, prefix)
        assert backend.write(corpus()).written == 10
        backend.refresh()
        stemmed = es_lifecycle.has_analysis_common(client)
        # v1 on the minimal distribution: standard analysis, "monster" never meets "monsters"
        expected_v1 = ["c:01", "c:08"] if stemmed else []
        assert keyword_ids(prefix, client, "sea monster", tmp_path) == expected_v1

        result = CliRunner().invoke(
            cli,
            ["index", "reindex", "--es-url", ES_URL, "--prefix", prefix, "--mapping-version", "2"],
        )
        assert result.exit_code == 0, result.output
        assert "mapping v2" in result.output  # asked for v2: terms analysed here
        status = ElasticsearchLifecycle(client, prefix).status()
        assert status.mapping_version == 2 and status.documents == 10

        assert keyword_ids(prefix, client, "sea monster", tmp_path) == ["c:01", "c:08"]
        assert keyword_ids(prefix, client, "ACADÉMIE", tmp_path) == ["c:03"]
        after = ElasticsearchBackend(client, prefix)
        record = MapRecord(id="n:1", source="n", title="Carte des Îles", subjects=["Islands"])
        assert after.write([IndexDocument(record=record)]).written == 1
        after.refresh()
        assert keyword_ids(prefix, client, "ile island", tmp_path) == ["n:1"]
    finally:
        remove_prefix(client, prefix)
