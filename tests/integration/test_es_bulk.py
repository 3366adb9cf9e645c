"""The bulk writer on a real cluster: several requests in flight keep per-id order (a later action
for the same id still lands last, a stale revision is still skipped), and bulk-load index settings
(async translog, no refresh) are undone by ``restore_settings``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch

import es_mappings
from indexer.backends import es_bulk, es_lifecycle
from indexer.backends.base import WriteReport
from indexer.backends.es_bulk import CHUNK_SIZE, index_actions, run_bulk
from tests.support.es import es_client, fresh_prefix, make_doc, remove_prefix

pytestmark = pytest.mark.elasticsearch


@pytest.fixture
def client_and_prefix() -> Iterator[tuple[Elasticsearch, str]]:
    client = es_client()
    prefix = fresh_prefix("bulk")
    yield client, prefix
    remove_prefix(client, prefix)


def test_threaded_bulk_keeps_per_id_order_and_versioning(
    client_and_prefix: tuple[Elasticsearch, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, prefix = client_and_prefix
    send, calls = es_bulk._send_chunk, []

    def slow_first_chunk(
        client: Elasticsearch, chunk: list[dict[str, Any]]
    ) -> list[tuple[bool, dict[str, Any]]]:
        calls.append(len(chunk))
        if len(calls) == 1:
            time.sleep(1.5)  # injected delay: the later chunks would overtake this one
        return send(client, chunk)

    monkeypatch.setattr(es_bulk, "_send_chunk", slow_first_chunk)
    index = es_lifecycle.create_index(client, prefix, bulk_load=True)
    filler = [make_doc(f"b:{n}", f"map {n}", [1, n % 7]) for n in range(2, 3 * CHUNK_SIZE)]
    docs = [
        make_doc("b:0", "first", [1, 0], revision=1),
        make_doc("b:1", "newer", [0, 1], revision=5),
        # b:0 again and b:1 stale land in the fourth
        # chunk, while earlier ones may be in flight
        *filler,
        make_doc("b:0", "last", [1, 1], revision=1),
        make_doc("b:1", "stale", [1, 0], revision=0),
    ]
    report = run_bulk(
        client,
        index_actions(index, docs, WriteReport(), es_mappings.latest_version()),
        WriteReport(),
        threads=4,
    )
    es_lifecycle.restore_settings(client, index)
    assert (report.written, report.skipped_stale, report.failed) == (len(docs) - 1, 1, 0)
    assert client.count(index=index)["count"] == len(filler) + 2
    assert client.get(index=index, id="b:0")["_source"]["title"] == "last"
    assert client.get(index=index, id="b:1")["_source"]["title"] == "newer"


def test_bulk_load_settings_are_restored(client_and_prefix: tuple[Elasticsearch, str]) -> None:
    client, prefix = client_and_prefix
    index = es_lifecycle.create_index(client, prefix, bulk_load=True)
    loading = client.indices.get_settings(index=index)[index]["settings"]["index"]
    assert (loading["refresh_interval"], loading["translog"]["durability"]) == ("-1", "async")
    es_lifecycle.restore_settings(client, index)
    restored = client.indices.get_settings(index=index, include_defaults=True)[index]
    explicit, defaults = restored["settings"]["index"], restored["defaults"]["index"]
    assert explicit["refresh_interval"] == "1s"
    assert "translog" not in explicit and defaults["translog"]["durability"].lower() == "request"
