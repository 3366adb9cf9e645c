"""Both job stores count a batch once, however often
its task runs, and keep a bounded error sample."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from celery_tasks.jobs import (
    MAX_SAMPLE_ERRORS,
    Job,
    JobAlreadyActive,
    JobNotFound,
    JobStore,
    RedisJobStore,
    SqliteJobStore,
)
from tests.support.pipeline import claim_redis_db, redis_available
from tests.support.services import require_service


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobStore]:
    if request.param == "sqlite":
        yield SqliteJobStore(tmp_path / "jobs.sqlite")
        return
    base = os.environ.get("MAPSEARCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    require_service("Redis", redis_available(base), "bash scripts/services/redis.sh start")
    with claim_redis_db(base) as url:
        yield RedisJobStore(url)


def test_a_batch_is_counted_once(store: JobStore) -> None:
    job = store.create("harvest", {"source": "records", "path": "x"})
    assert store.add_batch(job.id, "b1", ["a", "b", "c"])
    assert not store.add_batch(job.id, "b1", ["a", "b", "c"])  # redelivered harvest
    assert store.add_batch(job.id, "b2", ["d"])
    assert store.complete_batch(job.id, "b1", done=2, failed=1, without_vector=1, errors=["c: bad"])
    assert not store.complete_batch(
        job.id, "b1", done=3, failed=0, without_vector=0, errors=["again"]
    )
    got = store.get(job.id)
    assert (got.total, got.done, got.failed, got.without_vector) == (4, 2, 1, 1)
    assert (got.batches_total, got.batches_done) == (2, 1)
    assert got.errors == ["c: bad"]
    assert sorted(store.batch_ids(job.id)) == ["b1", "b2"]
    assert store.batch_record_ids(job.id, "b1") == ["a", "b", "c"]


def test_update_list_and_finalize_claim(store: JobStore) -> None:
    first = store.create("harvest", {"source": "loc"})
    second = store.create("reindex", {"source": "index", "full": True})
    store.update(first.id, state="running", started_at=123.5, harvest_complete=True)
    got = store.get(first.id)
    assert (got.state, got.started_at, got.harvest_complete, got.params) == (
        "running",
        123.5,
        True,
        {"source": "loc"},
    )
    assert [job.id for job in store.recent(10)] == [second.id, first.id]
    assert store.claim_finalize(first.id)
    assert not store.claim_finalize(first.id)
    with pytest.raises(JobNotFound):
        store.get("nope")


def test_error_sample_is_bounded(store: JobStore) -> None:
    job = store.create("harvest", {})
    for n in range(30):
        store.add_batch(job.id, f"b{n}", [str(n)])
        store.complete_batch(
            job.id, f"b{n}", done=0, failed=1, without_vector=0, errors=[f"{n}: broken"]
        )
    got = store.get(job.id)
    assert got.failed == 30
    assert len(got.errors) == MAX_SAMPLE_ERRORS


def test_one_reindex_at_a_time_whoever_asks(store: JobStore) -> None:
    first = store.create("reindex", {"source": "index", "full": True})
    with pytest.raises(JobAlreadyActive) as raised:
        store.create("reindex", {"source": "index", "ids": ["a"]})
    assert raised.value.job_id == first.id
    assert store.create("harvest", {"source": "loc"}).kind == "harvest"  # not exclusive
    store.update(first.id, state="running")
    with pytest.raises(JobAlreadyActive):
        store.create("reindex", {"source": "index", "full": True})
    store.update(first.id, state="succeeded")
    second = store.create("reindex", {"source": "index", "full": True})
    assert second.id != first.id and store.get(second.id).state == "queued"


def test_concurrent_reindex_requests_start_exactly_one(store: JobStore) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def attempt(_: int) -> str:
        try:
            return store.create("reindex", {"source": "index", "full": True}).id
        except JobAlreadyActive:
            return ""

    with ThreadPoolExecutor(max_workers=8) as pool:
        started = [job_id for job_id in pool.map(attempt, range(16)) if job_id]
    assert len(started) == 1


def test_known_total_and_eta_use_a_count_taken_first() -> None:
    job = Job(id="j", kind="reindex", params={}, state="running", started_at=time.time() - 10)
    job.total, job.done = 20, 10  # 1 record/s; 20 listed so far
    assert job.known_total is None and job.eta_seconds is None  # a lower bound: no ETA yet
    job.expected_total = 60
    assert job.known_total == 60 and job.eta_seconds == pytest.approx(50, rel=0.1)
    job.harvest_complete, job.total = True, 58  # the source is exhausted: its count is final
    assert job.known_total == 58 and job.to_dict()["known_total"] == 58


def test_expected_total_and_retries_round_trip(store: JobStore) -> None:
    job = store.create("reindex", {"source": "index", "full": True})
    store.update(job.id, expected_total=60, retries=2, message="retrying embed (2 of 5)")
    again = store.get(job.id)
    assert (again.expected_total, again.retries) == (60, 2)
    assert again.message.startswith("retrying")
