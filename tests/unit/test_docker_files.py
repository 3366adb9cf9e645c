"""The production files in docker/ (no Docker engine here): the compose file parses, every
MAPSEARCH_* variable it sets is a real setting with a valid value, and services point at real
build targets, entry points and queues."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
import yaml

from celery_tasks.app import QUEUES
from indexer.settings import Settings
from tests.support.paths import REPO

DOCKER = REPO / "docker"
DEFAULT_RE = re.compile(r"\$\{[A-Z_]+:-([^}]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_every_mapsearch_variable_is_a_setting(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    fields = set(Settings.model_fields)
    checked = 0
    for name, service in compose["services"].items():
        env = {k: v for k, v in _environment(service).items() if k.startswith("MAPSEARCH_")}
        for key in env:
            assert key.removeprefix("MAPSEARCH_").lower() in fields, (
                f"{name}: {key} is not a setting"
            )
        # the values (with compose's ${VAR:-default} defaults) must also validate
        for key in [k for k in os.environ if k.startswith("MAPSEARCH_")]:
            monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, DEFAULT_RE.sub(lambda m: m.group(1), value))
        Settings()
        checked += len(env)
    assert checked >= 20


def test_services_of_the_stack(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"elasticsearch", "redis", "api", "worker-cpu", "worker-gpu", "flower"} <= set(services)
    assert services["elasticsearch"]["image"].startswith(
        "docker.elastic.co/elasticsearch/elasticsearch:"
    )
    assert _environment(services["api"])["MAPSEARCH_BROKER_URL"] == "redis://redis:6379/0"
    assert _environment(services["worker-gpu"])["MAPSEARCH_DEVICE"] == "cuda"
    assert services["worker-gpu"]["build"]["args"]["TORCH_FLAVOUR"] == "cuda"
    dockerfile = (DOCKER / "Dockerfile").read_text()
    for name in ("api", "worker-cpu", "worker-gpu"):
        build = services[name]["build"]
        assert (DOCKER.parent / build["dockerfile"]).is_file()
        assert re.search(rf"^FROM \S+ AS {build['target']}$", dockerfile, re.M), build["target"]
    for name in ("worker-cpu", "worker-gpu"):
        command = services[name]["command"]
        assert command[:3] == ["celery", "-A", "make_celery"]
        queues = DEFAULT_RE.sub(lambda m: m.group(1), command[command.index("-Q") + 1]).split(",")
        assert set(queues) <= set(QUEUES)
    for service in services.values():  # nothing published beyond the host's loopback
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), port


def test_api_image_runs_the_app_factory() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert '"webapi.app:create_app()"' in dockerfile
    from webapi.app import create_app

    assert callable(create_app)
