"""Region training pairs (indexer/training/tiles.py): tiles of large synthetic sheets on the region
grid and ornament crops, captioned from the ground-truth ornament boxes; mixed with whole maps."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from indexer.regions.grid import parse_grid, tile_boxes
from indexer.synthetic.world import synthetic_map
from indexer.training.captions import attribute_facts, region_caption
from indexer.training.checkpoint import DEMO_MODEL_DIR, load_demo_checkpoint, read_config
from indexer.training.data import PairSet
from indexer.training.tiles import (
    CACHE_BLOCK,
    TILE_TRAIN_WORLD_SEED,
    cached_tile_pair_set,
    ornament_crop_boxes,
    share_inside,
    sheet_pairs,
    tile_ornaments,
    tile_pair_set,
)
from tests.support.training import one_torch_thread, train_two_steps  # noqa: F401 (a fixture)
from webapi.cli import cli

GRID = parse_grid("2,4@0.25")
SMALL_RENDER = 600  # drawing sheets this small keeps the tests fast; geometry is the same


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_an_ornament_belongs_to_a_tile_holding_most_of_it() -> None:
    boxes = [
        {"kind": "ship", "box": [10, 10, 20, 20]},  # wholly inside
        {"kind": "compass_rose", "box": [90, 10, 20, 20]},  # half inside: counts
        {"kind": "sea_monster", "box": [95, 50, 20, 20]},  # a quarter inside: does not
        {"kind": "cartouche", "box": [300, 300, 10, 10]},  # elsewhere
    ]
    assert share_inside((0, 0, 100, 100), [90, 10, 20, 20]) == pytest.approx(0.5)
    assert share_inside((0, 0, 100, 100), [95, 50, 20, 20]) == pytest.approx(0.25)
    assert tile_ornaments((0, 0, 100, 100), boxes) == ["compass_rose", "ship"]
    assert tile_ornaments((200, 200, 50, 50), boxes) == []


def test_ornament_crops_hold_the_ornament_centre_inside_the_sheet() -> None:
    rng = np.random.default_rng(0)
    boxes = [{"kind": "ship", "box": [x, y, 30, 24]} for x, y in ((5, 5), (1500, 900), (700, 400))]
    for _ in range(20):
        crops = ornament_crop_boxes((1600, 1000), boxes, tile_side=490.0, rng=rng)
        assert len(crops) == len(boxes)
        for (x, y, w, h), ornament in zip(crops, boxes, strict=True):
            ox, oy, ow, oh = ornament["box"]
            assert w == h and 0.45 * 490 - 1 <= w <= 490 + 1
            assert x >= 0 and y >= 0 and x + w <= 1600 and y + h <= 1000
            assert x <= ox + ow / 2 <= x + w and y <= oy + oh / 2 <= y + h


def test_a_sheet_gives_its_grid_tiles_and_one_crop_per_ornament_labelled_by_the_boxes() -> None:
    sheet = next(
        synthetic_map(i, TILE_TRAIN_WORLD_SEED, large=True)
        for i in range(1, 50)
        if len(synthetic_map(i, TILE_TRAIN_WORLD_SEED, large=True).attributes["ornaments"]) >= 2
    )
    drawing = sheet.draw(max_side=SMALL_RENDER)
    pairs = list(sheet_pairs(sheet, GRID, 128, np.random.default_rng(0), SMALL_RENDER))
    grid_boxes = [box for box, _ in tile_boxes(*drawing.image.size, GRID)]
    crops = pairs[len(pairs) - len(drawing.ornament_boxes) :]
    tiles = pairs[: len(pairs) - len(drawing.ornament_boxes)]
    assert 0 < len(tiles) <= len(grid_boxes)  # blank tiles may be skipped, never extra ones
    for image, attributes in pairs:
        assert image.shape == (128, 128, 3) and image.dtype == np.uint8
        # the sheet's kind and colour scheme carry over; ornaments are the tile's own
        assert attributes["kind"] == sheet.attributes["kind"]
        assert attributes["colour_scheme"] == sheet.attributes["colour_scheme"]
        assert set(attributes["ornaments"]) <= set(sheet.attributes["ornaments"])
    expected = {tuple(tile_ornaments(box, drawing.ornament_boxes)) for box in grid_boxes}
    assert {tuple(a["ornaments"]) for _, a in tiles} <= expected
    for (_, attributes), ornament in zip(crops, drawing.ornament_boxes, strict=True):
        assert ornament["kind"] in attributes["ornaments"]  # each crop shows its ornament
    assert any(not a["ornaments"] for _, a in tiles)  # bare tiles teach "no ornament here"


def test_region_captions_claim_only_what_the_tile_shows() -> None:
    rng = random.Random(0)
    with_ornaments = {"kind": "nautical_chart", "colour_scheme": "sepia", "ornaments": ["ship"]}
    bare = {"kind": "city_plan", "colour_scheme": "grayscale", "ornaments": []}
    named = 0
    for _ in range(200):
        caption = region_caption(with_ornaments, rng)
        assert caption.claims <= attribute_facts(with_ornaments)
        named += "ornaments=ship" in caption.claims
        plain = region_caption(bare, rng)
        assert plain.claims and plain.claims <= attribute_facts(bare)
        assert not any(c.startswith("ornaments=") for c in plain.claims)
    assert named == 200  # a tile's only ornament is always named


def test_pair_sets_mix_whole_maps_and_regions_and_round_trip(tmp_path: Path) -> None:
    regions = tile_pair_set(2, TILE_TRAIN_WORLD_SEED, 1, render_side=SMALL_RENDER, progress=False)
    assert len(regions) > 2 and all(regions.regions)
    whole = PairSet(regions.records[:3], regions.images[:3], regions.attributes[:3])
    assert whole.regions == [False] * 3
    mixed = whole + regions
    assert len(mixed) == 3 + len(regions)
    assert mixed.regions == [False] * 3 + [True] * len(regions)
    rng = random.Random(1)
    captions = mixed.captions(range(len(mixed)), rng)
    # region pairs never carry the catalogue title; whole maps sometimes do
    assert not any(regions.records[0].title in c.text for c in captions[3:])
    mixed.save(tmp_path / "mixed.npz")
    loaded = PairSet.load(tmp_path / "mixed.npz")
    assert loaded.regions == mixed.regions
    assert np.array_equal(loaded.images, mixed.images)
    assert loaded.subset([0, 4]).regions == [False, True]


def test_tile_caches_are_reused_block_by_block(tmp_path: Path) -> None:
    first = cached_tile_pair_set(
        1, TILE_TRAIN_WORLD_SEED, 1, tmp_path, render_side=SMALL_RENDER, progress=False
    )
    (cached,) = tmp_path.glob("*.npz")
    stamp = cached.stat().st_mtime_ns
    again = cached_tile_pair_set(
        1, TILE_TRAIN_WORLD_SEED, 1, tmp_path, render_side=SMALL_RENDER, progress=False
    )
    assert np.array_equal(first.images, again.images) and cached.stat().st_mtime_ns == stamp
    assert CACHE_BLOCK > 1  # a longer run (more sheets) starts with the same first block
    fresh = tile_pair_set(1, TILE_TRAIN_WORLD_SEED, 1, render_side=SMALL_RENDER, progress=False)
    assert np.array_equal(fresh.images, first.images)


def test_training_on_from_a_checkpoint_with_region_pairs(tmp_path: Path) -> None:
    """The demo model goes on training with whole maps and region tiles mixed, and says so."""
    out = tmp_path / "out"
    summary = train_two_steps(
        tmp_path,
        base="demo",
        tile_sheets=1,
        tile_val_sheets=1,
    )
    model, _, model_id = load_demo_checkpoint(out)
    assert model_id == summary["model_id"] and model_id.startswith("demo-clip/")
    assert read_config(out)["model_cfg"]["vision_cfg"]["image_size"] == 128
    card = (out / "MODEL_CARD.md").read_text()
    assert "region pairs" in card and "--base demo --tile-sheets 1" in card
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["history"][0]["steps"] == 2
    # trained on from the shipped weights (two small steps away), not from a fresh initialisation
    # (the best epoch's weights are kept: the shipped ones when two steps did not help)
    shipped, _, _ = load_demo_checkpoint(DEMO_MODEL_DIR)
    new, old = model.state_dict(), shipped.state_dict()
    assert all(torch.allclose(new[k], old[k], atol=0.02) for k in old)


def test_train_demo_model_refuses_a_bad_tile_grid() -> None:
    result = CliRunner().invoke(
        cli, ["train-demo-model", "--tile-sheets", "1", "--tile-grid", "1,99"]
    )
    assert result.exit_code != 0
    assert "Error:" in result.output and "--tile-grid" in result.output
    assert "Traceback" not in result.output
