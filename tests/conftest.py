"""Shared fixtures: isolated settings per test, never the user's real data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.settings import Settings, load_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at a fresh data dir."""
    return load_settings({"data_dir": tmp_path / "data"})
