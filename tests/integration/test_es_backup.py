"""Elasticsearch backups: ``mapsearch backup`` snapshots the live index into a filesystem
repository under ``path.repo`` while it serves, ``mapsearch restore`` brings it back behind the
alias (searches go on), and every refusal is one ``Error:`` line."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch

from indexer.backends import es_lifecycle
from indexer.backends.base import BackendQuery
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.es_snapshots import repository_name
from tests.support.churn import churn_doc
from tests.support.es import ES_URL, fresh_prefix, remove_prefix
from tests.support.services import require_service
from webapi.cli import cli

pytestmark = pytest.mark.elasticsearch

DOCUMENTS = 60


@pytest.fixture
def prefix(client: Elasticsearch) -> Iterator[str]:
    """A fresh prefix with DOCUMENTS documents, on a cluster whose nodes have ``path.repo``."""
    nodes = client.nodes.info(metric="settings")["nodes"]
    require_service(
        "Elasticsearch with path.repo (snapshots)",
        bool(nodes)
        and all(n.get("settings", {}).get("path", {}).get("repo") for n in nodes.values()),
        "bash scripts/services/elasticsearch.sh stop && bash scripts/services/elasticsearch.sh "
        "start "
        "(the script sets path.repo; nodes started before it did need the restart)",
    )
    name = fresh_prefix("backup")
    backend = ElasticsearchBackend(client, name)
    assert backend.write(churn_doc(f"b:{n}", 1) for n in range(DOCUMENTS)).written == DOCUMENTS
    backend.refresh()
    yield name
    try:
        snapshots = client.snapshot.get(repository=repository_name(name), snapshot="_all")
        for snapshot in snapshots["snapshots"]:
            client.snapshot.delete(repository=repository_name(name), snapshot=snapshot["snapshot"])
        client.snapshot.delete_repository(name=repository_name(name))
    except Exception:  # the test may have failed before registering the repository
        pass
    remove_prefix(client, name)


def _one_error_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    return lines[0]


def test_snapshot_round_trip_while_searches_go_on(client: Elasticsearch, prefix: str) -> None:
    runner = CliRunner()
    common = ["--es-url", ES_URL, "--prefix", prefix]
    location = prefix  # relative: Elasticsearch resolves it under path.repo
    backend = ElasticsearchBackend(client, prefix)
    before = backend.fetch([f"b:{n}" for n in range(DOCUMENTS)])

    backed = runner.invoke(cli, ["backup", location, "--name", "snap-1", *common])
    assert backed.exit_code == 0, backed.output
    assert f"backed up {DOCUMENTS} documents" in backed.output

    backend.write([churn_doc("after-backup", 1)])
    backend.delete(["b:0", "b:1"])
    backend.refresh()
    assert backend.info().documents == DOCUMENTS - 1
    old = es_lifecycle.current_index(client, prefix)

    failures: list[str] = []
    searches = 0
    stop = threading.Event()

    def search_forever() -> None:
        nonlocal searches
        reader = ElasticsearchBackend(client, prefix)
        query = BackendQuery(vector=before["b:5"].vector, num_candidates=5)
        while not stop.is_set():
            try:
                if not reader.search(query).semantic:
                    failures.append("empty answer")
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
            searches += 1

    searcher = threading.Thread(target=search_forever)
    searcher.start()
    try:
        restored = runner.invoke(cli, ["restore", location, *common])  # the newest: snap-1
    finally:
        stop.set()
        searcher.join()
    assert restored.exit_code == 0, restored.output
    assert "restored snap-1" in restored.output and f"({DOCUMENTS} documents)" in restored.output
    assert searches > 0 and failures == []
    new = es_lifecycle.current_index(client, prefix)
    assert new != old and not client.indices.exists(index=old or "")
    after = backend.fetch([*before, "after-backup"])
    assert set(after) == set(before)  # the deletes are undone, the later write is gone
    for doc_id, doc in before.items():
        assert after[doc_id].record == doc.record
        assert np.allclose(after[doc_id].vector, doc.vector)
    assert es_lifecycle.index_meta(client, new or "")["model_id"] == before["b:5"].model_id


def test_backup_and_restore_refusals_are_one_error_line(client: Elasticsearch, prefix: str) -> None:
    runner = CliRunner()
    common = ["--es-url", ES_URL, "--prefix", prefix]
    outside = runner.invoke(cli, ["backup", "/proc/not-under-path-repo", *common])
    assert outside.exit_code == 1 and "path.repo" in _one_error_line(outside.output)
    assert runner.invoke(cli, ["backup", prefix, "--name", "one", *common]).exit_code == 0
    unknown = runner.invoke(cli, ["restore", prefix, "--name", "two", *common])
    assert unknown.exit_code == 1 and "no snapshot" in _one_error_line(unknown.output)
    empty = runner.invoke(
        cli, ["backup", prefix, "--es-url", ES_URL, "--prefix", fresh_prefix("none")]
    )
    assert empty.exit_code == 1 and "no index behind" in _one_error_line(empty.output)
