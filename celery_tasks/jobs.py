"""Job progress that staff can watch: state, done/failed/total, rate, ETA, sample errors and a
cancel flag, kept in Redis when a broker is configured and in SQLite under ``data_dir`` otherwise.

Counting is per batch and idempotent: a batch is counted the first time it completes, never again,
so a redelivered task (dead worker, retry) cannot make ``done`` exceed the records it stands for.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from celery_tasks.job_specs import JobSpec, parse_job_spec
from celery_tasks.redis_client import redis_client
from indexer.settings import Settings

JobState = Literal["queued", "running", "verifying", "succeeded", "failed", "cancelled"]
FINAL_STATES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
MAX_SAMPLE_ERRORS = 20
# Kinds of which one job at a time may be active (queued, running or verifying), whatever
# started it (staff API, CLI, another process): two reindexes at once would race each other.
EXCLUSIVE_KINDS: frozenset[str] = frozenset({"reindex"})


@dataclass
class Job:
    """One harvest or reindex run as staff see it."""

    id: str
    kind: str
    params: dict[str, Any]
    state: str = "queued"
    total: int = 0
    # Records the job will see, when known before they are listed (a reindex counts first): the
    # progress bar and ETA use it while ``total`` still grows batch by batch. 0 = not known.
    expected_total: int = 0
    retries: int = 0  # transient failures retried so far (visible while they happen)
    done: int = 0
    failed: int = 0
    without_vector: int = 0
    batches_total: int = 0
    batches_done: int = 0
    harvest_complete: bool = False
    cancel_requested: bool = False
    message: str = ""
    errors: list[str] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    updated_at: float | None = None  # last progress of any kind

    @property
    def spec(self) -> JobSpec:
        """What the job was asked to do, typed (``celery_tasks.job_specs``)."""
        return parse_job_spec(self.params)

    @property
    def idle_seconds(self) -> float:
        """Seconds since the job last made progress."""
        return time.time() - (self.updated_at or self.created_at)

    @property
    def processed(self) -> int:
        """Records that reached a verdict (written or failed)."""
        return self.done + self.failed

    @property
    def rate(self) -> float | None:
        """Records per second since the job started."""
        if self.started_at is None:
            return None
        elapsed = (self.finished_at or time.time()) - self.started_at
        return self.processed / elapsed if elapsed > 0 else None

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the current rate; None while the total is still growing or unknown."""
        rate = self.rate
        if self.state in FINAL_STATES:
            return 0.0
        total = self.known_total
        if total is None or not rate:
            return None
        return max(total - self.processed, 0) / rate

    @property
    def known_total(self) -> int | None:
        """The final total once the source is exhausted, else the count taken first (when one
        was taken); None while the total is only a lower bound."""
        if self.harvest_complete:
            return self.total
        if self.expected_total:
            return max(self.expected_total, self.total)
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON view for the API and CLI."""
        data = asdict(self)
        data["rate"] = None if self.rate is None else round(self.rate, 3)
        eta = self.eta_seconds
        data["eta_seconds"] = None if eta is None else round(eta, 1)
        data["known_total"] = self.known_total
        return data


class JobAlreadyActive(Exception):
    """A job of an exclusive kind is already active; ``job_id`` is the one to watch instead."""

    def __init__(self, kind: str, job_id: str) -> None:
        super().__init__(f"a {kind} job is already active ({job_id}); wait for it or cancel it")
        self.job_id = job_id


class JobNotFound(KeyError):
    """No job with that id."""

    def __str__(self) -> str:
        return f"No job {self.args[0]!r}." if self.args else "No such job."


class JobStore(Protocol):
    """Where jobs and their batch manifests live; every counter update is atomic."""

    def create(self, kind: str, params: dict[str, Any]) -> Job:
        """A new queued job; JobAlreadyActive for an exclusive kind with a job still active."""
        ...

    def get(self, job_id: str) -> Job:
        """The job, or JobNotFound."""
        ...

    def recent(self, limit: int = 50) -> list[Job]:
        """Most recent first."""
        ...

    def update(self, job_id: str, **fields: Any) -> None:
        """Set plain fields (state, message, started_at, harvest_complete, ...)."""
        ...

    def add_batch(self, job_id: str, batch_id: str, record_ids: Sequence[str]) -> bool:
        """Register a batch and add its size to ``total``; False when it was already known."""
        ...

    def complete_batch(
        self,
        job_id: str,
        batch_id: str,
        *,
        done: int,
        failed: int,
        without_vector: int,
        errors: Sequence[str],
    ) -> bool:
        """Count a finished batch once; False (and nothing counted) when it was counted before."""
        ...

    def batch_ids(self, job_id: str) -> list[str]:
        """Every batch registered for the job."""
        ...

    def batch_record_ids(self, job_id: str, batch_id: str) -> list[str]:
        """The record ids a batch stands for."""
        ...

    def claim_finalize(self, job_id: str) -> bool:
        """True for exactly one caller: the one that verifies and closes the job."""
        ...


def new_job_id() -> str:
    """Short, unique, URL-safe."""
    return uuid.uuid4().hex[:16]


def _job_from_fields(data: dict[str, Any]) -> Job:
    known = {f for f in Job.__dataclass_fields__}
    return Job(**{k: v for k, v in data.items() if k in known})


# ---------------------------------------------------------------- Redis


_COMPLETE_BATCH = """
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'done', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'failed', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'without_vector', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'batches_done', 1)
redis.call('HSET', KEYS[1], 'updated_at', ARGV[5])
return 1
"""

# KEYS[1] = the kind's claim key, KEYS[2] = the job hash prefix; ARGV[1] = the new job id,
# ARGV[2..] = final states. Returns the active job's id, or false after claiming for ARGV[1]; the
# claim expires unless ``create`` makes it permanent once the job exists (a crash in between).
_CLAIM_EXCLUSIVE = """
local held = redis.call('GET', KEYS[1])
if held then
  local state = redis.call('HGET', KEYS[2] .. ':' .. held, 'state')
  if not state then return held end  -- claimed, its job being written (the claim expires)
  local final = false
  for i = 2, #ARGV do if state == ARGV[i] then final = true end end
  if not final then return held end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', 60000)
return false
"""

_ADD_BATCH = """
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'total', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'batches_total', 1)
redis.call('HSET', KEYS[1], 'updated_at', ARGV[4])
return 1
"""

_INT_FIELDS = (
    "total",
    "expected_total",
    "retries",
    "done",
    "failed",
    "without_vector",
    "batches_total",
    "batches_done",
)
_FLOAT_FIELDS = ("created_at", "started_at", "finished_at", "updated_at")
_BOOL_FIELDS = ("harvest_complete", "cancel_requested")


class RedisJobStore:
    """Jobs as Redis hashes; batch manifests and counted-batch sets beside them."""

    def __init__(self, url: str, prefix: str = "mapsearch:job") -> None:
        self.client: Any = redis_client(url, decode_responses=True)
        self.prefix = prefix
        self._complete_batch = self.client.register_script(_COMPLETE_BATCH)
        self._add_batch = self.client.register_script(_ADD_BATCH)
        self._claim_exclusive = self.client.register_script(_CLAIM_EXCLUSIVE)

    def _key(self, job_id: str, part: str = "") -> str:
        return f"{self.prefix}:{job_id}{':' + part if part else ''}"

    def create(self, kind: str, params: dict[str, Any]) -> Job:
        job = Job(id=new_job_id(), kind=kind, params=params)
        if kind in EXCLUSIVE_KINDS:
            held = self._claim_exclusive(
                keys=[f"{self.prefix}:active:{kind}", self.prefix],
                args=[job.id, *sorted(FINAL_STATES)],
            )
            if held:
                raise JobAlreadyActive(kind, str(held))
        mapping = {
            "id": job.id,
            "kind": kind,
            "params": json.dumps(params),
            "state": job.state,
            "message": "",
            "created_at": repr(job.created_at),
        }
        mapping.update({name: "0" for name in _INT_FIELDS + _BOOL_FIELDS})
        with self.client.pipeline() as pipe:
            pipe.hset(self._key(job.id), mapping=mapping)
            pipe.zadd(f"{self.prefix}s", {job.id: job.created_at})
            if kind in EXCLUSIVE_KINDS:
                pipe.persist(f"{self.prefix}:active:{kind}")
            pipe.execute()
        return job

    def get(self, job_id: str) -> Job:
        raw, errors = (
            self.client.hgetall(self._key(job_id)),
            self.client.lrange(self._key(job_id, "errors"), 0, -1),
        )
        if not raw:
            raise JobNotFound(job_id)
        data: dict[str, Any] = dict(raw)
        data["params"] = json.loads(raw.get("params", "{}"))
        for name in _INT_FIELDS:
            data[name] = int(raw.get(name, 0))
        for name in _BOOL_FIELDS:
            data[name] = raw.get(name, "0") == "1"
        for name in _FLOAT_FIELDS:
            data[name] = float(raw[name]) if raw.get(name) else None
        data["errors"] = errors
        return _job_from_fields(data)

    def recent(self, limit: int = 50) -> list[Job]:
        ids = self.client.zrevrange(f"{self.prefix}s", 0, limit - 1)
        jobs = []
        for job_id in ids:
            try:
                jobs.append(self.get(job_id))
            except JobNotFound:
                continue
        return jobs

    def update(self, job_id: str, **fields: Any) -> None:
        if not self.client.exists(self._key(job_id)):
            raise JobNotFound(job_id)
        fields = {**fields, "updated_at": time.time()}
        mapping = {
            k: ("1" if v else "0")
            if isinstance(v, bool)
            else ("" if v is None else repr(v) if isinstance(v, float) else str(v))
            for k, v in fields.items()
        }
        self.client.hset(self._key(job_id), mapping=mapping)

    def add_errors(self, job_id: str, errors: Sequence[str]) -> None:
        """Keep a sample of errors (the first few), e.g. from the harvest itself."""
        if errors:
            key = self._key(job_id, "errors")
            self.client.rpush(key, *errors)
            self.client.ltrim(key, 0, MAX_SAMPLE_ERRORS - 1)

    def add_batch(self, job_id: str, batch_id: str, record_ids: Sequence[str]) -> bool:
        return bool(
            self._add_batch(
                keys=[self._key(job_id), self._key(job_id, "batches")],
                args=[batch_id, json.dumps(list(record_ids)), len(record_ids), repr(time.time())],
            )
        )

    def complete_batch(
        self,
        job_id: str,
        batch_id: str,
        *,
        done: int,
        failed: int,
        without_vector: int,
        errors: Sequence[str],
    ) -> bool:
        counted = bool(
            self._complete_batch(
                keys=[self._key(job_id), self._key(job_id, "counted")],
                args=[batch_id, done, failed, without_vector, repr(time.time())],
            )
        )
        if counted:
            self.add_errors(job_id, errors)
        return counted

    def batch_ids(self, job_id: str) -> list[str]:
        return list(self.client.hkeys(self._key(job_id, "batches")))

    def batch_record_ids(self, job_id: str, batch_id: str) -> list[str]:
        raw = self.client.hget(self._key(job_id, "batches"), batch_id)
        return json.loads(raw) if raw else []

    def claim_finalize(self, job_id: str) -> bool:
        return bool(self.client.set(self._key(job_id, "finalizer"), "1", nx=True))


# ---------------------------------------------------------------- SQLite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, created_at REAL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS job_batches (
  job_id TEXT, batch_id TEXT, record_ids TEXT NOT NULL, counted INTEGER DEFAULT 0,
  PRIMARY KEY (job_id, batch_id));
CREATE TABLE IF NOT EXISTS job_finalizers (job_id TEXT PRIMARY KEY);
"""


class SqliteJobStore:
    """Jobs in ``data_dir/jobs.sqlite`` for the in-process pipeline (one machine, no broker)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            yield db
        finally:
            db.close()

    def _write(self, job_id: str, mutate: Any) -> Any:
        """Read-modify-write one job inside an IMMEDIATE transaction (atomic across processes)."""
        with self._lock, self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT data FROM jobs WHERE id = ?", (job_id,)).fetchone()
                if row is None:
                    raise JobNotFound(job_id)
                data = json.loads(row[0])
                result = mutate(db, data)
                data["updated_at"] = time.time()
                db.execute("UPDATE jobs SET data = ? WHERE id = ?", (json.dumps(data), job_id))
                db.execute("COMMIT")
                return result
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def create(self, kind: str, params: dict[str, Any]) -> Job:
        job = Job(id=new_job_id(), kind=kind, params=params)
        with self._lock, self._connect() as db:
            db.execute("BEGIN IMMEDIATE")  # the check and the insert are one step for every process
            try:
                if kind in EXCLUSIVE_KINDS:
                    marks = ", ".join("?" * len(FINAL_STATES))
                    active = db.execute(
                        "SELECT id FROM jobs WHERE json_extract(data, '$.kind') = ?"
                        f" AND json_extract(data, '$.state') NOT IN ({marks}) LIMIT 1",
                        (kind, *sorted(FINAL_STATES)),
                    ).fetchone()
                    if active is not None:
                        raise JobAlreadyActive(kind, str(active[0]))
                db.execute(
                    "INSERT INTO jobs VALUES (?, ?, ?)",
                    (job.id, job.created_at, json.dumps(asdict(job))),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return job

    def get(self, job_id: str) -> Job:
        with self._connect() as db:
            row = db.execute("SELECT data FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise JobNotFound(job_id)
        return _job_from_fields(json.loads(row[0]))

    def recent(self, limit: int = 50) -> list[Job]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT data FROM jobs ORDER BY created_at DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_job_from_fields(json.loads(row[0])) for row in rows]

    def update(self, job_id: str, **fields: Any) -> None:
        self._write(job_id, lambda _db, data: data.update(fields))

    def add_errors(self, job_id: str, errors: Sequence[str]) -> None:
        """Keep a sample of errors (the first few)."""

        def mutate(_db: sqlite3.Connection, data: dict[str, Any]) -> None:
            data["errors"] = (data["errors"] + list(errors))[:MAX_SAMPLE_ERRORS]

        if errors:
            self._write(job_id, mutate)

    def add_batch(self, job_id: str, batch_id: str, record_ids: Sequence[str]) -> bool:
        def mutate(db: sqlite3.Connection, data: dict[str, Any]) -> bool:
            inserted = db.execute(
                "INSERT OR IGNORE INTO job_batches (job_id, batch_id, record_ids) VALUES (?, ?, ?)",
                (job_id, batch_id, json.dumps(list(record_ids))),
            ).rowcount
            if inserted:
                data["total"] += len(record_ids)
                data["batches_total"] += 1
            return bool(inserted)

        return bool(self._write(job_id, mutate))

    def complete_batch(
        self,
        job_id: str,
        batch_id: str,
        *,
        done: int,
        failed: int,
        without_vector: int,
        errors: Sequence[str],
    ) -> bool:
        def mutate(db: sqlite3.Connection, data: dict[str, Any]) -> bool:
            changed = db.execute(
                "UPDATE job_batches SET counted = 1 WHERE job_id = ? AND batch_id = ? AND counted "
                "= 0",
                (job_id, batch_id),
            ).rowcount
            if changed:
                data["done"] += done
                data["failed"] += failed
                data["without_vector"] += without_vector
                data["batches_done"] += 1
                data["errors"] = (data["errors"] + list(errors))[:MAX_SAMPLE_ERRORS]
            return bool(changed)

        return bool(self._write(job_id, mutate))

    def batch_ids(self, job_id: str) -> list[str]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT batch_id FROM job_batches WHERE job_id = ?", (job_id,)
            ).fetchall()
        return [row[0] for row in rows]

    def batch_record_ids(self, job_id: str, batch_id: str) -> list[str]:
        with self._connect() as db:
            row = db.execute(
                "SELECT record_ids FROM job_batches WHERE job_id = ? AND batch_id = ?",
                (job_id, batch_id),
            ).fetchone()
        return json.loads(row[0]) if row else []

    def claim_finalize(self, job_id: str) -> bool:
        with self._lock, self._connect() as db:
            return bool(
                db.execute("INSERT OR IGNORE INTO job_finalizers VALUES (?)", (job_id,)).rowcount
            )


def open_job_store(settings: Settings) -> RedisJobStore | SqliteJobStore:
    """Redis when a broker is configured (workers on other machines see it), SQLite otherwise."""
    if settings.broker_url:
        return RedisJobStore(settings.broker_url)
    return SqliteJobStore(settings.data_dir / "jobs.sqlite")
