"""Shared pieces of the training tests: one torch thread, and a two-step demo-model run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from indexer.training.demo import train_demo_model
from indexer.training.trainer import TrainConfig


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """One torch thread: on a busy 2-core machine extra threads only spin."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def train_two_steps(tmp_path: Path, **options: Any) -> dict[str, Any]:
    """Train the demo model on for two steps of a tiny subset into ``tmp_path/out`` (the run
    summary); ``options`` go to ``train_demo_model`` (e.g. ``base``, ``patch_size``)."""
    return train_demo_model(
        out_dir=tmp_path / "out",
        train_size=32,
        val_size=8,
        cache_dir=tmp_path / "cache",
        work_dir=tmp_path / "work",
        config=TrainConfig(epochs=1, batch_size=16, lr=1e-4, warmup_steps=1, max_steps=2),
        progress=False,
        **options,
    )
