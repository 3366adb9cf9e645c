"""A reindex of the Elasticsearch index loses no write or delete made while it copies: writers
upsert and delete through the alias the whole time, and the new index is compared id by id."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from indexer.backends import es_lifecycle
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.elasticsearch_lifecycle import ElasticsearchLifecycle
from indexer.backends.es_client import make_client
from tests.support.churn import Churn, churn_doc, compare
from tests.support.es import ES_URL, fresh_prefix, remove_prefix

pytestmark = pytest.mark.elasticsearch

INITIAL = 1500


@pytest.fixture
def prefix(client: Elasticsearch) -> Iterator[str]:
    """A fresh prefix holding INITIAL documents."""
    name = fresh_prefix("lossless")
    backend = ElasticsearchBackend(client, name)
    assert backend.write(churn_doc(f"seed:{n}", 1) for n in range(INITIAL)).written == INITIAL
    backend.refresh()
    yield name
    remove_prefix(client, name)


def test_reindex_carries_every_write_and_delete_made_while_it_copies(
    client: Elasticsearch, prefix: str
) -> None:
    def writer_backend() -> ElasticsearchBackend:
        return ElasticsearchBackend(make_client(ES_URL, 30), prefix)

    churn = Churn(writer_backend, {f"seed:{n}": 1 for n in range(INITIAL)})
    pages = 0

    def slow_progress(done: int, total: int) -> None:  # a large index copies for a while
        nonlocal pages
        pages += 1
        churn.window.set()
        time.sleep(0.05)

    old = es_lifecycle.current_index(client, prefix)
    started = time.monotonic()
    churn.start()
    try:
        time.sleep(0.3)
        outcome = ElasticsearchLifecycle(client, prefix, drain_seconds=0.5).reindex(
            page_size=50, progress=slow_progress
        )
        churn.window.clear()
        time.sleep(0.5)  # writers go on against the new index after the swap
    finally:
        churn.stop()
    elapsed = time.monotonic() - started
    assert not churn.errors, churn.errors[:5]
    new = es_lifecycle.current_index(client, prefix)
    assert new == outcome.new_index != old
    assert not client.indices.exists(index=old or "")
    reader = ElasticsearchBackend(client, prefix)
    reader.refresh()
    missing, extra, stale = compare(reader, churn)
    documents = reader.info().documents
    print(
        f"\nelasticsearch reindex under writes ({elapsed:.1f} s): {pages} pages copied; "
        f"{churn.writes_in_window} writes and {churn.deletes_in_window} deletes during the copy "
        f"({churn.writes}/{churn.deletes} in all); carried over {outcome.caught_up} writes, "
        f"{outcome.deletes_caught_up} deletes; {len(missing)} missing, {len(extra)} extra, "
        f"{len(stale)} stale; writers waited {outcome.writes_blocked_s:.2f} s at the swap"
    )
    assert churn.writes_in_window > 50 and churn.deletes_in_window > 20
    assert outcome.caught_up > 0 and outcome.deletes_caught_up > 0
    assert (missing, extra, stale) == ([], [], [])
    assert documents == len(churn.expected)


def test_reindex_keeps_the_replica_count_an_operator_set(
    client: Elasticsearch, prefix: str
) -> None:
    old = es_lifecycle.current_index(client, prefix) or ""
    client.indices.put_settings(index=old, settings={"number_of_replicas": 1})
    outcome = ElasticsearchLifecycle(client, prefix, drain_seconds=0).reindex()
    assert outcome.documents == INITIAL
    assert es_lifecycle.replica_count(client, outcome.new_index) == 1


def test_a_write_block_left_by_a_killed_reindex_is_cleared(
    client: Elasticsearch, prefix: str
) -> None:
    live = es_lifecycle.current_index(client, prefix) or ""
    client.indices.put_settings(index=live, settings={"index.blocks.write": True})
    assert ElasticsearchLifecycle(client, prefix).cleanup() == []
    backend = ElasticsearchBackend(client, prefix)
    assert backend.write([churn_doc("after-cleanup", 1)]).written == 1
