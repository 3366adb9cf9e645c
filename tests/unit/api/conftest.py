"""Fixtures for API, CLI and pipeline tests: an app over a real embedded index of the test collection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from indexer.pipeline import index_records
from tests.unit.api.support import ColourEmbedder, make_collection
from webapi.app import create_app
from webapi.services import services_of


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """An app whose index holds the test collection (12 maps with vectors, 1 broken, 1 without image)."""
    app = create_app({"data_dir": tmp_path / "data", "TESTING": True, "max_upload_bytes": 200_000})
    services = services_of(app)
    embedder = ColourEmbedder()
    services.use_embedder(lambda: embedder)
    records = make_collection(services.settings.data_dir)
    index_records(records, settings=services.settings, backend=services.backend, embedder=services.embedder)
    yield app
    services.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
