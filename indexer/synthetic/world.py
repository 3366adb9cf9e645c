"""The synthetic map world: a deterministic stream of maps (record + ground truth + lazy image),
and the demo collection written to a data directory."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from indexer.records import MapRecord
from indexer.synthetic.attributes import sample_attributes
from indexer.synthetic.metadata import build_record
from indexer.synthetic.render import render_map
from indexer.synthetic.vocabulary import ATTRIBUTE_VALUES

GROUND_TRUTH_FILE = "ground_truth.jsonl"
#: Bumped whenever drawing changes for the same seed; caches of rendered maps should key on it.
RENDER_VERSION = 6
IMAGES_DIR = "images"
MANIFEST_FILE = "world.json"


@dataclass(frozen=True)
class SyntheticMap:
    """One map of the world: its catalogue record, its ground-truth attributes and how to draw it.

    ``attributes`` keys: kind, colour_scheme, ornaments (list), relief, text_density, wear, year,
    era, language, width, height, and projection for world maps; values come from
    ``indexer.synthetic.vocabulary``.
    """

    record: MapRecord
    attributes: dict[str, Any]
    render_seed: int

    def render(self, max_side: int | None = None) -> Image.Image:
        """Draw the map (RGB, record.image size, or scaled so its longer side is ``max_side``)."""
        return render_map(self.attributes, self.record.title, self.render_seed, max_side=max_side)

    def variant(self, **changes: Any) -> SyntheticMap:
        """The same map with some attributes changed (same record, same drawing seed).

        ``variant(colour_scheme="grayscale")`` or ``variant(wear="clean")`` redraws exactly the
        same geometry in another style ("this map, but grayscale"); changing kind, ornaments or
        relief redraws the parts that depend on them.
        """
        for name, value in changes.items():
            allowed = ATTRIBUTE_VALUES.get(name)
            values = value if isinstance(value, list) else [value]
            if allowed is not None and any(v not in allowed for v in values):
                raise ValueError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
        return replace(self, attributes={**self.attributes, **changes})


def synthetic_map(index: int, seed: int = 0) -> SyntheticMap:
    """Map number ``index`` (1-based) of the world with this seed, independent of every other map."""
    attribute_rng = np.random.default_rng([seed, index, 0])
    attributes = sample_attributes(attribute_rng)
    record = build_record(index, attributes, np.random.default_rng([seed, index, 1]))
    render_seed = int(np.random.default_rng([seed, index, 2]).integers(2**63 - 1))
    return SyntheticMap(record=record, attributes=attributes, render_seed=render_seed)


def generate_world(size: int, seed: int = 0, start: int = 1) -> Iterator[SyntheticMap]:
    """``size`` maps, ids ``demo:{start:05d}`` upward; the same seed gives the same world."""
    for index in range(start, start + size):
        yield synthetic_map(index, seed)


def _manifest(seed: int) -> dict[str, int]:
    return {"seed": seed, "render_version": RENDER_VERSION}


def write_demo_collection(
    data_dir: Path, size: int, seed: int = 0, progress: Callable[[int, int], Any] | None = None
) -> list[MapRecord]:
    """Write ``images/demo-XXXXX.png`` and ``ground_truth.jsonl`` under ``data_dir``; return the records.

    Idempotent: images drawn earlier for the same seed and ``RENDER_VERSION`` are kept; after a
    change of either (recorded in ``images/world.json``) every image is redrawn, so a file never
    shows another world's map. ``progress`` is called as ``progress(done, total)`` after each map.
    """
    data_dir = Path(data_dir)
    images = data_dir / IMAGES_DIR
    images.mkdir(parents=True, exist_ok=True)
    manifest_path = images / MANIFEST_FILE
    try:
        reuse = json.loads(manifest_path.read_text(encoding="utf-8")) == _manifest(seed)
    except (OSError, ValueError):
        reuse = False
    if not reuse:
        manifest_path.unlink(missing_ok=True)  # an interrupted redraw must not look finished
    records: list[MapRecord] = []
    truth_lines: list[str] = []
    for done, synthetic in enumerate(generate_world(size, seed), start=1):
        assert synthetic.record.image is not None and synthetic.record.image.url is not None
        path = data_dir / synthetic.record.image.url
        if not (reuse and path.exists()):
            temporary = path.with_suffix(".tmp.png")
            synthetic.render().save(temporary, format="PNG", compress_level=3)
            temporary.replace(path)  # atomic: an interrupted run never leaves a half-written image
        records.append(synthetic.record)
        truth_lines.append(
            json.dumps(
                {"id": synthetic.record.id, "attributes": synthetic.attributes}, sort_keys=True
            )
        )
        if progress is not None:
            progress(done, size)
    truth_path = data_dir / GROUND_TRUTH_FILE
    temporary_truth = truth_path.with_suffix(".jsonl.tmp")
    temporary_truth.write_text("\n".join(truth_lines) + "\n", encoding="utf-8")
    temporary_truth.replace(truth_path)
    manifest_path.write_text(json.dumps(_manifest(seed)) + "\n", encoding="utf-8")
    return records


def read_ground_truth(data_dir: Path) -> dict[str, dict[str, Any]]:
    """Record id -> attributes, from ``ground_truth.jsonl`` under ``data_dir``."""
    truth: dict[str, dict[str, Any]] = {}
    with (Path(data_dir) / GROUND_TRUTH_FILE).open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                row = json.loads(line)
                truth[row["id"]] = row["attributes"]
    return truth
