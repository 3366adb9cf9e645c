"""Browser-test fixtures: the real app over a real embedded index of the synthetic demo collection
(drawn, embedded with the demo CLIP, indexed), served on 127.0.0.1, driven by Debian's Chromium."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from indexer.pipeline import index_records
from indexer.synthetic import write_demo_collection
from tests.support.services import require_service
from webapi.app import create_app
from webapi.services import services_of

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_SIZE = 60
DEMO_SEED = 1
STAFF_TOKEN = "browser-test-staff-token"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


@dataclass(frozen=True)
class LiveApp:
    """The served app: its base URL, the Flask app (for direct API calls) and its data dir."""

    url: str
    app: Flask
    data_dir: Path


@contextmanager
def served(app: Flask, thread_name: str) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 from a werkzeug thread; yields its base URL, stops it on exit."""
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=thread_name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The real app over a freshly built demo index, served by werkzeug in a thread."""
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    # private URLs allowed: the staff harvest test harvests from a local test server
    app = create_app(
        {
            "data_dir": data_dir,
            "admin_tokens": [STAFF_TOKEN],
            "allow_private_urls": True,
            "TESTING": True,
        }
    )
    services = services_of(app)
    records = write_demo_collection(data_dir, DEMO_SIZE, DEMO_SEED)
    report = index_records(
        records, settings=services.settings, backend=services.backend, embedder=services.embedder
    )
    assert report.with_vector == DEMO_SIZE, report
    try:
        with served(app, "browser-test-server") as url:
            yield LiveApp(url, app, data_dir)
    finally:
        services.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium through Playwright (never Playwright's own download)."""
    require_service("Chromium", os.path.exists(CHROMIUM), "bash scripts/services/chromium.sh start")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, live_app: LiveApp) -> Iterator[Page]:
    """A fresh desktop-sized page (own cookies and storage); JavaScript errors and Content
    Security Policy violations (reported on the console) fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_app.url)
    context.set_default_timeout(15_000)
    new_page = context.new_page()
    errors: list[str] = []
    new_page.on("pageerror", lambda error: errors.append(str(error)))
    new_page.on(
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield new_page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def save_screenshot(page: Page, name: str, full_page: bool = False) -> Path:
    """Keep a screenshot under test-artifacts/browser/ (CI uploads the folder)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
