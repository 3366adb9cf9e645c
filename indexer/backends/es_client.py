"""The one place an Elasticsearch client is built, and where its transport faults become
``BackendError`` (the API answers 503, the CLI exits non-zero)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from elasticsearch import ApiError, Elasticsearch, TransportError

from indexer.backends.base import BackendError


def make_client(url: str, timeout: float) -> Elasticsearch:
    """A client for ``url`` (several nodes: comma-separated; a request that fails on one node is
    sent to another); transport retries stay short so an outage surfaces quickly."""
    hosts = [part.strip() for part in url.split(",") if part.strip()]
    return Elasticsearch(hosts, request_timeout=timeout, max_retries=2, retry_on_timeout=True)


@contextmanager
def backend_errors(what: str) -> Iterator[None]:
    """Turn "cluster down/unreachable/overloaded" into
    BackendError; other API errors pass through."""
    try:
        yield
    except TransportError as exc:  # connection refused, timeout, TLS...
        raise BackendError(f"Elasticsearch unreachable while {what}: {exc}") from exc
    except ApiError as exc:
        if exc.meta.status in (429, 502, 503, 504):
            raise BackendError(f"Elasticsearch unavailable while {what}: {exc}") from exc
        raise
