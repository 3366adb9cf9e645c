"""Faults: an unreachable cluster is a BackendError in the backend, a 503 with Retry-After in the
API and a one-line reason with a non-zero exit in the CLI. (The interrupted reindex is in
test_es_lifecycle.)"""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from indexer.backends.base import BackendError, BackendQuery
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.es_client import make_client
from tests.support.es import es_client, fresh_prefix, make_doc, remove_prefix


def closed_port_url() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_unreachable_cluster_is_a_backend_error() -> None:
    backend = ElasticsearchBackend(make_client(closed_port_url(), timeout=2), "down")
    with pytest.raises(BackendError, match="unreachable"):
        backend.search(BackendQuery(text="boston"))
    with pytest.raises(BackendError):
        backend.write([make_doc("x:1", "Boston")])
    with pytest.raises(BackendError):
        backend.info()


def test_api_answers_503_with_retry_after(tmp_path: Path) -> None:
    from webapi.app import create_app

    app = create_app(
        {
            "data_dir": tmp_path / "data",
            "backend": "elasticsearch",
            "es_url": closed_port_url(),
            "es_timeout": 2,
            "TESTING": True,
        }
    )
    response = app.test_client().get("/api/search?q=boston&mode=keyword")
    assert response.status_code == 503
    assert response.headers.get("Retry-After")
    assert "unreachable" in response.get_json()["detail"]


@pytest.mark.parametrize(
    "command",
    [["index", "status"], ["index", "reindex"], ["index", "create"], ["index", "cleanup"]],
)
def test_cli_exits_non_zero_with_the_reason(command: list[str]) -> None:
    from webapi.cli import cli

    result = CliRunner().invoke(cli, [*command, "--es-url", closed_port_url()])
    assert result.exit_code == 1
    assert "Elasticsearch cannot be used" in result.output and "unreachable" in result.output


@pytest.mark.elasticsearch
def test_cli_lifecycle_on_the_real_cluster() -> None:
    from tests.support.es import ES_URL
    from webapi.cli import cli

    client = es_client()
    prefix = fresh_prefix("cli")
    runner = CliRunner()
    try:
        common = ["--es-url", ES_URL, "--prefix", prefix]
        created = runner.invoke(cli, ["index", "create", *common, "--dims", "8"])
        assert created.exit_code == 0 and f"behind {prefix}-maps" in created.output
        backend = ElasticsearchBackend(client, prefix)
        backend.write([make_doc(f"c:{i}", f"Map {i}", list(np.eye(8)[i % 8])) for i in range(30)])
        backend.refresh()
        status = runner.invoke(cli, ["index", "status", *common, "--json"])
        assert status.exit_code == 0 and '"documents": 30' in status.output
        reindexed = runner.invoke(cli, ["index", "reindex", *common])
        assert reindexed.exit_code == 0, reindexed.output
        assert "reindexed 30 documents" in reindexed.output
        cleaned = runner.invoke(cli, ["index", "cleanup", *common])
        assert cleaned.exit_code == 0 and "deleted 0" in cleaned.output
        missing = runner.invoke(
            cli, ["index", "reindex", "--es-url", ES_URL, "--prefix", fresh_prefix("none")]
        )
        assert missing.exit_code == 1 and "does not exist" in missing.output
    finally:
        remove_prefix(client, prefix)
