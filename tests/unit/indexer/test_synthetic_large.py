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
    LARGE_RENDER_VERSION,
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
# sha256 over draw()'s record, attributes, boxes and pixels of maps 1-40 of seed 1, and over
# draw(max_side=256)'s boxes and pixels of maps 1-12 of seed 7, computed with main's code 3bbfd09
# before large sheets placed their labels
DEFAULT_DRAWINGS_DIGEST = "2929d9148bb64240929f1a39bf5e683c9cfbd021a71efc3b8ab8ef287b0e871c"
SMALL_DRAWINGS_DIGEST = "be4a8d6ebd4a1aa68c2e5e55ec4a29fbef4b14bbeb4fdacf9d7c97d711dc59fe"
# the sample's ornament boxes drawn at 2,048 px by main's code 3bbfd09, before label placement
ORNAMENT_BOXES_BEFORE_PLACEMENT = {
    "demo:00007": [
        {"kind": "cartouche", "box": [1865, 1106, 87, 59]},
        {"kind": "compass_rose", "box": [1532, 685, 40, 44]},
        {"kind": "coat_of_arms", "box": [223, 75, 46, 70]},
        {"kind": "ship", "box": [425, 1040, 56, 46]},
    ],
    "demo:00025": [
        {"kind": "compass_rose", "box": [516, 354, 50, 56]},
        {"kind": "ship", "box": [1528, 286, 38, 30]},
        {"kind": "sea_monster", "box": [857, 1458, 69, 43]},
    ],
    "demo:00001": [
        {"kind": "compass_rose", "box": [1346, 1133, 50, 55]},
        {"kind": "coat_of_arms", "box": [528, 137, 51, 77]},
    ],
    "demo:00009": [
        {"kind": "cartouche", "box": [125, 1836, 87, 58]},
        {"kind": "coat_of_arms", "box": [145, 1182, 52, 79]},
    ],
}
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


def test_default_maps_and_their_boxes_are_drawn_exactly_as_before_label_placement() -> None:
    """Label placement is for large sheets only: default maps (``mapsearch demo``, the gold
    collection, the demo model's training data) keep their pixels, records and boxes."""
    digest = hashlib.sha256()
    for smap in generate_world(40, seed=1):
        drawing = smap.draw()
        digest.update(
            json.dumps(
                [
                    smap.record.model_dump(mode="json"),
                    smap.attributes,
                    drawing.label_boxes,
                    drawing.ornament_boxes,
                ],
                sort_keys=True,
            ).encode()
        )
        digest.update(drawing.image.tobytes())
        assert drawing.labels_left_out == 0
    assert digest.hexdigest() == DEFAULT_DRAWINGS_DIGEST
    digest = hashlib.sha256()
    for smap in generate_world(12, seed=7):
        drawing = smap.draw(max_side=256)
        digest.update(
            json.dumps([drawing.label_boxes, drawing.ornament_boxes], sort_keys=True).encode()
        )
        digest.update(drawing.image.tobytes())
    assert digest.hexdigest() == SMALL_DRAWINGS_DIGEST


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
    """Drawn without its ornaments, a map differs from itself only inside the ornament boxes (and
    where labels that had to make way for an ornament were lettered)."""
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
        for entry in drawing.label_boxes + bare.label_boxes:
            x, y, w, h = entry["box"]
            grow = max(3, h)  # a town symbol stands left of its name
            changed[max(0, y - 3) : y + h + 3, max(0, x - grow) : x + w + 3] = False
        assert not (changed & ~covered).any(), smap.record.id


def _inside(box: list[int], outer: list[int]) -> bool:
    """Whether an [x, y, w, h] box lies wholly inside another (a cartouche's own lettering)."""
    return (
        outer[0] <= box[0]
        and outer[1] <= box[1]
        and box[0] + box[2] <= outer[0] + outer[2]
        and box[1] + box[3] <= outer[1] + outer[3]
    )


def _overlap(a: list[int], b: list[int]) -> int:
    """The area two [x, y, w, h] boxes share."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0, width) * max(0, height)


def test_ornaments_stay_where_they_were_before_labels_were_placed(
    sample: list[tuple[SyntheticMap, Drawing]],
) -> None:
    """Region search uses the large world's ornament boxes: placing labels must not move them."""
    for smap, drawing in sample:
        assert drawing.ornament_boxes == ORNAMENT_BOXES_BEFORE_PLACEMENT[smap.record.id]


def test_labels_cover_no_other_label_and_no_ornament(
    sample: list[tuple[SyntheticMap, Drawing]],
) -> None:
    """As a cartographer letters: no label overlaps another, none lies under an ornament, and few
    names find no room at all."""
    for smap, drawing in sample:
        labels = drawing.label_boxes
        own = [
            label
            for label in labels
            if any(_inside(label["box"], o["box"]) for o in drawing.ornament_boxes)
        ]
        assert all(
            o["kind"] == "cartouche"
            for label in own
            for o in drawing.ornament_boxes
            if _inside(label["box"], o["box"])
        ), own
        placed = [label for label in labels if label not in own]
        for index, label in enumerate(placed):
            for other in placed[index + 1 :]:
                assert _overlap(label["box"], other["box"]) == 0, (smap.record.id, label, other)
            for ornament in drawing.ornament_boxes:
                assert _overlap(label["box"], ornament["box"]) == 0, (smap.record.id, label)
        assert drawing.labels_left_out <= 0.1 * (len(placed) + drawing.labels_left_out)
    # the same map is placed the same way every time
    smap, drawing = sample[0]
    assert smap.draw(max_side=DRAWN_SIDE).label_boxes == drawing.label_boxes


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
    # a collection drawn before labels were placed (no large_render_version) is drawn again
    manifest_path = tmp_path / "images" / "world.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["large_render_version"] == LARGE_RENDER_VERSION
    del manifest["large_render_version"]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    write_demo_collection(tmp_path, 1, seed=4, large=True)
    assert image_path.stat().st_mtime_ns != first
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
