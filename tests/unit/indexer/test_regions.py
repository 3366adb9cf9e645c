"""Region tiling and embedding (docs/regions.md): the grid's boxes, blank tiles skipped, regions
embedded in the pipeline beside whole-map vectors, reused and added without re-embedding whole
maps, and IIIF tiles fetched as Image API region requests at the model's input size."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from indexer.backends.base import BackendQuery
from indexer.backends.embedded import EmbeddedBackend
from indexer.pipeline import index_records, needs_regions
from indexer.records import ImageRef, MapRecord
from indexer.region_set import RegionSet
from indexer.regions.grid import parse_grid, tile_boxes
from indexer.regions.tiles import iiif_region_url, plan_tiles, source_side
from indexer.settings import Settings, load_settings
from tests.support.http_server import Reply, ScriptedServer, Seen
from tests.support.indexed_app import ColourEmbedder

PAPER = (236, 228, 210)


def sheet(width: int = 2400, height: int = 1600) -> Image.Image:
    """Paper with line work on the left two thirds and one red square near the top right."""
    image = Image.new("RGB", (width, height), PAPER)
    pixels = np.asarray(image).copy()
    rng = np.random.default_rng(0)
    for _ in range(300):
        y, x = int(rng.integers(0, height - 4)), int(rng.integers(0, width * 2 // 3))
        pixels[y : y + 3, x : x + 60] = (40, 40, 40)
    pixels[200:320, 1900:2020] = (220, 20, 20)
    return Image.fromarray(pixels)


@pytest.mark.parametrize("text", ["", "0", "1,4", "2,x", "2@0.9", "17"])
def test_a_bad_grid_is_refused_with_the_reason(text: str) -> None:
    with pytest.raises(ValueError, match="region grid"):
        parse_grid(text)


def test_grid_tiles_are_square_overlapping_and_cover_the_sheet() -> None:
    grid = parse_grid("2,4@0.25")
    assert grid.spec == "2,4@0.25" and grid.levels == (2, 4)
    boxes = tile_boxes(4000, 2500, grid)
    for level in (2, 4):
        tiles = [box for box, n in boxes if n == level]
        side = 4000 / (level - (level - 1) * 0.25)
        assert all(abs(w - side) <= 1 and w == h for _, _, w, h in tiles)
        covered = np.zeros((2500, 4000), bool)
        for x, y, w, h in tiles:
            assert x >= 0 and y >= 0 and x + w <= 4000 and y + h <= 2500
            covered[y : y + h, x : x + w] = True
        assert covered.all()
        xs = sorted({x for x, _, _, _ in tiles})
        assert len(xs) == level and xs[1] - xs[0] <= 0.75 * side + 1  # neighbours overlap


def test_blank_tiles_are_skipped() -> None:
    image = sheet()
    grid = parse_grid("4@0.25")
    tiles = plan_tiles(image, image.size, grid, min_spread=6.0)
    every = tile_boxes(*image.size, grid)
    assert 0 < len(tiles) < len(every)
    kept = {tile.box for tile in tiles}
    # a tile of bare paper (bottom right: no lines, no red) is skipped; the red one is kept
    assert all(not (x > 1700 and y > 700) for x, y, _, _ in kept)
    assert any(x <= 1900 and x + w >= 2020 and y <= 200 and y + h >= 320 for x, y, w, h in kept)


def test_the_finest_tiles_get_at_least_the_model_input_size() -> None:
    grid = parse_grid("2,4@0.25")
    side = source_side(grid, 224)
    assert side / 3.25 >= 224 > (side - 2) / 3.25


def regions_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "region_grid": "2,4@0.25",
        "image_cache": False,
        **overrides,
    }
    return load_settings(values)


def local_record(settings: Settings, name: str, image: Image.Image) -> MapRecord:
    images = settings.data_dir / "images"
    images.mkdir(parents=True, exist_ok=True)
    image.save(images / f"{name}.png")
    ref = ImageRef(url=f"images/{name}.png", width=image.width, height=image.height)
    return MapRecord(id=f"t:{name}", source="t", title=name, image=ref)


def test_the_pipeline_embeds_regions_beside_the_whole_map(tmp_path: Path) -> None:
    settings = regions_settings(tmp_path)
    backend = EmbeddedBackend.open(settings)
    embedder = ColourEmbedder()
    large = local_record(settings, "large", sheet())
    small = local_record(settings, "small", sheet(800, 600))
    report = index_records([large, small], settings=settings, backend=backend, embedder=embedder)
    assert report.embedded == 2 and report.maps_with_new_regions == 1
    stored = backend.fetch(["t:large", "t:small"])
    regions = stored["t:large"].regions
    assert regions is not None and regions.grid == "2,4@0.25"
    assert report.regions_embedded == len(regions) > 0
    assert set(regions.levels.tolist()) == {2, 4}
    for x, y, w, h in regions.boxes.tolist():
        assert x >= 0 and y >= 0 and x + w <= 2400 and y + h <= 1600
    np.testing.assert_allclose(np.linalg.norm(regions.vectors, axis=1), 1.0, atol=1e-5)
    small_regions = stored["t:small"].regions  # under region_min_side: tiled as none
    assert small_regions is not None and len(small_regions) == 0
    # the red square is found by its region: the best region's box holds it
    red = embedder.embed_query_text("red")
    hit = backend.search(BackendQuery(vector=red, num_candidates=2)).semantic[0]
    assert hit.id == "t:large" and hit.region_score is not None
    assert hit.region_score > (hit.whole_score or 0.0)
    x, y, w, h = hit.regions[0].box
    assert x <= 1900 and x + w >= 2020 and y <= 200 and y + h >= 320 and w < 1600


def test_regions_are_reused_and_added_without_re_embedding_whole_maps(tmp_path: Path) -> None:
    off = regions_settings(tmp_path, region_grid="")
    backend = EmbeddedBackend.open(off)
    record = local_record(off, "large", sheet())
    first = index_records([record], settings=off, backend=backend, embedder=ColourEmbedder())
    assert first.embedded == 1 and first.regions_embedded == 0
    assert backend.fetch([record.id])[record.id].regions is None
    on = regions_settings(tmp_path)
    assert needs_regions(backend.fetch([record.id])[record.id], on)
    embedder = ColourEmbedder()
    added = index_records([record], settings=on, backend=backend, embedder=embedder)
    assert added.embedded == 0 and added.reused_vectors == 1  # the whole map kept its vector
    assert added.maps_with_new_regions == 1 and embedder.images_embedded == added.regions_embedded
    assert not needs_regions(backend.fetch([record.id])[record.id], on)
    again = ColourEmbedder()
    rerun = index_records([record], settings=on, backend=backend, embedder=again)
    assert rerun.regions_embedded == 0 and again.images_embedded == 0
    finer = regions_settings(tmp_path, region_grid="3@0.25")
    regrid = index_records([record], settings=finer, backend=backend, embedder=ColourEmbedder())
    assert regrid.embedded == 0 and regrid.maps_with_new_regions == 1
    stored = backend.fetch([record.id])[record.id].regions
    assert stored is not None and stored.grid == "3@0.25" and set(stored.levels.tolist()) == {3}


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def test_iiif_tiles_are_fetched_as_region_requests_at_the_input_size(tmp_path: Path) -> None:
    full = sheet()
    region = re.compile(r"^/iiif/m1/(\d+),(\d+),(\d+),(\d+)/!(\d+),(\d+)/0/default.jpg$")

    def serve(seen: Seen) -> Reply:
        if seen.path == "/iiif/m1/full/!1024,1024/0/default.jpg":
            small = full.copy()
            small.thumbnail((1024, 1024))
            return Reply(200, _jpeg(small), content_type="image/jpeg")
        match = region.match(seen.path)
        if match is None:
            return Reply(404, b"no")
        x, y, w, h, side, _ = (int(v) for v in match.groups())
        tile = full.crop((x, y, x + w, y + h))
        tile.thumbnail((side, side))
        return Reply(200, _jpeg(tile), content_type="image/jpeg")

    with ScriptedServer() as server:
        for path in ["/iiif/m1/full/!1024,1024/0/default.jpg"]:
            server.handle(path, serve)
        settings = regions_settings(tmp_path, allow_private_urls=True, image_backoff=0.01)
        # every region path goes to the same handler
        server.routes = _PrefixRoutes(server.routes, "/iiif/m1/", serve)  # type: ignore[assignment]
        ref = ImageRef(iiif_service=server.url("/iiif/m1"), width=2400, height=1600)
        record = MapRecord(id="t:iiif", source="t", title="iiif", image=ref)
        backend = EmbeddedBackend.open(settings)
        report = index_records(
            [record], settings=settings, backend=backend, embedder=ColourEmbedder()
        )
        asked = [s.path for s in server.seen]
    regions = backend.fetch(["t:iiif"])["t:iiif"].regions
    assert regions is not None and report.regions_embedded == len(regions) > 0
    tile_requests = [path for path in asked if region.match(path)]
    assert len(tile_requests) == len(regions)  # one request per kept tile, none for blank ones
    assert all(path.endswith("/!224,224/0/default.jpg") for path in tile_requests)
    for x, y, w, h in regions.boxes.tolist():
        assert iiif_region_url(ref.iiif_service or "", (x, y, w, h), 224).endswith(
            f"/iiif/m1/{x},{y},{w},{h}/!224,224/0/default.jpg"
        )
    assert not any("/full/max/" in path or "/full/full/" in path for path in asked)


class _PrefixRoutes(dict):  # type: ignore[type-arg]
    """Routes where any path under ``prefix`` goes to one handler."""

    def __init__(self, routes: dict, prefix: str, handler: object) -> None:  # type: ignore[type-arg]
        super().__init__(routes)
        self.prefix, self.handler = prefix, handler

    def get(self, key: object, default: object = None) -> object:
        path = str(key).split("?", 1)[0]
        if path.startswith(self.prefix):
            return self.handler
        return super().get(key, default)


def test_a_region_set_survives_the_stage_store_form() -> None:
    regions = RegionSet.build(
        "2@0.25", [(0, 0, 10, 10), (5, 5, 10, 10)], [2, 2], np.eye(2, 3, dtype=np.float32)
    )
    back = RegionSet.from_json(json.loads(json.dumps(regions.to_json())))
    assert back.grid == "2@0.25" and back.boxes.tolist() == regions.boxes.tolist()
    np.testing.assert_array_equal(back.vectors, regions.vectors)
    empty = RegionSet.from_json(RegionSet.empty("2@0.25").to_json())
    assert len(empty) == 0 and empty.grid == "2@0.25"
