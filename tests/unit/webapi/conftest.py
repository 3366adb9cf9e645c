"""Fixtures for API, CLI and pipeline tests: an app
over a real embedded index of the test collection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.indexed_app import indexed_app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """An app whose index holds the test collection (12
    maps with vectors, 1 broken, 1 without image)."""
    with indexed_app(tmp_path / "data", max_upload_bytes=200_000) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
