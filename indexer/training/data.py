"""Training pairs: records (with optional ground-truth attributes) and their images, pre-rendered
once into a uint8 array at the model's input size, so epochs cost no image decoding."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from indexer.records import MapRecord
from indexer.training.captions import Caption, attribute_facts, build_caption, region_caption


def letterbox_uint8(image: Image.Image, size: int, fill: int = 0) -> np.ndarray:
    """(size, size, 3) uint8: the whole image scaled to fit, centred on a ``fill`` background —
    the same geometry as open_clip's ``resize_mode="longest"`` eval transform."""
    image = image.convert("RGB")
    scale = size / max(image.size)
    w, h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    resized = image.resize((w, h), Image.Resampling.BICUBIC)
    canvas = Image.new("RGB", (size, size), (fill, fill, fill))
    canvas.paste(resized, ((size - w) // 2, (size - h) // 2))
    return np.asarray(canvas, dtype=np.uint8)


@dataclass
class PairSet:
    """Aligned records, images (n, H, W, 3) uint8, ground-truth attributes (or None each), and
    whether each image is a region of its record's sheet (a tile, captioned as a detail)."""

    records: list[MapRecord]
    images: np.ndarray
    attributes: list[Mapping[str, Any] | None] = field(default_factory=list)
    regions: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.attributes:
            self.attributes = [None] * len(self.records)
        if not self.regions:
            self.regions = [False] * len(self.records)
        lengths = {len(self.records), len(self.images), len(self.attributes), len(self.regions)}
        if len(lengths) != 1:
            raise ValueError("records, images, attributes and regions must have the same length")

    def __len__(self) -> int:
        return len(self.records)

    @property
    def facts(self) -> list[frozenset[str]]:
        """Ground-truth facts per image (empty where attributes are unknown)."""
        return [attribute_facts(a) for a in self.attributes]

    def captions(self, indices: Sequence[int], rng: random.Random) -> list[Caption]:
        """A freshly sampled caption for each index (variety across epochs)."""
        return [
            region_caption(attrs, rng)
            if self.regions[i] and (attrs := self.attributes[i])
            else build_caption(self.records[i], self.attributes[i], rng)
            for i in indices
        ]

    def subset(self, indices: Sequence[int]) -> PairSet:
        """The pairs at ``indices``."""
        idx = list(indices)
        return PairSet(
            [self.records[i] for i in idx],
            self.images[idx],
            [self.attributes[i] for i in idx],
            [self.regions[i] for i in idx],
        )

    def __add__(self, other: PairSet) -> PairSet:
        """Both sets' pairs, this one's first (whole maps and region tiles train together)."""
        return PairSet(
            self.records + other.records,
            np.concatenate([self.images, other.images]),
            self.attributes + other.attributes,
            self.regions + other.regions,
        )

    def save(self, path: str | Path) -> None:
        """Cache to one ``.npz`` (images + records JSON + attributes JSON)."""
        import json

        np.savez(
            path,
            images=self.images,
            records=np.array([r.model_dump_json() for r in self.records]),
            attributes=np.array([json.dumps(a) for a in self.attributes]),
            regions=np.array(self.regions, dtype=bool),
        )

    @classmethod
    def load(cls, path: str | Path) -> PairSet:
        """Read a cache written by :meth:`save`."""
        import json

        with np.load(path, allow_pickle=False) as data:
            records = [MapRecord.model_validate_json(str(s)) for s in data["records"]]
            attributes = [json.loads(str(s)) for s in data["attributes"]]
            regions = data["regions"].tolist() if "regions" in data.files else []
            return cls(records, data["images"], attributes, regions)


def build_pairs(
    items: Iterable[tuple[MapRecord, Mapping[str, Any] | None, Callable[[], Image.Image]]],
    image_size: int,
    *,
    total: int | None = None,
    desc: str = "rendering",
) -> PairSet:
    """Render/decode each item's image once into the uint8 cache; items whose image fails are
    skipped (and counted in the progress bar's postfix)."""
    records: list[MapRecord] = []
    attributes: list[Mapping[str, Any] | None] = []
    images: list[np.ndarray] = []
    failed = 0
    bar = tqdm(items, total=total, desc=desc, unit="img", leave=False)
    for record, attrs, load in bar:
        try:
            images.append(letterbox_uint8(load(), image_size))
        except (OSError, ValueError) as exc:  # a broken image must not stop a long run
            failed += 1
            bar.set_postfix(failed=failed, last=str(exc)[:40])
            continue
        records.append(record)
        attributes.append(attrs)
    array = np.stack(images) if images else np.zeros((0, image_size, image_size, 3), np.uint8)
    return PairSet(records, array, attributes)
