"""A full reindex after a model change on the embedded backend: a new SQLite file re-embedded with
the new model behind the pointer (searches never fail meanwhile), a same-model reindex still
copies, a fault mid-build leaves the old file serving, one reindex at a time."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from celery_tasks.job_specs import parse_job_spec
from celery_tasks.runner import start_job
from indexer.backends import embedded_alias, open_backend
from indexer.backends.base import BackendQuery
from indexer.settings import load_settings
from indexer.torch_clip import load_model
from tests.support.pipeline import (
    REPO,
    fail_reembed_on_call,
    perturbed_demo_model,
    write_harbor_records,
)
from webapi.app import create_app
from webapi.cli import cli

N_RECORDS = 10  # record 7 names no image, record 8's image breaks after the first build


@pytest.fixture(scope="module")
def model_b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return perturbed_demo_model(tmp_path_factory.mktemp("model-b"))


def _app(data: Path, model: str) -> Flask:
    return create_app({"data_dir": data, "pipeline_batch_size": 4, "model": model, "device": "cpu"})


@pytest.fixture
def indexed(tmp_path: Path) -> Path:
    """A data dir indexed with the demo model (model A), the legacy plain ``index.sqlite``."""
    data = tmp_path / "data"
    records_file = write_harbor_records(data, tmp_path / "records.jsonl", N_RECORDS)
    assert (
        start_job(
            _app(data, "demo"),
            parse_job_spec({"source": "records", "path": str(records_file)}),
            inline=True,
        ).state
        == "succeeded"
    )
    return data


def _model_ids(data: Path) -> dict[str, str | None]:
    backend = open_backend(load_settings({"data_dir": data}))
    try:
        docs = backend.fetch([f"m:{n}" for n in range(N_RECORDS)])
    finally:
        backend.close()
    return {doc_id: doc.model_id for doc_id, doc in docs.items()}


def test_new_model_re_embeds_into_a_new_file_while_searches_go_on(
    indexed: Path, model_b: Path
) -> None:
    data = indexed
    model_a = set(_model_ids(data).values()) - {None}
    (data / "images" / "8.png").write_bytes(b"no longer an image")
    reader = open_backend(load_settings({"data_dir": data}))  # opened before the swap, kept open
    failures: list[BaseException] = []
    totals: set[int] = set()
    searches = 0
    stop = threading.Event()

    def search_in_a_loop() -> None:
        nonlocal searches
        while not stop.is_set():
            try:
                totals.add(reader.search(BackendQuery(text="harbor map", num_candidates=50)).total)
                totals.add(reader.search(BackendQuery(browse_limit=50)).total)
                searches += 1
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                failures.append(exc)

    thread = threading.Thread(target=search_in_a_loop)
    thread.start()
    try:
        app = _app(data, str(model_b))
        job = start_job(app, parse_job_spec({"source": "index", "full": True}), inline=True)
    finally:
        time.sleep(0.2)
        stop.set()
        thread.join(timeout=30)
    assert job.state == "succeeded", job
    assert (job.total, job.done, job.without_vector) == (N_RECORDS, N_RECORDS, 1)
    assert any(error.startswith("m:8") for error in job.errors), job.errors
    assert not failures, failures[:3]
    assert totals == {N_RECORDS} and searches > 0

    model_ids = _model_ids(data)
    new_model = load_model(str(model_b)).model_id
    assert len(model_ids) == N_RECORDS
    assert {model_ids[f"m:{n}"] for n in range(N_RECORDS) if n not in (7, 8)} == {
        new_model
    } and new_model not in model_a
    assert (
        model_ids["m:7"] is None and model_ids["m:8"] is None
    )  # no image; broken image: no vector, never model A's
    physical = embedded_alias.resolve(data / "index.sqlite")
    assert physical.name.startswith("index-v1-") and physical.exists()
    assert (
        not (data / "index.sqlite").exists() and not Path(f"{data / 'index.sqlite'}-wal").exists()
    )
    assert embedded_alias.leftovers(data / "index.sqlite") == []
    assert reader.info().physical == str(physical) and reader.model_id() == new_model
    reader.close()

    client = app.test_client()
    response = client.get("/api/search?q=harbor%20map&mode=semantic&min_similarity=-1")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["total"] > 0
    # the old model is now refused: the index is model B's
    assert (
        _app(data, "demo").test_client().get("/api/search?q=harbor&mode=semantic").status_code
        >= 400
    )


def test_same_model_reindex_copies_and_keeps_the_file(indexed: Path) -> None:
    data = indexed
    for path in (data / "images").iterdir():
        path.unlink()  # copying needs no image
    job = start_job(
        _app(data, "demo"), parse_job_spec({"source": "index", "full": True}), inline=True
    )
    assert job.state == "succeeded", job
    assert not embedded_alias.pointer_path(data / "index.sqlite").exists()  # no rebuild: same file


def test_a_fault_mid_build_leaves_the_old_file_serving(
    indexed: Path, model_b: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = indexed
    before = _model_ids(data)
    fail_reembed_on_call(monkeypatch, 2, "injected failure mid-build")
    job = start_job(
        _app(data, str(model_b)), parse_job_spec({"source": "index", "full": True}), inline=True
    )

    assert (
        job.state == "failed"
        and "injected failure" in job.message
        and "old index still serves" in job.message
    )
    assert _model_ids(data) == before
    alias = data / "index.sqlite"
    assert (
        embedded_alias.resolve(alias) == alias and not embedded_alias.pointer_path(alias).exists()
    )
    assert embedded_alias.leftovers(alias) == [] and not list(data.glob("index-v*"))
    assert not embedded_alias.lock_path(alias).exists()
    response = (
        _app(data, "demo")
        .test_client()
        .get("/api/search?q=harbor%20map&mode=semantic&min_similarity=-1")
    )
    assert response.status_code == 200 and response.get_json()["total"] > 0


def test_one_reindex_at_a_time_and_a_stale_lock_expires(indexed: Path, model_b: Path) -> None:
    alias = indexed / "index.sqlite"
    with embedded_alias.reindex_lock(alias):
        job = start_job(
            _app(indexed, str(model_b)),
            parse_job_spec({"source": "index", "full": True}),
            inline=True,
        )
        assert job.state == "failed" and "already running" in job.message
        with (
            pytest.raises(embedded_alias.EmbeddedReindexLocked),
            embedded_alias.reindex_lock(alias),
        ):
            pass
    embedded_alias.lock_path(alias).write_text('{"owner": "crashed:1", "acquired_at": 0}')
    with embedded_alias.reindex_lock(alias):  # expired: taken over
        assert "crashed" not in embedded_alias.lock_path(alias).read_text()
    assert not embedded_alias.lock_path(alias).exists()


def test_the_staff_api_and_the_cli_start_it(indexed: Path, model_b: Path) -> None:
    """Same model through ``POST /api/admin/reindex``: vectors copied, no new file; then the new
    model through ``mapsearch jobs reindex``: re-embedded behind the pointer."""
    app = create_app(
        {
            "data_dir": indexed,
            "pipeline_batch_size": 4,
            "model": "demo",
            "device": "cpu",
            "admin_tokens": ["staff-token"],
        }
    )
    response = app.test_client().post(
        "/api/admin/reindex", json={}, headers={"Authorization": "Bearer staff-token"}
    )
    assert response.status_code == 202, response.get_json()
    job_id = response.get_json()["id"]
    deadline = time.monotonic() + 30
    while (
        state := app.test_client()
        .get(f"/api/admin/jobs/{job_id}", headers={"Authorization": "Bearer staff-token"})
        .get_json()["state"]
    ) not in {"succeeded", "failed", "cancelled"} and time.monotonic() < deadline:
        time.sleep(0.1)
    assert state == "succeeded"
    assert not embedded_alias.pointer_path(indexed / "index.sqlite").exists()

    runner = CliRunner(
        env={
            "MAPSEARCH_DATA_DIR": str(indexed),
            "MAPSEARCH_PIPELINE_BATCH_SIZE": "4",
            "MAPSEARCH_MODEL": str(model_b),
            "MAPSEARCH_DEVICE": "cpu",
            "MAPSEARCH_BROKER_URL": None,
        }
    )
    result = runner.invoke(cli, ["jobs", "reindex"])
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output
    assert embedded_alias.resolve(indexed / "index.sqlite").name.startswith("index-v1-")
    assert set(_model_ids(indexed).values()) - {None} == {load_model(str(model_b)).model_id}


READER = """
import sys
from pathlib import Path
from indexer.backends import open_backend
from indexer.backends.base import BackendQuery
from indexer.settings import load_settings
from indexer.torch_clip import load_model

backend = open_backend(load_settings({"data_dir": sys.argv[1]}))
stop = Path(sys.argv[2])
while not stop.exists():
    total = backend.search(BackendQuery(text="harbor map", num_candidates=50)).total
    print(total, backend.info().physical, flush=True)
"""


def test_a_reader_in_another_process_moves_to_the_new_file(
    indexed: Path, model_b: Path, tmp_path: Path
) -> None:
    """A process that holds the old WAL database open keeps answering across the swap and
    continues on the new file (the new file was never renamed over the live one)."""
    stop, out = tmp_path / "stop", tmp_path / "reader.out"
    with out.open("w") as sink:
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(indexed), str(stop)],
            cwd=REPO,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not out.read_text().strip() and time.monotonic() < deadline and reader.poll() is None:
            time.sleep(0.1)
        job = start_job(
            _app(indexed, str(model_b)),
            parse_job_spec({"source": "index", "full": True}),
            inline=True,
        )
        assert job.state == "succeeded", job
        time.sleep(0.5)
    finally:
        stop.touch()
        reader.wait(timeout=30)
    lines = [line.split(" ", 1) for line in out.read_text().splitlines()]
    assert reader.returncode == 0, out.read_text()[-2000:]
    new = str(embedded_alias.resolve(indexed / "index.sqlite"))
    assert {total for total, _ in lines} == {str(N_RECORDS)}
    assert lines[0][1] == str(indexed / "index.sqlite") and lines[-1][1] == new
