"""Helpers for tests against the real Elasticsearch: reachability, a fresh index prefix per test
module (removed afterwards), and small documents with known vectors."""

from __future__ import annotations

import os
import uuid

import numpy as np
from elasticsearch import Elasticsearch

from indexer.records import Extent, IndexDocument, MapRecord, Place
from tests.support.services import require_service

ES_URL = os.environ.get("MAPSEARCH_TEST_ES_URL", "http://127.0.0.1:9200")
START_COMMAND = "bash scripts/services/elasticsearch.sh start"
MODEL_ID = "test-model"
DIMS = 8


def es_client() -> Elasticsearch:
    """A client for the test cluster; fails under CI=true (skips elsewhere) when it is down."""
    client = Elasticsearch(ES_URL, request_timeout=30)
    try:
        # the minimal distribution has no GET / (so no ping()): ask for cluster health instead
        reachable = client.cluster.health()["status"] in ("green", "yellow")
    except Exception:
        reachable = False
    require_service("Elasticsearch", reachable, START_COMMAND)
    return client


def fresh_prefix(label: str) -> str:
    """An index prefix no other test uses."""
    return f"mstest-{label}-{uuid.uuid4().hex[:8]}"


def remove_prefix(client: Elasticsearch, prefix: str) -> None:
    """Delete every index (and so alias) of ``prefix``."""
    client.indices.delete(
        index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True, expand_wildcards="all"
    )


def unit(values: list[float]) -> np.ndarray:
    """A unit-norm float32 vector padded to DIMS."""
    vector = np.zeros(DIMS, np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


def make_doc(
    doc_id: str,
    title: str,
    vector: list[float] | None = None,
    revision: int = 0,
    **fields: object,
) -> IndexDocument:
    """A document of source ``test`` with an optional vector of the test model."""
    places = [Place(name=p) for p in fields.pop("places", [])]  # type: ignore[attr-defined]
    extent = fields.pop("extent", None)
    record = MapRecord(
        id=doc_id,
        source="test",
        title=title,
        revision=revision,
        places=places,
        extent=Extent(**extent) if isinstance(extent, dict) else None,
        **fields,  # type: ignore[arg-type]
    )
    return IndexDocument(
        record=record,
        vector=None if vector is None else unit(vector),
        model_id=MODEL_ID if vector else None,
    )
