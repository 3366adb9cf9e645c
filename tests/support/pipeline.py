"""Helpers for pipeline tests: a private Redis database per test, Celery worker subprocesses that
are always killed, and waiting on jobs with a deadline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import redis

from tests.support.http_server import Reply, ScriptedServer, Seen
from tests.support.paths import REPO

CLAIM_KEY = "mapsearch:test-claim"


def redis_available(url: str) -> bool:
    """True when Redis answers PING at ``url``."""
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _with_db(url: str, db: int) -> str:
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    return f"{base}/{db}"


@contextmanager
def claim_redis_db(base_url: str) -> Iterator[str]:
    """A Redis database no other test run is using (claimed by a key with a TTL), flushed before
    and after: tests on a shared Redis never see each other's queues or jobs."""
    for db in range(15, 0, -1):
        url = _with_db(base_url, db)
        client = redis.Redis.from_url(url)
        if client.set(CLAIM_KEY, os.getpid(), nx=True, ex=900):
            client.flushdb()
            client.set(CLAIM_KEY, os.getpid(), ex=900)
            try:
                yield url
            finally:
                client.flushdb()
            return
    raise RuntimeError("no free Redis database (1-15) to claim")


class Worker:
    """A real ``celery worker`` subprocess in its own process group."""

    def __init__(
        self, env: dict[str, str], log_path: Path, name: str, queues: str = "harvest,embed,index"
    ) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "make_celery",
                "worker",
                "-Q",
                queues,
                "-c",
                "1",
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "info",
            ],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        """The worker's main process id (also its process group id)."""
        return self.process.pid

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (main process and pool children), then reap."""
        with suppress(ProcessLookupError):  # the group too: pool children outlive a killed parent
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        if not self._log.closed:
            self._log.close()

    def log(self) -> str:
        """What the worker printed so far."""
        return self.log_path.read_text(errors="replace")


@contextmanager
def workers(env: dict[str, str], tmp_path: Path) -> Iterator[list[Worker]]:
    """A list to start workers into; every one of them is killed on exit."""
    started: list[Worker] = []
    try:
        yield started
    finally:
        for worker in started:
            worker.kill()


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until truthy or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def serve_images(server: ScriptedServer, images: dict[str, bytes], delay: float = 0.0) -> None:
    """Serve ``images`` (path → PNG bytes, anything else is served as given) after ``delay``
    seconds each, so a batch of image fetches takes long enough to be interrupted."""

    def reply(seen: Seen) -> Reply:
        time.sleep(delay)
        return Reply(200, images[seen.path], content_type="image/png")

    for path in images:
        server.handle(path, reply)


def requests_under(server: ScriptedServer, prefix: str) -> int:
    """How many requests the server received for paths starting with ``prefix``."""
    return sum(1 for seen in list(server.seen) if seen.path.startswith(prefix))


def png_bytes(seed: int, size: tuple[int, int] = (64, 48)) -> bytes:
    """A small, distinct PNG map-like picture."""
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = (rng.random((size[1], size[0], 3)) * 255).astype("uint8")
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def perturbed_demo_model(directory: Path) -> Path:
    """A second small model in `directory`: the demo weights,
    perturbed (another checkpoint, another model id)."""
    import torch  # imported here: most pipeline tests need no torch

    from indexer.torch_clip import load_model, save_checkpoint

    loaded = load_model("demo")
    with torch.no_grad():
        for parameter in loaded.model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    save_checkpoint(loaded.model, loaded.model_cfg, directory, model_name="demo-b")
    return directory


def write_harbor_records(data: Path, records_file: Path, count: int) -> Path:
    """`count` "Harbor map n" records with PNGs under
    `data`/images (record 7 names no image), as JSON lines."""
    from indexer.records import ImageRef, MapRecord

    (data / "images").mkdir(parents=True)
    records = []
    for n in range(count):
        image = None if n == 7 else ImageRef(url=f"images/{n}.png")
        if image is not None:
            (data / "images" / f"{n}.png").write_bytes(png_bytes(n))
        records.append(MapRecord(id=f"m:{n}", source="m", title=f"Harbor map {n}", image=image))
    records_file.write_text("\n".join(r.model_dump_json() for r in records))
    return records_file


def fail_reembed_on_call(monkeypatch: Any, call: int, message: str) -> None:
    """Make the `call`-th page of re-embedding raise
    RuntimeError(`message`) (the others run for real)."""
    import indexer.reembed

    real = indexer.reembed.reembed_documents
    calls = 0

    def failing(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == call:
            raise RuntimeError(message)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(indexer.reembed, "reembed_documents", failing)
