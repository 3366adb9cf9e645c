"""Cutting a map's region tiles: from a decoded image (local files, direct URLs) or through IIIF
Image API region requests at the model's input size; near-blank tiles (margins, bare paper) are
skipped before anything is fetched or embedded."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from indexer.regions.grid import Box, RegionGrid, tile_boxes

# Blankness is judged on a small grey copy of the sheet: fast, and enough to see ink.
BLANK_PROBE_SIDE = 256


@dataclass(frozen=True)
class Tile:
    """One region to embed: its box in full-resolution pixels and its grid level."""

    box: Box
    level: int


def source_side(grid: RegionGrid, input_size: int) -> int:
    """The longer side a decoded sheet needs so that its finest tiles hold at least the
    model's ``input_size`` pixels (cutting from more only to shrink again is wasted decoding)."""
    finest = max(grid.levels)
    return math.ceil(input_size * (finest - (finest - 1) * grid.overlap))


def ink_spread(image: Image.Image, boxes: Sequence[Box], full_size: tuple[int, int]) -> np.ndarray:
    """Per box, the standard deviation of grey levels (0–255) inside it, measured on a small
    copy of ``image``; ``boxes`` are in ``full_size`` pixels. Bare paper and margins score low."""
    probe = image.convert("L")
    probe.thumbnail((BLANK_PROBE_SIDE, BLANK_PROBE_SIDE), Image.Resampling.BILINEAR)
    grey = np.asarray(probe, dtype=np.float32)
    sx, sy = probe.width / full_size[0], probe.height / full_size[1]
    spreads = np.zeros(len(boxes), np.float32)
    for i, (x, y, w, h) in enumerate(boxes):
        x0, y0 = int(x * sx), int(y * sy)
        x1, y1 = max(x0 + 1, math.ceil((x + w) * sx)), max(y0 + 1, math.ceil((y + h) * sy))
        spreads[i] = float(grey[y0:y1, x0:x1].std())
    return spreads


def plan_tiles(
    image: Image.Image,
    full_size: tuple[int, int],
    grid: RegionGrid,
    min_spread: float,
) -> list[Tile]:
    """The grid's tiles on a sheet of ``full_size``, less the near-blank ones (grey-level
    spread below ``min_spread``); ``image`` is any decoded copy of the sheet."""
    boxes = tile_boxes(full_size[0], full_size[1], grid)
    spreads = ink_spread(image, [box for box, _ in boxes], full_size)
    return [
        Tile(box, level)
        for (box, level), spread in zip(boxes, spreads.tolist(), strict=True)
        if spread >= min_spread
    ]


def cut_tiles(
    image: Image.Image, full_size: tuple[int, int], tiles: Sequence[Tile], input_size: int
) -> list[Image.Image]:
    """Each tile cut from ``image`` (a copy of the sheet at any size) and shrunk to fit the
    model's ``input_size``."""
    sx, sy = image.width / full_size[0], image.height / full_size[1]
    crops = []
    for tile in tiles:
        x, y, w, h = tile.box
        crop = image.crop((round(x * sx), round(y * sy), round((x + w) * sx), round((y + h) * sy)))
        if max(crop.size) > input_size:
            crop = crop.resize(
                _fit(crop.size, input_size), Image.Resampling.BICUBIC, reducing_gap=3.0
            )
        crops.append(crop)
    return crops


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    scale = side / max(size)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def iiif_region_url(service: str, box: Box, size: int) -> str:
    """The Image API request for ``box`` scaled to fit ``size`` (valid for Image API 2 and 3)."""
    from indexer.iiif.image_api import service_base

    x, y, w, h = box
    return f"{service_base(service)}/{x},{y},{w},{h}/!{size},{size}/0/default.jpg"
