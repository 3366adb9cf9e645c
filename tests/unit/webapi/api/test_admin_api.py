"""Staff API: token checks, job lifecycle through the in-process pipeline, status, problems."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from indexer.backends import open_backend
from indexer.records import IndexDocument, MapRecord
from tests.support.paths import FIXTURES
from webapi.app import create_app

TOKEN = "s3cret-staff-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    app = create_app(
        {"data_dir": tmp_path / "data", "admin_tokens": ["other-token", TOKEN], "TESTING": True}
    )
    return app.test_client()


def _index(tmp_path: Path, count: int) -> None:
    from indexer.settings import load_settings

    backend = open_backend(load_settings({"data_dir": tmp_path / "data"}))
    backend.write(
        [
            IndexDocument(record=MapRecord(id=f"t:{i}", source="t", title=f"Map {i}", revision=1))
            for i in range(count)
        ]
    )
    backend.close()


def _wait(client: FlaskClient, job_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/admin/jobs/{job_id}", headers=AUTH).get_json()
        if job["state"] in {"succeeded", "failed", "cancelled"}:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_no_token_is_401_with_challenge(client: FlaskClient) -> None:
    response = client.get("/api/admin/jobs")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_token_is_403(client: FlaskClient) -> None:
    response = client.post("/api/admin/reindex", json={}, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 403
    assert response.get_json()["status"] == 403


def test_no_configured_tokens_closes_the_api(tmp_path: Path) -> None:
    client = create_app({"data_dir": tmp_path / "d"}).test_client()
    assert client.get("/api/admin/status", headers=AUTH).status_code == 403


def test_reindex_ids_runs_as_a_job_and_reports_progress(
    client: FlaskClient, tmp_path: Path
) -> None:
    _index(tmp_path, 5)
    response = client.post(
        "/api/admin/reindex", json={"ids": ["t:1", "t:3", "t:missing"]}, headers=AUTH
    )
    assert response.status_code == 202
    assert response.headers["Location"].endswith(response.get_json()["id"])
    job = _wait(client, response.get_json()["id"])
    # the unknown id is not a record of the index: the job reindexes the two that exist
    assert job["state"] == "succeeded", job
    assert (job["total"], job["done"], job["failed"]) == (2, 2, 0)
    assert job["rate"] is not None and job["eta_seconds"] == 0.0
    listed = client.get("/api/admin/jobs", headers=AUTH).get_json()["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]


def test_full_reindex_covers_every_document(client: FlaskClient, tmp_path: Path) -> None:
    _index(tmp_path, 7)
    job = _wait(client, client.post("/api/admin/reindex", json={}, headers=AUTH).get_json()["id"])
    assert (job["state"], job["total"], job["done"]) == ("succeeded", 7, 7)


def test_unknown_job_is_404_problem(client: FlaskClient) -> None:
    response = client.get("/api/admin/jobs/doesnotexist", headers=AUTH)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert client.post("/api/admin/jobs/doesnotexist/cancel", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"source": "ftp"},
        {"source": "iiif"},
        {"source": "loc", "facets": ["no-colon"]},
        {"source": "loc", "dates": "last year"},
        {"source": "loc", "limit": 0},
        {"source": "loc", "url": "http://example.org/manifest"},
        {"source": "loc", "surprise": 1},
    ],
)
def test_bad_harvest_requests_are_400(client: FlaskClient, body: dict[str, Any]) -> None:
    response = client.post("/api/admin/harvest", json=body, headers=AUTH)
    assert response.status_code == 400, response.get_json()
    assert response.mimetype == "application/problem+json"


def test_reindex_rejects_an_empty_id_list(client: FlaskClient) -> None:
    assert client.post("/api/admin/reindex", json={"ids": []}, headers=AUTH).status_code == 400


def test_status_reports_the_index(client: FlaskClient, tmp_path: Path) -> None:
    _index(tmp_path, 3)
    body = client.get("/api/admin/status", headers=AUTH).get_json()
    assert body["backend"] == "embedded"
    assert body["documents"] == 3
    assert body["pipeline"] == "in-process"


def test_a_job_without_progress_is_failed_loudly(tmp_path: Path) -> None:
    """A job whose batches were lost (workers gone, Redis wiped) never stays "running" forever."""
    from celery_tasks.runtime import pipeline_context

    app = create_app(
        {"data_dir": tmp_path / "data", "admin_tokens": [TOKEN], "job_stall_timeout": 0.2}
    )
    jobs = pipeline_context(app).jobs
    job = jobs.create("harvest", {"source": "loc"})
    jobs.update(job.id, state="running", started_at=time.time())
    jobs.add_batch(job.id, "lost-batch", ["a", "b"])
    client = app.test_client()
    assert client.get(f"/api/admin/jobs/{job.id}", headers=AUTH).get_json()["state"] == "running"
    time.sleep(0.3)
    body = client.get(f"/api/admin/jobs/{job.id}", headers=AUTH).get_json()
    assert body["state"] == "failed"
    assert "no progress" in body["message"] and "0/1 batches" in body["message"]


def test_iiif_harvest_through_the_staff_api(tmp_path: Path) -> None:
    """POST /api/admin/harvest with a IIIF manifest (a recorded real one, served on 127.0.0.1):
    one record per canvas, indexed by the in-process pipeline behind the API."""
    import json

    from tests.support.http_server import Reply, ScriptedServer

    fixture = FIXTURES / "iiif" / "manifest.3.delft-trk-9812103.json"
    manifest = json.loads(fixture.read_text())
    with ScriptedServer() as server:
        manifest["id"] = server.url("/manifest.json")
        server.add("/manifest.json", Reply.json(manifest))
        app = create_app(
            {"data_dir": tmp_path / "data", "admin_tokens": [TOKEN], "allow_private_urls": True}
        )
        client = app.test_client()
        response = client.post(
            "/api/admin/harvest",
            headers=AUTH,
            json={"source": "iiif", "url": server.url("/manifest.json"), "with_images": False},
        )
        assert response.status_code == 202, response.get_json()
        job = _wait(client, response.get_json()["id"])
    assert job["state"] == "succeeded", job
    assert job["total"] == job["done"] == len(manifest["items"]) == 29
    status = client.get("/api/admin/status", headers=AUTH).get_json()
    assert status["documents"] == 29


def test_a_second_reindex_is_refused_while_one_is_active_from_any_entry_point(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from celery_tasks.runtime import pipeline_context
    from webapi.cli import cli

    app = create_app({"data_dir": tmp_path / "data", "admin_tokens": [TOKEN], "TESTING": True})
    active = pipeline_context(app).jobs.create("reindex", {"source": "index", "full": True})
    client = app.test_client()
    refused = client.post("/api/admin/reindex", json={}, headers=AUTH)
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert active.id in refused.get_json()["detail"]
    result = CliRunner().invoke(
        cli, ["jobs", "reindex"], obj=ScriptInfo(create_app=lambda: app), catch_exceptions=False
    )
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert result.output.strip().splitlines()[-1].startswith("Error: Job already running")
    pipeline_context(app).jobs.update(active.id, state="cancelled")
    accepted = client.post("/api/admin/reindex", json={}, headers=AUTH)
    assert accepted.status_code == 202, accepted.get_json()


def test_a_stuck_reindex_is_marked_and_does_not_block_the_next(tmp_path: Path) -> None:
    from celery_tasks.runtime import pipeline_context

    app = create_app(
        {"data_dir": tmp_path / "data", "admin_tokens": [TOKEN], "job_stall_timeout": 0.2}
    )
    jobs = pipeline_context(app).jobs
    stuck = jobs.create("reindex", {"source": "index", "full": True})
    jobs.update(stuck.id, state="running", started_at=time.time())
    time.sleep(0.3)
    client = app.test_client()
    accepted = client.post("/api/admin/reindex", json={}, headers=AUTH)
    assert accepted.status_code == 202, accepted.get_json()
    assert jobs.get(stuck.id).state == "failed" and "no progress" in jobs.get(stuck.id).message
    _wait(client, accepted.get_json()["id"])


def test_in_process_jobs_run_on_a_bounded_pool(tmp_path: Path) -> None:
    import threading

    from celery_tasks.runner import BoundedJobPool, JobQueueFull, job_pool

    pool = BoundedJobPool(workers=1, queue_size=1)
    release = threading.Event()
    ran: list[int] = []
    for n in range(2):
        pool.reserve()
        pool.submit(lambda n=n: (release.wait(5), ran.append(n)))
    with pytest.raises(JobQueueFull):
        pool.reserve()  # one running, one waiting: full
    release.set()
    deadline = time.monotonic() + 5
    while len(ran) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ran == [0, 1]
    pool.reserve()  # places are given back as jobs end

    app = create_app(
        {
            "data_dir": tmp_path / "data",
            "admin_tokens": [TOKEN],
            "job_workers": 1,
            "job_queue_size": 0,
        }
    )
    job_pool(app).reserve()  # the one place is taken (a long harvest)
    client = app.test_client()
    refused = client.post("/api/admin/reindex", json={}, headers=AUTH)
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    assert threading.active_count() < 50
