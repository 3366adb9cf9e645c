"""Index lifecycle on a real cluster: versioned physical indices behind the alias, zero-downtime
reindex (also under concurrent searches), the lock, an interrupted reindex, cleanup."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest
from elasticsearch import Elasticsearch

import es_mappings
from indexer.backends import es_lifecycle, es_reindex
from indexer.backends.base import BackendQuery
from indexer.backends.elasticsearch import ElasticsearchBackend
from tests.support.es import (
    MODEL_ID,
    fresh_prefix,
    make_doc,
    remove_prefix,
    unit,
)

pytestmark = pytest.mark.elasticsearch

N_DOCS = 240


@pytest.fixture
def backend(client: Elasticsearch) -> Iterator[ElasticsearchBackend]:
    prefix = fresh_prefix("lifecycle")
    backend = ElasticsearchBackend(client, prefix)
    rng = np.random.default_rng(7)
    docs = [
        make_doc(
            f"r:{i:04d}",
            f"Map number {i} of the harbor",
            list(rng.normal(size=8)),
            revision=i % 5 + 1,
            year_start=1700 + i,
        )
        for i in range(N_DOCS)
    ]
    assert backend.write(docs).written == N_DOCS
    backend.refresh()
    yield backend
    remove_prefix(client, prefix)


def test_reindex_copies_everything_and_swaps_the_alias(
    client: Elasticsearch, backend: ElasticsearchBackend
) -> None:
    old = es_lifecycle.current_index(client, backend.prefix)
    before = backend.fetch(["r:0007"])["r:0007"]
    seen: list[tuple[int, int]] = []
    result = es_reindex.reindex(
        client,
        backend.prefix,
        progress=lambda done, total: seen.append((done, total)),
        page_size=100,
        drain_seconds=0,
    )
    assert result.old_index == old and result.copied == N_DOCS
    assert es_lifecycle.current_index(client, backend.prefix) == result.new_index != old
    assert not client.indices.exists(index=old)
    assert seen[-1] == (N_DOCS, N_DOCS) and len(seen) == 3
    # vectors, versions and _meta travel; nothing is re-embedded
    after = backend.fetch(["r:0007"])["r:0007"]
    assert (
        after.vector is not None
        and before.vector is not None
        and np.array_equal(after.vector, before.vector)
    )
    assert client.get(index=result.new_index, id="r:0007")["_version"] == 3
    meta = es_lifecycle.index_meta(client, result.new_index)
    assert (meta["model_id"], meta["dims"], meta["mapping_version"]) == (
        MODEL_ID,
        8,
        es_mappings.latest_version(),
    )
    settings = client.indices.get_settings(index=result.new_index)[result.new_index]["settings"][
        "index"
    ]
    assert settings["refresh_interval"] == "1s" and settings["number_of_replicas"] == "0"
    assert backend.search(BackendQuery(vector=unit([1]), num_candidates=10)).total == 10
    assert es_reindex.lock_holder(client, backend.prefix) is None


def test_interrupted_reindex_leaves_the_alias_on_the_old_index(
    client: Elasticsearch, backend: ElasticsearchBackend
) -> None:
    old = es_lifecycle.current_index(client, backend.prefix)

    def fail_midway(done: int, total: int) -> None:
        if done >= 100:
            raise RuntimeError("injected failure mid-copy")

    with pytest.raises(RuntimeError, match="injected"):
        es_reindex.reindex(client, backend.prefix, progress=fail_midway, page_size=100)
    assert es_lifecycle.current_index(client, backend.prefix) == old
    assert es_lifecycle.physical_indices(client, backend.prefix) == [
        old
    ]  # the partial index is gone
    assert es_reindex.lock_holder(client, backend.prefix) is None
    assert backend.search(BackendQuery()).total == N_DOCS


def test_one_reindex_at_a_time_and_stale_locks_expire(
    client: Elasticsearch, backend: ElasticsearchBackend
) -> None:
    with es_reindex.reindex_lock(client, backend.prefix):
        with pytest.raises(es_reindex.ReindexLocked):
            es_reindex.reindex(client, backend.prefix)
        with pytest.raises(es_reindex.ReindexLocked):
            es_reindex.cleanup(client, backend.prefix)
    # a lock whose holder died (already expired) is taken over
    with es_reindex.reindex_lock(client, backend.prefix, ttl=-es_reindex.LOCK_TTL):
        result = es_reindex.reindex(client, backend.prefix, drain_seconds=0)
    assert result.copied == N_DOCS


def test_cleanup_removes_only_indices_behind_no_alias(
    client: Elasticsearch, backend: ElasticsearchBackend
) -> None:
    live = es_lifecycle.current_index(client, backend.prefix)
    leftover = es_lifecycle.create_index(client, backend.prefix)
    status = es_lifecycle.index_status(client, backend.prefix)
    assert status.current == live and status.leftovers == [leftover] and status.documents == N_DOCS
    assert es_reindex.cleanup(client, backend.prefix) == [leftover]
    assert es_lifecycle.physical_indices(client, backend.prefix) == [live]


def test_reindex_under_concurrent_searches_loses_no_query(
    client: Elasticsearch, backend: ElasticsearchBackend
) -> None:
    stop = threading.Event()
    outcomes: list[str] = []
    lock = threading.Lock()

    def search_until_stopped() -> None:
        searcher = ElasticsearchBackend(client, backend.prefix)
        while not stop.is_set():
            try:
                result = searcher.search(
                    BackendQuery(
                        text="harbor", vector=unit([1, 1]), num_candidates=20, facets=("decade",)
                    )
                )
                outcome = (
                    "ok"
                    if result.total == N_DOCS and len(result.semantic) == 20
                    else f"wrong total {result.total}"
                )
            except Exception as exc:  # noqa: BLE001 - every failure is what the test counts
                outcome = f"error {exc!r}"
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=search_until_stopped) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(2):
            es_reindex.reindex(client, backend.prefix, page_size=50, drain_seconds=1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    failures = [o for o in outcomes if o != "ok"]
    assert len(outcomes) > 20, "the searchers did not run during the reindex"
    assert failures == []
