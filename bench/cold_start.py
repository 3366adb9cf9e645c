"""Cold start of the documented servers: seconds from process start to the first answered text
search (``mapsearch serve`` and gunicorn with ``webapi.gunicorn_conf``), then a bounded load run
against the cold-started gunicorn, counting failed requests and worker kills.

    nice -n 5 .venv/bin/python bench/cold_start.py --size 300 --load-seconds 60
    nice -n 5 .venv/bin/python bench/cold_start.py --runtime torch     # the slow-loading runtime

Everything listens on 127.0.0.1 and stops by itself. Prints one JSON object per server.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
QUERIES = ["sea monsters", "harbour chart", "city plan", "compass rose", "railroads", "old atlas"]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str, timeout: float = 30.0) -> int:
    """HTTP status of a GET (0 when nothing answered)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, OSError):
        return 0


def first_answer(
    base: str, process: subprocess.Popen[bytes], started: float, limit: float
) -> float:
    """Seconds from ``started`` until a text search is answered with 200."""
    url = f"{base}/api/search?q=sea+monsters&size=5"
    while time.perf_counter() - started < limit:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        if get(url, timeout=limit) == 200:
            return time.perf_counter() - started
        time.sleep(0.05)
    raise RuntimeError(f"no answer within {limit} s")


def load_run(base: str, seconds: float, clients: int) -> dict[str, Any]:
    """``clients`` threads searching for ``seconds``; counts by status."""
    counts: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(n: int) -> None:
        i = n
        while time.perf_counter() < deadline:
            query = QUERIES[i % len(QUERIES)].replace(" ", "+")
            status = get(f"{base}/api/search?q={query}+{i % 50}&size=20")
            with lock:
                counts[status] = counts.get(status, 0) + 1
            i += clients

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = sum(counts.values())
    return {"requests": total, "by_status": counts, "failed": total - counts.get(200, 0)}


def gunicorn_command(port: int, timeout: int = 60) -> list[str]:
    """The documented production server: 2 workers with the project's gunicorn config."""
    return [
        str(BIN / "gunicorn"),
        "-c",
        "python:webapi.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--timeout",
        str(timeout),
        "webapi.app:create_app()",
    ]


def serve_cold(env: dict[str, str], limit: float) -> dict[str, Any]:
    """``mapsearch serve``: process start → first answered search."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(BIN / "mapsearch"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        seconds = first_answer(f"http://127.0.0.1:{port}", process, started, limit)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {"server": "mapsearch serve", "first_search_s": round(seconds, 2)}


def gunicorn_cold(
    env: dict[str, str], limit: float, load_seconds: float, clients: int, timeout: int
) -> dict[str, Any]:
    """gunicorn -w 2 with the project's config: first answer, then a load run from cold."""
    port = free_port()
    log_path = Path(env["MAPSEARCH_DATA_DIR"]) / f"gunicorn-{port}.log"
    started = time.perf_counter()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            gunicorn_command(port, timeout),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            seconds = first_answer(base, process, started, limit)
            load = load_run(base, load_seconds, clients)
            ready = get(f"{base}/readyz")
        finally:
            process.terminate()
            process.wait(timeout=60)
    text = log_path.read_text(errors="replace")
    return {
        "server": f"gunicorn -w 2 --timeout {timeout}",
        "first_search_s": round(seconds, 2),
        "load_seconds": load_seconds,
        "clients": clients,
        **load,
        "readyz": ready,
        "worker_timeouts": text.count("WORKER TIMEOUT"),
        "workers_booted": text.count("Booting worker"),
    }


def main() -> None:
    """Build a demo index, then time both servers from cold."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=300)
    parser.add_argument("--load-seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--timeout", type=int, default=30, help="gunicorn worker timeout")
    parser.add_argument("--runtime", default="auto", choices=["auto", "onnx", "torch"])
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mapsearch-cold-") as scratch:
        data_dir = args.data_dir or Path(scratch)
        env = {
            **os.environ,
            "MAPSEARCH_DATA_DIR": str(data_dir),
            "MAPSEARCH_MODEL_RUNTIME": args.runtime,
        }
        subprocess.run(
            [str(BIN / "mapsearch"), "demo", "--size", str(args.size), "--no-serve"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(
            json.dumps({"runtime": args.runtime, **serve_cold(env, 300), "load": os.getloadavg()})
        )
        result = gunicorn_cold(env, 300, args.load_seconds, args.clients, args.timeout)
        print(json.dumps({"runtime": args.runtime, **result, "load": os.getloadavg()}))


if __name__ == "__main__":
    main()
