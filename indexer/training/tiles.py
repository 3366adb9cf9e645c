"""Region training pairs: tiles cut from large-format synthetic sheets on the region grid, plus
crops centred on ornaments, each captioned from the sheet's ground-truth ornament boxes, so the
demo model learns what an ornament looks like inside a tile (docs/regions.md)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from indexer.records import MapRecord
from indexer.regions.grid import Box, RegionGrid, parse_grid
from indexer.regions.tiles import cut_tiles, plan_tiles, source_side
from indexer.synthetic import generate_world
from indexer.synthetic.world import LARGE_RENDER_VERSION, RENDER_VERSION, SyntheticMap
from indexer.training.data import PairSet, letterbox_uint8

#: Worlds of the large training and validation sheets: never 1 (the held-out collection) nor 2
#: (the development collection), and apart from the whole-map worlds (1001, 1002).
TILE_TRAIN_WORLD_SEED = 3001
TILE_VAL_WORLD_SEED = 3002
TILE_TRAIN_START = 300_001
TILE_VAL_START = 400_001
#: Sheets are drawn with their longer side at most this (a 4,096 px sheet costs ~6x the time and
#: ends up as the same 416 px copy the tiles are cut from).
RENDER_SIDE = 1600
#: An ornament belongs to a tile when at least this share of its box lies inside the tile.
MIN_INSIDE = 0.5
#: Blank tiles are skipped as the indexer skips them (Settings.region_min_spread's default).
MIN_SPREAD = 6.0
#: Ornament crops: side drawn from this range times the finest level's tile side, the ornament's
#: centre anywhere in the crop's middle 60 %, cut from a copy this many times the tiles' source.
CROP_SCALE = (0.45, 1.0)
CROP_SOURCE_FACTOR = 2


def share_inside(tile: Box, box: Sequence[float]) -> float:
    """Share of ``box``'s area (x, y, w, h) that lies inside ``tile``."""
    tx, ty, tw, th = tile
    bx, by, bw, bh = box
    wide = max(0.0, min(tx + tw, bx + bw) - max(tx, bx))
    high = max(0.0, min(ty + th, by + bh) - max(ty, by))
    area = bw * bh
    return wide * high / area if area else 0.0


def tile_ornaments(tile: Box, ornament_boxes: Sequence[Mapping[str, Any]]) -> list[str]:
    """Sorted ornament kinds whose box lies at least ``MIN_INSIDE`` inside ``tile``."""
    return sorted({o["kind"] for o in ornament_boxes if share_inside(tile, o["box"]) >= MIN_INSIDE})


def ornament_crop_boxes(
    size: tuple[int, int],
    ornament_boxes: Sequence[Mapping[str, Any]],
    tile_side: float,
    rng: np.random.Generator,
) -> list[Box]:
    """One square crop per ornament, in ``size`` pixels: its side a random share
    (``CROP_SCALE``) of ``tile_side``, placed so the ornament's centre falls in its middle 60 %."""
    width, height = size
    crops: list[Box] = []
    for ornament in ornament_boxes:
        x, y, w, h = ornament["box"]
        side = max(float(max(w, h)) * 1.2, tile_side * float(rng.uniform(*CROP_SCALE)))
        side = min(side, float(min(width, height)))
        cx, cy = x + w / 2, y + h / 2
        left = cx - side * float(rng.uniform(0.2, 0.8))
        top = cy - side * float(rng.uniform(0.2, 0.8))
        left = min(max(0.0, left), width - side)
        top = min(max(0.0, top), height - side)
        crops.append((round(left), round(top), round(side), round(side)))
    return crops


def sheet_pairs(
    sheet: SyntheticMap,
    grid: RegionGrid,
    input_size: int,
    rng: np.random.Generator,
    render_side: int = RENDER_SIDE,
) -> Iterator[tuple[np.ndarray, dict[str, Any]]]:
    """(letterboxed uint8 image, attributes) for every non-blank grid tile of one large sheet and
    one crop per ornament; ``attributes`` are the sheet's with ``ornaments`` replaced by those
    inside the tile or crop (kind, colour scheme and the rest describe the sheet it came from)."""
    drawing = sheet.draw(max_side=render_side)
    size = drawing.image.size
    source = drawing.image.copy()
    side = source_side(grid, input_size)  # the indexer cuts tiles from a copy of this size
    source.thumbnail((side, side), Image.Resampling.BICUBIC)
    tiles = plan_tiles(source, size, grid, MIN_SPREAD)
    for tile, image in zip(tiles, cut_tiles(source, size, tiles, input_size), strict=True):
        yield _pair(image, input_size, sheet, tile.box, drawing.ornament_boxes)
    if not drawing.ornament_boxes:
        return
    sharp = drawing.image.copy()
    sharp.thumbnail((side * CROP_SOURCE_FACTOR,) * 2, Image.Resampling.BICUBIC)
    finest = max(size) / (max(grid.levels) - (max(grid.levels) - 1) * grid.overlap)
    for box in ornament_crop_boxes(size, drawing.ornament_boxes, finest, rng):
        sx, sy = sharp.width / size[0], sharp.height / size[1]
        x, y, w, h = box
        crop = sharp.crop((round(x * sx), round(y * sy), round((x + w) * sx), round((y + h) * sy)))
        yield _pair(crop, input_size, sheet, box, drawing.ornament_boxes)


def _pair(
    image: Image.Image,
    input_size: int,
    sheet: SyntheticMap,
    box: Box,
    ornament_boxes: Sequence[Mapping[str, Any]],
) -> tuple[np.ndarray, dict[str, Any]]:
    attributes = {**sheet.attributes, "ornaments": tile_ornaments(box, ornament_boxes)}
    return letterbox_uint8(image, input_size), attributes


def tile_pair_set(
    sheets: int,
    seed: int,
    start: int,
    *,
    grid: str = "2,4@0.25",
    input_size: int = 128,
    render_side: int = RENDER_SIDE,
    progress: bool = True,
) -> PairSet:
    """Region pairs of ``sheets`` large-format sheets of world ``seed`` (ids from ``start``),
    every pair marked as a region (captioned as a detail of a map)."""
    parsed = parse_grid(grid)
    rng = np.random.default_rng([seed, start, sheets])
    records: list[MapRecord] = []
    images: list[np.ndarray] = []
    attributes: list[Mapping[str, Any] | None] = []
    world = generate_world(sheets, seed, start=start, large=True)
    for sheet in tqdm(world, total=sheets, desc=f"tiling world {seed}", disable=not progress):
        for image, attrs in sheet_pairs(sheet, parsed, input_size, rng, render_side):
            records.append(sheet.record)
            images.append(image)
            attributes.append(attrs)
    array = np.stack(images) if images else np.zeros((0, input_size, input_size, 3), dtype=np.uint8)
    return PairSet(records, array, attributes, regions=[True] * len(records))


#: Sheets are cached in blocks of this many, so a longer run reuses a shorter run's renders.
CACHE_BLOCK = 50


def cached_tile_pair_set(
    sheets: int,
    seed: int,
    start: int,
    cache_dir: Path | None,
    *,
    grid: str = "2,4@0.25",
    input_size: int = 128,
    render_side: int = RENDER_SIDE,
    progress: bool = True,
) -> PairSet:
    """:func:`tile_pair_set`, cached under ``cache_dir`` in blocks of ``CACHE_BLOCK`` sheets
    (keyed on every input and the world's render versions, so a changed drawing is never read
    from an old cache)."""
    blocks: list[PairSet] = []
    for first in range(start, start + sheets, CACHE_BLOCK):
        count = min(CACHE_BLOCK, start + sheets - first)
        key = (
            f"tiles-{seed}-{first}-{count}-{grid}-{input_size}-{render_side}"
            f"-r{RENDER_VERSION}.{LARGE_RENDER_VERSION}"
        )
        path = cache_dir / f"{key}.npz" if cache_dir else None
        if path is not None and path.is_file():
            blocks.append(PairSet.load(path))
            continue
        block = tile_pair_set(
            count,
            seed,
            first,
            grid=grid,
            input_size=input_size,
            render_side=render_side,
            progress=progress,
        )
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            block.save(path)
        blocks.append(block)
    pairs = blocks[0] if blocks else tile_pair_set(0, seed, start, input_size=input_size)
    for block in blocks[1:]:
        pairs = pairs + block
    return pairs
