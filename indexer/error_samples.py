"""Reports keep a sample of their failures, never all of them: one cap and one way to keep them,
for every report (imports, harvests, writes, indexing, attach)."""

from __future__ import annotations

from collections.abc import Iterable

MAX_SAMPLES = 20


def keep_sample(samples: list[str], sample: str) -> None:
    """Append ``sample`` unless ``samples`` already holds ``MAX_SAMPLES``."""
    if len(samples) < MAX_SAMPLES:
        samples.append(sample)


def keep_samples(samples: list[str], more: Iterable[str]) -> None:
    """``keep_sample`` for each of ``more`` (stops reading once the sample is full)."""
    for sample in more:
        if len(samples) >= MAX_SAMPLES:
            return
        samples.append(sample)
