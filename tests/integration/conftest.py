"""Fixtures shared by the Elasticsearch integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from tests.support.es import es_client


@pytest.fixture(scope="module")
def client() -> Iterator[Elasticsearch]:
    """A client of the test cluster (fails under CI=true, skips otherwise, when it is down)."""
    yield es_client()
