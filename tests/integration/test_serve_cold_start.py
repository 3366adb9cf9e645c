"""Both documented servers start warm: from a cold process the first text search is answered
(``mapsearch serve`` and gunicorn with ``webapi.gunicorn_conf``), and a load run started cold
against gunicorn with a short worker timeout kills no worker and fails no request. Runs the
bounded ``bench/cold_start.py`` (which prints the figures for the docs) with small numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_servers_answer_from_cold_and_survive_a_load_run(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "cold_start.py"),
            "--size",
            "40",
            "--load-seconds",
            "10",
            "--clients",
            "3",
            "--timeout",
            "10",
            "--data-dir",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=420,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    serve, gunicorn = rows
    assert serve["server"] == "mapsearch serve" and serve["first_search_s"] < 120
    assert gunicorn["first_search_s"] < 120
    assert gunicorn["requests"] > 0 and gunicorn["failed"] == 0, gunicorn
    assert gunicorn["worker_timeouts"] == 0 and gunicorn["workers_booted"] == 2, gunicorn
    assert gunicorn["readyz"] == 200
