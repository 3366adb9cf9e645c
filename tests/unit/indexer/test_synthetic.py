"""The synthetic map world: determinism, attributes visible in the pixels, partial metadata
correlation, and the demo collection on disk."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from indexer.synthetic import (
    generate_world,
    read_ground_truth,
    synthetic_map,
    write_demo_collection,
)
from indexer.synthetic.vocabulary import ATTRIBUTE_VALUES, ATTRIBUTE_WORDS, KINDS, words_for

WORLD = list(generate_world(400, seed=7))


def _first(predicate) -> object:  # noqa: ANN001
    return next(m for m in WORLD if predicate(m.attributes))


def test_same_seed_same_world_and_pixels() -> None:
    again = list(generate_world(5, seed=7))
    assert [m.record for m in again] == [m.record for m in WORLD[:5]]
    assert [m.attributes for m in again] == [m.attributes for m in WORLD[:5]]
    assert np.array_equal(np.asarray(again[3].render()), np.asarray(WORLD[3].render()))


def test_other_seed_other_world() -> None:
    other = list(generate_world(20, seed=8))
    assert [m.attributes for m in other] != [m.attributes for m in WORLD[:20]]


def test_a_map_does_not_depend_on_the_size_of_the_world() -> None:
    assert synthetic_map(300, seed=7).record == WORLD[299].record


def test_records_follow_the_contract() -> None:
    first = WORLD[0].record
    assert first.id == "demo:00001" and first.source == "demo"
    assert first.image is not None and first.image.url == "images/demo-00001.png"
    for m in WORLD[:50]:
        image = m.render()
        assert image.mode == "RGB"
        assert m.record.image is not None
        assert image.size == (m.record.image.width, m.record.image.height)
        assert 256 <= max(image.size) <= 512 and min(image.size) >= 200
        assert json.loads(json.dumps(m.attributes)) == m.attributes
        assert m.record.year_start is not None and m.record.year_start <= m.attributes["year"] + 10


def test_every_attribute_value_occurs_and_has_words() -> None:
    for name, values in ATTRIBUTE_VALUES.items():
        seen: Counter[str] = Counter()
        for m in WORLD:
            value = m.attributes[name]
            seen.update(value if isinstance(value, list) else [value])
        for value in values:
            assert seen[value] > 0, (name, value)
            assert words_for(name, value), (name, value)
    assert set(ATTRIBUTE_WORDS) == set(ATTRIBUTE_VALUES)


def test_grayscale_maps_have_equal_channels() -> None:
    pixels = np.asarray(
        _first(lambda a: a["colour_scheme"] == "grayscale" and a["wear"] != "clean").render()
    ).astype(int)
    assert (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all()


@pytest.mark.parametrize("kind", KINDS)
def test_blueprints_are_blue_and_sepia_warm(kind: str) -> None:
    for scheme in ("blueprint", "sepia"):
        found = [
            m
            for m in WORLD
            if m.attributes["colour_scheme"] == scheme and m.attributes["kind"] == kind
        ]
        if not found:
            continue
        red, green, blue = np.asarray(found[0].render()).astype(float).reshape(-1, 3).mean(axis=0)
        if scheme == "blueprint":
            assert blue > red + 50 and blue > green + 20, (kind, red, green, blue)
        else:
            assert red > blue + 25 and red >= green > blue, (kind, red, green, blue)


def test_full_colour_maps_are_colourful() -> None:
    pixels = np.asarray(_first(lambda a: a["colour_scheme"] == "full_colour").render()).astype(
        float
    )
    chroma = pixels.max(axis=2) - pixels.min(axis=2)
    assert chroma.mean() > 20


def test_rendering_at_a_smaller_size_keeps_the_aspect() -> None:
    m = WORLD[1]
    small = m.render(max_side=128)
    assert max(small.size) == 128
    assert (
        m.record.image is not None
        and m.record.image.width is not None
        and m.record.image.height is not None
    )
    assert abs(small.size[0] / small.size[1] - m.record.image.width / m.record.image.height) < 0.05


def test_metadata_correlates_with_attributes_only_partly() -> None:
    hand = [m for m in WORLD if m.attributes["colour_scheme"] == "hand_coloured"]
    noted = [m for m in hand if "Hand colored." in m.record.notes]
    assert 0.3 < len(noted) / len(hand) < 0.9
    assert not any(
        "Hand colored." in m.record.notes
        for m in WORLD
        if m.attributes["colour_scheme"] != "hand_coloured"
    )
    monsters = [m for m in WORLD if "sea_monster" in m.attributes["ornaments"]]
    assert monsters
    mentioned = [
        m
        for m in monsters
        if "monster"
        in (m.record.title + " ".join(m.record.notes) + " ".join(m.record.subjects)).lower()
    ]
    assert len(mentioned) < len(monsters) / 3
    assert not any("monster" in m.record.title.lower() for m in WORLD)
    charts = [m for m in WORLD if m.attributes["kind"] == "nautical_chart"]
    assert sum("Nautical charts" in m.record.subjects for m in charts) > len(charts) / 2
    panoramic = [m for m in WORLD if "Panoramic Maps" in m.record.collections]
    assert panoramic and all(m.attributes["kind"] == "birds_eye_view" for m in panoramic)


def test_write_demo_collection_is_idempotent(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    records = write_demo_collection(
        tmp_path, 6, seed=3, progress=lambda done, total: calls.append((done, total))
    )
    assert [r.id for r in records] == [f"demo:{i:05d}" for i in range(1, 7)]
    assert calls[-1] == (6, 6)
    images = sorted((tmp_path / "images").glob("*.png"))
    assert [p.name for p in images] == [f"demo-{i:05d}.png" for i in range(1, 7)]
    lines = (tmp_path / "ground_truth.jsonl").read_text().splitlines()
    assert len(lines) == 6 and json.loads(lines[0])["id"] == "demo:00001"
    truth = read_ground_truth(tmp_path)
    assert truth["demo:00002"] == synthetic_map(2, seed=3).attributes
    stamp = images[0].stat().st_mtime_ns
    assert write_demo_collection(tmp_path, 6, seed=3) == records
    assert images[0].stat().st_mtime_ns == stamp
    assert not list(tmp_path.rglob("*.tmp*"))


def test_another_seed_redraws_the_images(tmp_path: Path) -> None:
    write_demo_collection(tmp_path, 3, seed=3)
    first = (tmp_path / "images" / "demo-00001.png").read_bytes()
    write_demo_collection(tmp_path, 3, seed=4)
    redrawn = (tmp_path / "images" / "demo-00001.png").read_bytes()
    assert redrawn != first
    assert redrawn == _png_of(synthetic_map(1, seed=4))
    assert read_ground_truth(tmp_path)["demo:00001"] == synthetic_map(1, seed=4).attributes


def _png_of(smap: object) -> bytes:
    import io

    buffer = io.BytesIO()
    smap.render().save(buffer, format="PNG", compress_level=3)  # type: ignore[attr-defined]
    return buffer.getvalue()


def _colour_share(image: object, colours: tuple[tuple[int, int, int], ...]) -> float:
    pixels = np.asarray(image).reshape(-1, 3)
    hits = np.zeros(len(pixels), dtype=bool)
    for colour in colours:
        hits |= (pixels == colour).all(axis=1)
    return float(hits.mean())


def test_sea_monsters_are_drawn_where_the_ground_truth_says() -> None:
    from indexer.synthetic.ornaments import MONSTER_GREENS
    from indexer.synthetic.render import render_map

    base = dict(_first(lambda a: a["kind"] == "nautical_chart").attributes)  # type: ignore[attr-defined]
    base.update(colour_scheme="full_colour", wear="clean")
    with_monster = render_map({**base, "ornaments": ["sea_monster"]}, "A chart", seed=11)
    without = render_map({**base, "ornaments": []}, "A chart", seed=11)
    assert _colour_share(with_monster, MONSTER_GREENS) > 0.01
    assert _colour_share(without, MONSTER_GREENS) == 0.0


def test_stains_darken_the_paper() -> None:
    from indexer.synthetic.render import render_map

    base = dict(_first(lambda a: a["kind"] == "regional_map").attributes)  # type: ignore[attr-defined]
    base.update(colour_scheme="full_colour")
    clean = np.asarray(render_map({**base, "wear": "clean"}, "Map", seed=5)).astype(float)
    stained = np.asarray(render_map({**base, "wear": "stained"}, "Map", seed=5)).astype(float)
    assert stained.mean() < clean.mean() - 3
    assert stained[..., 2].mean() < clean[..., 2].mean() - 8  # yellowed: blue falls most


def test_dense_text_puts_more_ink_on_the_map() -> None:
    from indexer.synthetic.render import render_map

    base = dict(_first(lambda a: a["kind"] == "regional_map").attributes)  # type: ignore[attr-defined]
    base.update(colour_scheme="grayscale", wear="clean", ornaments=[], relief="none")
    ink = {
        density: (
            np.asarray(render_map({**base, "text_density": density}, "Map", seed=9))[..., 0] < 90
        ).mean()
        for density in ("sparse", "dense")
    }
    assert ink["dense"] > ink["sparse"] + 0.01  # the linework is identical; only lettering differs


def test_a_variant_redraws_the_same_map_in_another_style() -> None:
    original = _first(
        lambda a: a["colour_scheme"] == "full_colour" and a["kind"] == "nautical_chart"
    )
    gray = original.variant(colour_scheme="grayscale")  # type: ignore[attr-defined]
    assert gray.record == original.record and gray.attributes["colour_scheme"] == "grayscale"  # type: ignore[attr-defined]
    assert original.attributes["colour_scheme"] == "full_colour"  # type: ignore[attr-defined]
    before = np.asarray(original.render().convert("L")).astype(float).ravel()  # type: ignore[attr-defined]
    after = np.asarray(gray.render())[..., 0].astype(float).ravel()
    other = _first(lambda a: a["kind"] == "city_plan")
    unrelated = np.asarray(
        other.variant(colour_scheme="grayscale").render().resize(gray.render().size)
    )[..., 0]  # type: ignore[attr-defined]
    assert np.corrcoef(before, after)[0, 1] > 0.6
    assert np.corrcoef(before, unrelated.astype(float).ravel())[0, 1] < 0.4
    with pytest.raises(ValueError, match="colour_scheme"):
        original.variant(colour_scheme="purple")  # type: ignore[attr-defined]
