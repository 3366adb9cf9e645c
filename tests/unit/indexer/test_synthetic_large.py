"""Large-format synthetic maps: small ornaments and lettering, and ground-truth boxes that say
where each was drawn; the default world's pixels stay exactly as they were."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from indexer.synthetic import (
    SyntheticMap,
    generate_world,
    read_ground_truth,
    read_ground_truth_boxes,
    synthetic_map,
    write_demo_collection,
)
from indexer.synthetic.render import Drawing
from indexer.synthetic.terrain import dilate

# sha256 over render() and render(max_side=128) of the first 40 maps of seed 1, computed with
# main's code before large formats and boxes existed (all kinds and ornaments occur among them)
DEFAULT_WORLD_DIGEST = "13072be3f09fb6876107a590b31e0b5b3113efff4db53192101a0d43ed754513"
# seed 2: every kind of map and every ornament among these four
SAMPLE = (7, 25, 1, 9)
DRAWN_SIDE = 2048  # the smallest large sheet, to keep the test fast


@pytest.fixture(scope="module")
def sample() -> list[tuple[SyntheticMap, Drawing]]:
    maps = [
        synthetic_map(index, seed=2, large=True).variant(wear="clean", colour_scheme="full_colour")
        for index in SAMPLE
    ]
    return [(smap, smap.draw(max_side=DRAWN_SIDE)) for smap in maps]


def test_the_default_world_is_drawn_exactly_as_before() -> None:
    digest = hashlib.sha256()
    for smap in generate_world(40, seed=1):
        digest.update(smap.render().tobytes())
        digest.update(smap.render(max_side=128).tobytes())
    assert digest.hexdigest() == DEFAULT_WORLD_DIGEST


def test_large_maps_have_a_long_side_of_2048_to_4096_px() -> None:
    for smap in generate_world(30, seed=3, large=True):
        assert 2048 <= max(smap.attributes["width"], smap.attributes["height"]) <= 4096
        assert smap.attributes["format"] == "large"
        assert smap.record.image is not None
        assert (smap.record.image.width, smap.record.image.height) == (
            smap.attributes["width"],
            smap.attributes["height"],
        )
    default = synthetic_map(5, seed=3)
    assert "format" not in default.attributes
    assert synthetic_map(5, seed=3, large=True).attributes["kind"] == default.attributes["kind"]


def test_every_listed_ornament_has_a_box_inside_the_image(
    sample: list[tuple[SyntheticMap, Drawing]],
) -> None:
    kinds_seen: set[str] = set()
    for smap, drawing in sample:
        width, height = drawing.image.size
        assert {box["kind"] for box in drawing.ornament_boxes} == set(smap.attributes["ornaments"])
        assert drawing.label_boxes
        for entry in drawing.ornament_boxes + drawing.label_boxes:
            x, y, w, h = entry["box"]
            assert w > 0 and h > 0
            assert x >= 0 and y >= 0 and x + w <= width and y + h <= height, entry
        kinds_seen |= {box["kind"] for box in drawing.ornament_boxes}
    assert kinds_seen == {"sea_monster", "ship", "compass_rose", "cartouche", "coat_of_arms"}


def test_ornaments_span_1_to_5_percent_of_the_longer_side(
    sample: list[tuple[SyntheticMap, Drawing]],
) -> None:
    for _, drawing in sample:
        long_side = max(drawing.image.size)
        for entry in drawing.ornament_boxes:
            share = max(entry["box"][2:]) / long_side
            assert 0.01 <= share <= 0.05, (entry, share)


def test_ornament_boxes_hold_all_of_the_ornaments_ink(
    sample: list[tuple[SyntheticMap, Drawing]],
) -> None:
    """Drawn without its ornaments, a map differs from itself only inside the ornament boxes."""
    for smap, drawing in sample:
        bare = smap.variant(ornaments=[]).draw(max_side=DRAWN_SIDE)
        changed = np.any(np.asarray(drawing.image) != np.asarray(bare.image), axis=2)
        # without a cartouche the title runs along the top margin instead
        changed[: round(17 * max(changed.shape) / 600), :] = False
        covered = np.zeros_like(changed)
        for entry in drawing.ornament_boxes:
            x, y, w, h = entry["box"]
            covered[y : y + h, x : x + w] = True
            inked = changed[y : y + h, x : x + w].mean()
            assert inked > 0.1, (smap.record.id, entry, inked)
        assert changed.any()
        assert not (changed & ~covered).any(), smap.record.id


def test_label_boxes_sit_on_their_text(sample: list[tuple[SyntheticMap, Drawing]]) -> None:
    """Every label box holds ink, and a horizontal label's ink spans its box end to end."""
    rotated = 0
    for _, drawing in sample:
        pixels = np.asarray(drawing.image).astype(int)
        dark = pixels.sum(axis=2) < 3 * 110  # full colour ink is (38, 34, 30)
        for entry in drawing.label_boxes:
            x, y, w, h = entry["box"]
            assert dark[y : y + h, x : x + w].mean() > 0.04, entry
            rotated += entry["angle"] != 0
            if entry["angle"] == 0 and w > 8:
                ink = dark[y : y + h, x : x + w]
                third = max(1, w // 3)
                assert ink[:, :third].any() and ink[:, -third:].any(), entry
                assert ink[: h // 2].any() and ink[h // 2 :].any(), entry
    assert rotated > 0


def test_lettering_is_small_on_large_maps(sample: list[tuple[SyntheticMap, Drawing]]) -> None:
    for _, drawing in sample:
        long_side = max(drawing.image.size)
        heights = [entry["box"][3] for entry in drawing.label_boxes if entry["angle"] == 0]
        assert 0.004 <= float(np.median(heights)) / long_side <= 0.05


def test_a_large_collection_writes_boxes_into_its_ground_truth(tmp_path: Path) -> None:
    records = write_demo_collection(tmp_path, 1, seed=4, large=True)
    assert records[0].image is not None and records[0].image.url is not None
    image_path = tmp_path / records[0].image.url
    first = image_path.stat().st_mtime_ns
    boxes = read_ground_truth_boxes(tmp_path)[records[0].id]
    assert boxes["label_boxes"] and all(
        set(entry) == {"text", "box", "angle"} for entry in boxes["label_boxes"]
    )
    assert read_ground_truth(tmp_path)[records[0].id]["format"] == "large"
    # a re-run keeps the image and its boxes without drawing again
    write_demo_collection(tmp_path, 1, seed=4, large=True)
    assert image_path.stat().st_mtime_ns == first
    assert read_ground_truth_boxes(tmp_path)[records[0].id] == boxes


def test_the_default_collection_keeps_its_ground_truth_fields(tmp_path: Path) -> None:
    write_demo_collection(tmp_path, 2, seed=1)
    lines = (tmp_path / "ground_truth.jsonl").read_text(encoding="utf-8").splitlines()
    assert [set(json.loads(line)) for line in lines] == [{"id", "attributes"}] * 2
    assert read_ground_truth_boxes(tmp_path) == {}


@pytest.mark.parametrize("size", [3, 8, 17, 41])
def test_dilate_grows_a_mask_as_pillows_max_filter_does(size: int) -> None:
    rng = np.random.default_rng(size)
    mask = rng.random((97, 131)) < 0.01
    mask[0, 3] = mask[96, 130] = mask[40, 0] = True  # squares clipped at every edge
    pillow = Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(size | 1))
    assert np.array_equal(dilate(mask, size), np.asarray(pillow) > 0)
