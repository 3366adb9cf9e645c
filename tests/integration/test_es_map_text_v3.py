"""Mapping v3 (map text): a v2 index holding records with words read from their maps is moved to
v3 by ``mapsearch index reindex`` (the lossless copy: nothing read again), after which the words
are searchable, within one edit."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.elasticsearch_lifecycle import ElasticsearchLifecycle
from indexer.records import IndexDocument, MapRecord, MapWord
from indexer.settings import Settings
from tests.support.corpus import FakeEmbedder, corpus
from tests.support.es import ES_URL, fresh_prefix, remove_prefix
from webapi.cli import cli
from webapi.search.params import Hit, SearchParams
from webapi.search.service import SearchService

pytestmark = pytest.mark.elasticsearch


def keyword_hits(prefix: str, client: Elasticsearch, q: str, tmp_path: Path) -> list[Hit]:
    backend = ElasticsearchBackend(client, prefix)
    service = SearchService(Settings(data_dir=tmp_path), backend, FakeEmbedder())
    return list(service.search(SearchParams(q=q, mode="keyword")).hits)


def test_reindex_to_v3_makes_map_text_searchable(client: Elasticsearch, tmp_path: Path) -> None:
    prefix = fresh_prefix("v3")
    chart = MapRecord(
        id="m:1",
        source="m",
        title="Chart of a bay",
        map_text=[MapWord(text="Chesapeake", box=(10, 20, 120, 24), score=0.97)],
        map_text_engine="test",
    )
    try:
        assert ElasticsearchLifecycle(client, prefix).create(mapping_version=2, dims=4)
        backend = ElasticsearchBackend(client, prefix)
        assert backend.write([*corpus(), IndexDocument(record=chart)]).written == 11
        backend.refresh()
        assert keyword_hits(prefix, client, "chesapeake", tmp_path) == []  # v2: no map text

        result = CliRunner().invoke(
            cli,
            ["index", "reindex", "--es-url", ES_URL, "--prefix", prefix, "--mapping-version", "3"],
        )
        assert result.exit_code == 0, result.output
        status = ElasticsearchLifecycle(client, prefix).status()
        assert status.mapping_version == 3 and status.documents == 11

        hits = keyword_hits(prefix, client, "Chesapeak", tmp_path)
        assert [hit.id for hit in hits] == ["m:1"]
        assert [(w.text, w.box) for w in hits[0].map_text] == [("Chesapeake", [10, 20, 120, 24])]
    finally:
        remove_prefix(client, prefix)
