"""Page weight and time to results of the search page, in Debian's Chromium: bytes transferred
(compressed, headers included, from the DevTools protocol) for a 20-map results page loaded
cold and again warm, and milliseconds from pressing Enter in the search box to the updated
results, over a demo collection served by the real app on 127.0.0.1.

    nice -n 10 .venv/bin/python bench/page_weight.py --size 200
    nice -n 10 .venv/bin/python bench/page_weight.py --data-dir /tmp/demo   # an existing index

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

from webapi.app import create_app

CHROMIUM = "/usr/bin/chromium"
PAGE = "/?q=city+plan&min_similarity=-1"  # every map ranked: always a full page of 20
QUERIES = ["harbour chart", "sea monsters", "railroad survey", "old atlas", "colorful map"]


def build_demo(size: int, seed: int) -> Path:
    """A fresh demo collection (drawn, embedded, indexed) in a temporary folder."""
    data_dir = Path(tempfile.mkdtemp(prefix="page-weight-")) / "data"
    subprocess.run(
        [
            sys.executable,  # this interpreter's import path: run an older checkout via PYTHONPATH
            "-c",
            "from webapi.cli import main; main()",
            "demo",
            "--no-serve",
            "--size",
            str(size),
            "--seed",
            str(seed),
            "--data-dir",
            str(data_dir),
        ],
        check=True,
        capture_output=True,
    )
    return data_dir


class Transfer:
    """Bytes on the wire per resource type, from Network.* events of one page."""

    def __init__(self, page: Page) -> None:
        self.types: dict[str, str] = {}
        self.bytes: dict[str, int] = defaultdict(int)
        self.requests = 0
        self.urls: dict[str, str] = {}
        self.largest: list[tuple[int, str]] = []
        session = page.context.new_cdp_session(page)
        session.send("Network.enable")
        session.on("Network.responseReceived", self._response)
        session.on("Network.loadingFinished", self._finished)

    def _response(self, event: dict[str, Any]) -> None:
        self.types[event["requestId"]] = event.get("type", "Other")
        self.urls[event["requestId"]] = event["response"]["url"].split("?")[0][-60:]

    def _finished(self, event: dict[str, Any]) -> None:
        kind = self.types.get(event["requestId"], "Other")
        self.bytes[kind] += int(event.get("encodedDataLength", 0))
        self.requests += 1
        self.largest.append(
            (int(event.get("encodedDataLength", 0)), self.urls.get(event["requestId"], ""))
        )

    def reset(self) -> None:
        self.bytes.clear()
        self.requests = 0
        self.largest = []

    def summary(self) -> dict[str, Any]:
        largest = sorted(self.largest, reverse=True)[:3]
        return {
            "bytes": sum(self.bytes.values()),
            "requests": self.requests,
            **self.bytes,
            "largest": [f"{size} {url}" for size, url in largest],
        }


def load_whole_page(page: Page, path: str) -> None:
    """Open ``path`` and scroll to the end, so every lazy thumbnail of the 20 loads."""
    page.goto(path)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('#results img')).every(img => img.complete)"
    )


def time_to_results(page: Page, words: str) -> float:
    """Milliseconds from Enter in the search box to the new results heading on the page (updated
    in place, or a new page where the search page still reloads)."""
    page.fill("#q", words)
    started = time.perf_counter()
    page.press("#q", "Enter")
    page.wait_for_selector(f'#results-heading:has-text("{words}")', timeout=120_000)
    return (time.perf_counter() - started) * 1000


def measure(data_dir: Path) -> dict[str, Any]:
    app = create_app({"data_dir": data_dir})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    result: dict[str, Any] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base)
            page = context.new_page()
            transfer = Transfer(page)
            started = time.perf_counter()
            load_whole_page(page, PAGE)
            result["first_page_load_ms"] = round((time.perf_counter() - started) * 1000)
            result["cards"] = page.locator("#results .card").count()
            result["cold"] = transfer.summary()
            transfer.reset()
            load_whole_page(page, PAGE)  # same browser: what caching saves
            result["warm"] = transfer.summary()
            timings = [time_to_results(page, words) for words in QUERIES * 2]
            result["enter_to_results_ms"] = {
                "median": round(statistics.median(timings)),
                "max": round(max(timings)),
                "runs": len(timings),
            }
            browser.close()
    finally:
        server.shutdown()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="an existing demo index (else one is made)")
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    data_dir = args.data_dir or build_demo(args.size, args.seed)
    print(json.dumps({"data_dir": str(data_dir), **measure(data_dir)}, indent=2))


if __name__ == "__main__":
    main()
