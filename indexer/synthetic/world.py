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
from indexer.synthetic.render import LARGE_FORMAT, Drawing, draw_map, render_map
from indexer.synthetic.vocabulary import ATTRIBUTE_VALUES

GROUND_TRUTH_FILE = "ground_truth.jsonl"
#: Bumped whenever drawing changes for the same seed; caches of rendered maps should key on it.
RENDER_VERSION = 6
#: Bumped whenever only large sheets are drawn differently (2: labels placed clear of each other
#: and of the ornaments), so default collections keep their images.
LARGE_RENDER_VERSION = 2
IMAGES_DIR = "images"
#: Large-format ground truth only: [{"kind", "box": [x, y, w, h]}] and
#: [{"text", "box": [x, y, w, h], "angle"}], in full-resolution pixels.
BOX_FIELDS = ("ornament_boxes", "label_boxes")
MANIFEST_FILE = "world.json"
#: The longer side of a large-format map is drawn uniformly from this range (pixels).
LARGE_SIDES = (2048, 4096)


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

    def draw(self, max_side: int | None = None) -> Drawing:
        """``render``'s image with its ornament and label boxes (in that image's pixels)."""
        return draw_map(self.attributes, self.record.title, self.render_seed, max_side=max_side)

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


def _large_format(attributes: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """The same map on a large sheet: same aspect, longer side drawn from ``LARGE_SIDES``."""
    width, height = int(attributes["width"]), int(attributes["height"])
    long_side = int(rng.integers(LARGE_SIDES[0], LARGE_SIDES[1] + 1))
    factor = long_side / max(width, height)
    return {
        **attributes,
        "format": LARGE_FORMAT,
        "width": long_side if width >= height else round(width * factor),
        "height": long_side if height > width else round(height * factor),
    }


def synthetic_map(index: int, seed: int = 0, large: bool = False) -> SyntheticMap:
    """Map number ``index`` (1-based) of the world with this seed, independent of every other map.

    ``large`` draws it as a large-format sheet (longer side 2,048-4,096 px, small ornaments and
    lettering; ``attributes["format"] == "large"``); the default world is unchanged by it.
    """
    attribute_rng = np.random.default_rng([seed, index, 0])
    attributes = sample_attributes(attribute_rng)
    if large:
        attributes = _large_format(attributes, np.random.default_rng([seed, index, 3]))
    record = build_record(index, attributes, np.random.default_rng([seed, index, 1]))
    render_seed = int(np.random.default_rng([seed, index, 2]).integers(2**63 - 1))
    return SyntheticMap(record=record, attributes=attributes, render_seed=render_seed)


def generate_world(
    size: int, seed: int = 0, start: int = 1, large: bool = False
) -> Iterator[SyntheticMap]:
    """``size`` maps, ids ``demo:{start:05d}`` upward; the same seed gives the same world."""
    for index in range(start, start + size):
        yield synthetic_map(index, seed, large=large)


def _manifest(seed: int, large: bool) -> dict[str, Any]:
    manifest: dict[str, Any] = {"seed": seed, "render_version": RENDER_VERSION}
    if large:
        manifest["format"] = LARGE_FORMAT
        manifest["large_render_version"] = LARGE_RENDER_VERSION
    return manifest


def read_ground_truth_boxes(data_dir: Path) -> dict[str, dict[str, Any]]:
    """Record id -> ``{"ornament_boxes", "label_boxes"}``
    of a large-format collection (empty if none)."""
    boxes: dict[str, dict[str, Any]] = {}
    try:
        with (Path(data_dir) / GROUND_TRUTH_FILE).open(encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line) if line.strip() else {}
                if "ornament_boxes" in row and "label_boxes" in row:
                    boxes[row["id"]] = {key: row[key] for key in BOX_FIELDS}
    except (OSError, ValueError):
        return {}
    return boxes


def write_demo_collection(
    data_dir: Path,
    size: int,
    seed: int = 0,
    progress: Callable[[int, int], Any] | None = None,
    large: bool = False,
) -> list[MapRecord]:
    """Write ``images/demo-XXXXX.png`` and ``ground_truth.jsonl`` under ``data_dir``; return the
    records.

    Idempotent: images drawn earlier for the same seed, format and ``RENDER_VERSION`` (large
    sheets: and ``LARGE_RENDER_VERSION``) are kept;
    after a change of any (recorded in ``images/world.json``) every image is redrawn, so a file
    never shows another world's map. ``progress`` is called as ``progress(done, total)`` after
    each map. ``large`` writes large-format maps whose ground truth also carries
    ``ornament_boxes`` and ``label_boxes`` (full-resolution pixels).
    """
    data_dir = Path(data_dir)
    images = data_dir / IMAGES_DIR
    images.mkdir(parents=True, exist_ok=True)
    manifest_path = images / MANIFEST_FILE
    try:
        reuse = json.loads(manifest_path.read_text(encoding="utf-8")) == _manifest(seed, large)
    except (OSError, ValueError):
        reuse = False
    if not reuse:
        manifest_path.unlink(missing_ok=True)  # an interrupted redraw must not look finished
    known_boxes = read_ground_truth_boxes(data_dir) if (reuse and large) else {}
    records: list[MapRecord] = []
    truth_lines: list[str] = []
    for done, synthetic in enumerate(generate_world(size, seed, large=large), start=1):
        assert synthetic.record.image is not None and synthetic.record.image.url is not None
        path = data_dir / synthetic.record.image.url
        truth: dict[str, Any] = {"id": synthetic.record.id, "attributes": synthetic.attributes}
        boxes = known_boxes.get(synthetic.record.id)
        if not (reuse and path.exists() and (boxes is not None or not large)):
            drawing = synthetic.draw()
            temporary = path.with_suffix(".tmp.png")
            drawing.image.save(temporary, format="PNG", compress_level=3)
            temporary.replace(path)  # atomic: an interrupted run never leaves a half-written image
            boxes = {"ornament_boxes": drawing.ornament_boxes, "label_boxes": drawing.label_boxes}
        if large:
            truth.update(boxes or {})
        records.append(synthetic.record)
        truth_lines.append(json.dumps(truth, sort_keys=True))
        if progress is not None:
            progress(done, size)
    truth_path = data_dir / GROUND_TRUTH_FILE
    temporary_truth = truth_path.with_suffix(".jsonl.tmp")
    temporary_truth.write_text("\n".join(truth_lines) + "\n", encoding="utf-8")
    temporary_truth.replace(truth_path)
    manifest_path.write_text(json.dumps(_manifest(seed, large)) + "\n", encoding="utf-8")
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
