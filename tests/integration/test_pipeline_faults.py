"""The Celery pipeline under faults, with real processes: real Redis, real ``celery worker``
subprocesses (killed with SIGKILL), a Redis server restarted mid-job, and a local HTTP server
serving the images (one of them corrupt). Small batches and short timeouts keep it quick."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from celery_tasks.job_specs import parse_job_spec
from celery_tasks.jobs import Job
from celery_tasks.runner import start_job
from celery_tasks.runtime import pipeline_context
from indexer.backends import open_backend
from indexer.records import ImageRef, MapRecord
from indexer.settings import load_settings
from tests.support.http_server import Reply, ScriptedServer, Seen
from tests.support.pipeline import (
    Worker,
    claim_redis_db,
    png_bytes,
    redis_available,
    requests_under,
    serve_images,
    wait_for,
)
from tests.support.services import require_service
from webapi.app import create_app

pytestmark = [pytest.mark.redis, pytest.mark.timeout(300)]

BATCH = 4
RECORDS = 24
CORRUPT_ID = "fault:7"
IMAGE_DELAY = 0.15  # seconds per image: a batch takes long enough to be killed in the middle


@dataclass
class Pipeline:
    """One test's world: broker URL, settings (as env for workers), image server, Flask app."""

    broker_url: str
    env: dict[str, str]
    images: ScriptedServer
    app: Any
    records_path: Path
    tmp_path: Path
    workers: list[Worker]

    def start_worker(self, name: str) -> Worker:
        worker = Worker(self.env, self.tmp_path / f"{name}.log", name)
        self.workers.append(worker)
        return worker

    def job(self, job_id: str) -> Job:
        return pipeline_context(self.app).jobs.get(job_id)

    def wait_final(self, job_id: str, timeout: float) -> Job:
        def final() -> Job | None:
            job = self.job(job_id)
            return job if job.state in {"succeeded", "failed", "cancelled"} else None

        try:
            result: Job = wait_for(final, timeout, f"job {job_id} to finish", interval=0.2)
        except AssertionError:
            logs = "\n".join(f"--- {w.log_path.name}\n{w.log()[-3000:]}" for w in self.workers)
            raise AssertionError(f"job did not finish: {self.job(job_id)}\n{logs}") from None
        return result


def _records(server: ScriptedServer) -> list[MapRecord]:
    images = {f"/img/{n}.png": png_bytes(n) for n in range(RECORDS)}
    images[f"/img/{CORRUPT_ID.split(':')[1]}.png"] = b"\x89PNG\r\n\x1a\n this is not a picture"
    serve_images(server, images, delay=IMAGE_DELAY)
    return [
        MapRecord(
            id=f"fault:{n}",
            source="fault",
            title=f"Fault map {n}",
            revision=1,
            image=ImageRef(url=server.url(f"/img/{n}.png")),
        )
        for n in range(RECORDS)
    ]


@contextmanager
def _pipeline(tmp_path: Path, broker_url: str) -> Iterator[Pipeline]:
    with ScriptedServer() as images:
        yield from _world(tmp_path, broker_url, images)


def _world(tmp_path: Path, broker_url: str, images: ScriptedServer) -> Iterator[Pipeline]:
    records_path = tmp_path / "records.jsonl"
    records_path.write_text("\n".join(r.model_dump_json() for r in _records(images)))
    overrides = {
        "data_dir": str(tmp_path / "data"),
        "broker_url": broker_url,
        "model": "demo",
        "device": "cpu",
        "pipeline_batch_size": str(BATCH),
        "broker_visibility_timeout": "8",
        "allow_private_urls": "true",
        "task_retry_backoff": "0.2",
        "task_retry_backoff_max": "1",
        "image_timeout": "5",
        "loc_base_url": images.base_url,
        "loc_backoff": "0.2",
        "loc_search_per_10s": "1000",
        "loc_search_per_min": "6000",
        "loc_item_per_10s": "1000",
        "loc_item_per_min": "6000",
    }
    env = {f"MAPSEARCH_{k.upper()}": v for k, v in overrides.items()}
    env["OMP_NUM_THREADS"] = "1"
    app = create_app({**{k: v for k, v in overrides.items()}})
    world = Pipeline(broker_url, env, images, app, records_path, tmp_path, [])
    try:
        yield world
    finally:
        for worker in world.workers:
            worker.kill()


@pytest.fixture
def shared_redis_url() -> Iterator[str]:
    base = os.environ.get("MAPSEARCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    require_service("Redis", redis_available(base), "bash scripts/services/redis.sh start")
    with claim_redis_db(base) as url:
        yield url


@pytest.fixture
def pipeline(tmp_path: Path, shared_redis_url: str) -> Iterator[Pipeline]:
    with _pipeline(tmp_path, shared_redis_url) as world:
        yield world


def _assert_indexed_exactly_once(world: Pipeline, job: Job) -> None:
    assert job.state == "succeeded", job
    assert (job.total, job.done, job.failed) == (RECORDS, RECORDS, 0), job
    assert job.batches_done == job.batches_total == RECORDS // BATCH
    backend = open_backend(load_settings({"data_dir": world.tmp_path / "data"}))
    try:
        info = backend.info()
        docs = backend.fetch([f"fault:{n}" for n in range(RECORDS)])
    finally:
        backend.close()
    assert info.documents == RECORDS  # ids are record ids: a rerun overwrote, never duplicated
    assert sorted(docs) == sorted(f"fault:{n}" for n in range(RECORDS))
    # the corrupt image: indexed without a vector, and reported
    assert docs[CORRUPT_ID].vector is None
    assert all(
        docs[f"fault:{n}"].vector is not None for n in range(RECORDS) if f"fault:{n}" != CORRUPT_ID
    )
    assert job.without_vector == 1
    assert any(error.startswith(CORRUPT_ID) for error in job.errors), job.errors


def test_sigkill_worker_mid_batch_then_new_worker_completes_exactly_once(
    pipeline: Pipeline,
) -> None:
    first = pipeline.start_worker("first")
    job = start_job(
        pipeline.app, parse_job_spec({"source": "records", "path": str(pipeline.records_path)})
    )
    # Kill while the second batch's images are being fetched: its embed task is mid-flight.
    wait_for(
        lambda: requests_under(pipeline.images, "/img/") >= BATCH + 2,
        150,
        "the second batch to start",
    )
    first.kill(signal.SIGKILL)
    killed_at = pipeline.job(job.id)
    assert killed_at.state == "running" and killed_at.done < RECORDS

    pipeline.start_worker("second")
    final = pipeline.wait_final(job.id, 120)
    _assert_indexed_exactly_once(pipeline, final)
    # the interrupted batch ran again on the new worker (its images were asked for again or
    # came from the cache), yet it was counted once
    assert requests_under(pipeline.images, "/img/") >= RECORDS


# ------------------------------------------------------------------ a throttling source

BLOCK_SECONDS = 2.5


def _loc_result(n: int) -> dict[str, Any]:
    return {
        "id": f"http://www.loc.gov/item/map1900x{n:04d}/",
        "title": f"Railroad map {n}",
        "date": "1900",
        "digitized": True,
        "image_url": [
            f"//tile.loc.gov/image-services/iiif/service:gmd:x{n}/full/pct:25/0/default.jpg"
        ],
    }


def test_throttling_then_blocking_source_is_waited_out_by_the_worker(pipeline: Pipeline) -> None:
    """429 with Retry-After, then 403 for a while: the harvest task waits (every worker would,
    through the shared bucket) and finishes; nothing is lost or counted twice."""
    first_request: list[float] = []

    def loc_search(seen: Seen) -> Reply:
        if not first_request:
            first_request.append(seen.at)
            return Reply(429, b"Too Many Requests", {"Retry-After": "1"}, "text/plain")
        if seen.at - first_request[0] < BLOCK_SECONDS:
            return Reply(403, b"<html>Forbidden</html>", content_type="text/html")
        return Reply.json(
            {"results": [_loc_result(n) for n in range(6)], "pagination": {"of": 6, "next": None}}
        )

    pipeline.images.handle("/maps/", loc_search)
    pipeline.env["MAPSEARCH_WORKER_PRELOAD_MODEL"] = "false"  # metadata only: no model needed
    pipeline.start_worker("harvester")
    job = start_job(
        pipeline.app, parse_job_spec({"source": "loc", "query": "railroad", "with_images": False})
    )
    final = pipeline.wait_final(job.id, 120)

    assert final.state == "succeeded", final
    assert (final.total, final.done, final.failed) == (6, 6, 0)
    seen = pipeline.images.requests_to("/maps/")
    assert len(seen) >= 3  # the 429, at least one 403, the answer
    assert seen[1].at - seen[0].at >= 0.95  # Retry-After honoured
    assert seen[-1].at - seen[0].at >= BLOCK_SECONDS  # waited the block out rather than failing
    assert seen[-1].query["q"] == ["railroad"]
    backend = open_backend(load_settings({"data_dir": pipeline.tmp_path / "data"}))
    try:
        assert sorted(backend.fetch([f"loc:map1900x{n:04d}/1" for n in range(6)])) == sorted(
            f"loc:map1900x{n:04d}/1" for n in range(6)
        )
    finally:
        backend.close()


# ------------------------------------------------------------------ Redis restart


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A persistent (AOF, fsync always) redis-server of our own, so the test can restart it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: redis_available(self.url), 10, "private redis to answer")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # shutdown: flushes the append-only file
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    require_service(
        "Redis", shutil.which("redis-server") is not None, "bash scripts/services/redis.sh start"
    )
    (tmp_path / "redis").mkdir()
    server = PrivateRedis(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_redis_restart_mid_job_resumes_and_never_lies(
    tmp_path: Path, private_redis: PrivateRedis
) -> None:
    with _pipeline(tmp_path, private_redis.url) as world:
        world.start_worker("steady")
        job = start_job(
            world.app, parse_job_spec({"source": "records", "path": str(world.records_path)})
        )
        wait_for(
            lambda: requests_under(world.images, "/img/") >= BATCH + 2,
            150,
            "the second batch to start",
        )
        private_redis.stop()
        time.sleep(1.5)  # workers see connection errors meanwhile
        private_redis.start()
        final = world.wait_final(job.id, 150)
        # Either the job resumed to a verified success,
        # or it failed loudly: never success with gaps.
        if final.state == "succeeded":
            _assert_indexed_exactly_once(world, final)
        else:
            assert final.state == "failed" and final.message, final
        assert final.state == "succeeded", (
            f"expected the persistent broker to let the job resume: {final}"
        )


def test_broker_keys_are_scoped_to_the_test_database(pipeline: Pipeline) -> None:
    """A cheap guard for the isolation the fault tests rely on: the job lives in the claimed DB."""
    job = start_job(
        pipeline.app, parse_job_spec({"source": "records", "path": str(pipeline.records_path)})
    )
    client = redis.Redis.from_url(pipeline.broker_url)
    assert client.exists(f"mapsearch:job:{job.id}")
    assert client.llen("harvest") == 1  # queued for a worker; none is running in this test
