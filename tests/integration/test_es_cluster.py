"""A node dies, search goes on: on a real three-node cluster (scripts/services/es-cluster.sh), an
index with one replica keeps answering searches and taking a bulk load while one node is killed
with SIGKILL; nothing is lost or doubled once the node has rejoined and the cluster is green."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from elasticsearch import Elasticsearch

from indexer.backends import es_lifecycle
from indexer.backends.base import BackendQuery
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.es_client import make_client
from indexer.backends.es_scan import scan_pages
from tests.support.churn import churn_doc
from tests.support.es import fresh_prefix, remove_prefix
from tests.support.services import require_service

pytestmark = [pytest.mark.elasticsearch, pytest.mark.es_cluster]

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "services" / "es-cluster.sh"
PORTS = os.environ.get("MAPSEARCH_TEST_ES_CLUSTER_PORTS", "9211,9212,9213")
URLS = ",".join(f"http://127.0.0.1:{port}" for port in PORTS.split(","))
INITIAL = 3000
LOADED = 6000  # written by the bulk load during the kill
BATCH = 200
GREEN_WAIT = "180s"


def _script(*args: str) -> str:
    env = {**os.environ, "MAPSEARCH_ES_CLUSTER_PORTS": PORTS}
    done = subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Elasticsearch]:
    """A client of every node; fails under CI=true (skips elsewhere) without three nodes."""
    client = make_client(URLS, 30)
    try:
        nodes = int(client.cluster.health()["number_of_nodes"])
    except Exception:
        nodes = 0
    require_service(
        "A three-node Elasticsearch cluster", nodes == 3, f"bash {SCRIPT.relative_to(REPO)} start"
    )
    yield client
    client.close()


def _node_of_primary(client: Elasticsearch, index: str) -> str:
    shards = client.cat.shards(index=index, format="json", h="prirep,node,state")
    return next(str(s["node"]) for s in shards if s["prirep"] == "p" and s["state"] == "STARTED")


def test_a_node_killed_mid_search_and_mid_bulk_load_loses_nothing(cluster: Elasticsearch) -> None:
    started = time.monotonic()
    prefix = fresh_prefix("cluster")
    backend = ElasticsearchBackend(cluster, prefix)
    try:
        assert backend.write(churn_doc(f"c:{n}", 1) for n in range(INITIAL)).written == INITIAL
        index = es_lifecycle.current_index(cluster, prefix) or ""
        cluster.indices.put_settings(index=index, settings={"number_of_replicas": 1})
        cluster.cluster.health(index=index, wait_for_status="green", timeout=GREEN_WAIT)
        backend.refresh()
        victim = _node_of_primary(cluster, index)  # its death promotes the replica mid-bulk
        victim_port = victim.rsplit("-", 1)[1]
        pid = int(_script("pid", victim_port))

        stop = threading.Event()
        killed = threading.Event()
        searches = {"before": 0, "during": 0}
        progress = {"loaded": 0}
        failures: list[str] = []
        load_retries: list[str] = []
        loaded = threading.Event()

        def search_loop(seed: int) -> None:
            reader = ElasticsearchBackend(make_client(URLS, 30), prefix)
            rng = np.random.default_rng(seed)
            while not stop.is_set():
                vector = rng.normal(size=8).astype(np.float32)
                query = BackendQuery(
                    text="churned map", vector=vector / np.linalg.norm(vector), num_candidates=50
                )
                try:
                    result = reader.search(query)
                    if not result.semantic or not result.keyword:
                        failures.append("an empty list")
                except Exception as exc:  # after the client's and the backend's retries
                    failures.append(f"{type(exc).__name__}: {exc}")
                searches["during" if killed.is_set() else "before"] += 1
            reader.close()

        def bulk_load() -> None:
            writer = ElasticsearchBackend(make_client(URLS, 30), prefix)
            for start in range(0, LOADED, BATCH):
                docs = [churn_doc(f"l:{n}", 1) for n in range(start, start + BATCH)]
                for attempt in range(10):  # a batch is re-sent as a pipeline task is retried
                    try:
                        report = writer.write(docs)
                    except Exception as exc:
                        load_retries.append(f"batch {start}: {type(exc).__name__}")
                        time.sleep(1 + attempt)
                        continue
                    if not report.failed:
                        progress["loaded"] = start + BATCH
                        break
                    load_retries.append(
                        f"batch {start}: {report.failed} failed {report.errors[:1]}"
                    )
                    failed = {e.split(":", 1)[0] for e in report.errors}
                    docs = [d for d in docs if d.id in failed] or docs
                    time.sleep(1 + attempt)
                else:
                    failures.append(f"batch {start} never landed")
            writer.close()
            loaded.set()

        threads = [threading.Thread(target=search_loop, args=(seed,)) for seed in (1, 2)]
        threads.append(threading.Thread(target=bulk_load))
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            searches["before"] < 10 or progress["loaded"] < 1000
        ):
            time.sleep(0.1)  # searches and the load are well under way
        os.kill(pid, signal.SIGKILL)
        loaded_at_kill = progress["loaded"]
        killed.set()
        killed_at = time.monotonic()
        loaded.wait(timeout=300)
        time.sleep(1.0)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)

        _script("start-node", victim_port)
        health = cluster.cluster.health(
            wait_for_nodes="3", wait_for_status="green", timeout=GREEN_WAIT
        )
        rejoined_after = time.monotonic() - killed_at
        cluster.indices.refresh(index=index)
        ids = [
            hit["_id"] for page in scan_pages(cluster, index, 5000, source=False) for hit in page
        ]
        expected = {f"c:{n}" for n in range(INITIAL)} | {f"l:{n}" for n in range(LOADED)}
        nodes = {n["name"] for n in cluster.cat.nodes(format="json", h="name")}
        print(
            f"\ncluster node kill: killed {victim} (primary holder, pid {pid}); searches "
            f"{searches['before']} before and {searches['during']} during/after the kill, "
            f"{len(failures)} failed after retries; bulk load {LOADED} documents "
            f"({loaded_at_kill} written at the kill), "
            f"{len(load_retries)} batch re-sends; documents before {INITIAL}, after {len(ids)} "
            f"(expected {len(expected)}, {len(set(ids))} distinct); node back and cluster "
            f"{health['status']} {rejoined_after:.1f} s after the kill; wall "
            f"{time.monotonic() - started:.1f} s"
        )
        assert failures == [], failures[:5]
        assert searches["during"] > 20
        assert loaded.is_set() and 0 < loaded_at_kill < LOADED
        assert health["status"] == "green" and int(health["number_of_nodes"]) == 3
        assert victim in nodes
        assert len(ids) == len(set(ids)) == len(expected) and set(ids) == expected
    finally:
        remove_prefix(cluster, prefix)
