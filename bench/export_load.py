"""Exports against ordinary searches: search latency on a cold-started gunicorn (2 workers, the
project's config) alone, then while clients keep asking for anonymous IIIF and CSV exports.

    nice -n 5 .venv/bin/python bench/export_load.py --size 300 --seconds 20 --exporters 4

Everything listens on 127.0.0.1 and stops by itself. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from cold_start import BIN, first_answer, free_port, get, gunicorn_command


def search_latencies(base: str, seconds: float) -> list[float]:
    """Seconds per ordinary search, one client, for ``seconds``."""
    latencies = []
    deadline = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        status = get(f"{base}/api/search?q=harbour+chart+{n % 40}&size=20", timeout=120)
        latencies.append(time.perf_counter() - started if status == 200 else float("inf"))
        n += 1
    return latencies


def summary(latencies: list[float]) -> dict[str, Any]:
    """Count, p50, p95 and max in milliseconds (a failed search counts as infinite)."""
    ordered = sorted(latencies)
    return {
        "searches": len(ordered),
        "failed": sum(1 for value in ordered if value == float("inf")),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def main() -> None:
    """Baseline phase, then the same searches under export load."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--exporters", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mapsearch-export-") as scratch:
        env = {**os.environ, "MAPSEARCH_DATA_DIR": scratch}
        subprocess.run(
            [str(BIN / "mapsearch"), "demo", "--size", str(args.size), "--no-serve"],
            env=env,
            check=True,
            capture_output=True,
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with (Path(scratch) / "gunicorn.log").open("wb") as log:
            server = subprocess.Popen(
                gunicorn_command(port),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                first_answer(base, server, time.perf_counter(), 300)
                alone = search_latencies(base, args.seconds)
                stop = threading.Event()
                exports: dict[int, int] = {}
                lock = threading.Lock()

                def exporter(n: int) -> None:
                    paths = ["/export.iiif.json", "/export.csv"]
                    i = n
                    while not stop.is_set():  # a new query each time: the export cache misses
                        status = get(f"{base}{paths[i % 2]}?q=map+{i}", timeout=120)
                        with lock:
                            exports[status] = exports.get(status, 0) + 1
                        i += 1

                threads = [
                    threading.Thread(target=exporter, args=(n,)) for n in range(args.exporters)
                ]
                for thread in threads:
                    thread.start()
                busy = search_latencies(base, args.seconds)
                stop.set()
                for thread in threads:
                    thread.join()
            finally:
                server.terminate()
                server.wait(timeout=60)
    print(
        json.dumps(
            {
                "exporters": args.exporters,
                "search_alone": summary(alone),
                "search_during_exports": summary(busy),
                "exports_by_status": exports,
                "load": [round(v, 2) for v in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
