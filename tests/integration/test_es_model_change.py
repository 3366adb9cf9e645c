"""A full reindex after a model change on a real cluster: the staff job re-embeds every document
into a new physical index (mapping dims and _meta from the new model) and swaps the alias while
searches go on; a fault mid-copy leaves the alias and the old model's index untouched."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from flask import Flask

from celery_tasks.job_specs import parse_job_spec
from celery_tasks.runner import start_job
from indexer.backends import es_lifecycle, es_reindex
from indexer.backends.base import BackendQuery
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.torch_clip import load_model
from tests.support.es import ES_URL, fresh_prefix, remove_prefix
from tests.support.pipeline import (
    fail_reembed_on_call,
    perturbed_demo_model,
    write_harbor_records,
)
from webapi.app import create_app

pytestmark = pytest.mark.elasticsearch

N_RECORDS = 10  # record 7 names no image, record 8's image breaks after the first build
IDS = [f"m:{n}" for n in range(N_RECORDS)]


@pytest.fixture(scope="module")
def model_b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return perturbed_demo_model(tmp_path_factory.mktemp("model-b"))


@pytest.fixture
def world(tmp_path: Path, client: Elasticsearch) -> Iterator[tuple[Path, str]]:
    """(data dir, index prefix) of an index built by the pipeline with the demo model (model A)."""
    prefix = fresh_prefix("modelchange")
    data = tmp_path / "data"
    records_file = write_harbor_records(data, tmp_path / "records.jsonl", N_RECORDS)
    job = start_job(
        _app(data, prefix, "demo"),
        parse_job_spec({"source": "records", "path": str(records_file)}),
        inline=True,
    )
    assert job.state == "succeeded", job
    yield data, prefix
    remove_prefix(client, prefix)


def _app(data: Path, prefix: str, model: str) -> Flask:
    return create_app(
        {
            "backend": "elasticsearch",
            "es_url": ES_URL,
            "es_prefix": prefix,
            "data_dir": data,
            "pipeline_batch_size": 4,
            "model": model,
            "device": "cpu",
        }
    )


def _model_ids(client: Elasticsearch, prefix: str) -> dict[str, str | None]:
    backend = ElasticsearchBackend(client, prefix)
    return {doc_id: doc.model_id for doc_id, doc in backend.fetch(IDS).items()}


def test_new_model_re_embeds_into_a_new_index_while_searches_go_on(
    client: Elasticsearch, world: tuple[Path, str], model_b: Path
) -> None:
    data, prefix = world
    old = es_lifecycle.current_index(client, prefix)
    model_a = es_lifecycle.index_meta(client, old or "")["model_id"]
    (data / "images" / "8.png").write_bytes(b"no longer an image")
    reader = ElasticsearchBackend(client, prefix)
    failures: list[BaseException] = []
    totals: set[int] = set()
    stop = threading.Event()

    def search_in_a_loop() -> None:
        while not stop.is_set():
            try:
                totals.add(reader.search(BackendQuery(text="harbor map", num_candidates=50)).total)
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                failures.append(exc)

    thread = threading.Thread(target=search_in_a_loop)
    thread.start()
    try:
        app = _app(data, prefix, str(model_b))
        job = start_job(app, parse_job_spec({"source": "index", "full": True}), inline=True)
    finally:
        time.sleep(0.2)
        stop.set()
        thread.join(timeout=30)
    assert job.state == "succeeded", job
    assert (job.total, job.done, job.without_vector) == (N_RECORDS, N_RECORDS, 1)
    assert any(error.startswith("m:8") for error in job.errors), job.errors
    assert not failures, failures[:3]
    assert totals == {N_RECORDS}

    new_model = load_model(str(model_b)).model_id
    new = es_lifecycle.current_index(client, prefix)
    assert new != old and not client.indices.exists(index=old or "")
    assert es_lifecycle.index_meta(client, new or "")["model_id"] == new_model != model_a
    assert int(client.count(index=new or "")["count"]) == N_RECORDS
    model_ids = _model_ids(client, prefix)
    assert {model_ids[f"m:{n}"] for n in range(N_RECORDS) if n not in (7, 8)} == {new_model}
    assert (
        model_ids["m:7"] is None and model_ids["m:8"] is None
    )  # no image; broken image: no vector
    assert es_reindex.lock_holder(client, prefix) is None
    response = app.test_client().get("/api/search?q=harbor%20map&mode=semantic&min_similarity=-1")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["total"] > 0


def test_a_fault_mid_copy_leaves_the_alias_on_the_old_index(
    client: Elasticsearch, world: tuple[Path, str], model_b: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, prefix = world
    old = es_lifecycle.current_index(client, prefix)
    before = _model_ids(client, prefix)
    fail_reembed_on_call(monkeypatch, 2, "injected failure mid-copy")
    job = start_job(
        _app(data, prefix, str(model_b)),
        parse_job_spec({"source": "index", "full": True}),
        inline=True,
    )

    assert job.state == "failed" and "injected failure" in job.message, job
    assert es_lifecycle.current_index(client, prefix) == old
    assert es_lifecycle.physical_indices(client, prefix) == [old]
    assert _model_ids(client, prefix) == before
    assert es_reindex.lock_holder(client, prefix) is None
    response = (
        _app(data, prefix, "demo")
        .test_client()
        .get("/api/search?q=harbor%20map&mode=semantic&min_similarity=-1")
    )
    assert response.status_code == 200 and response.get_json()["total"] > 0
