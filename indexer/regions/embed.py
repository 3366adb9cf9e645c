"""Embedding the regions of a batch of maps: plan each sheet's tiles, cut them (from the decoded
sheet, or through IIIF region requests at the model's input size), embed every tile of the batch
in one go, and return each map's RegionSet. A map that fails loses its regions, not the batch."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from indexer.records import MapRecord
from indexer.region_set import RegionSet
from indexer.regions.grid import RegionGrid, parse_grid
from indexer.regions.tiles import Tile, cut_tiles, iiif_region_url, plan_tiles, source_side
from indexer.settings import Settings

if TYPE_CHECKING:
    from indexer.embedder import Embedder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RegionJob:
    """One map whose regions are wanted, with the copy of its sheet already decoded."""

    record: MapRecord
    image: Image.Image


def region_grid(settings: Settings) -> RegionGrid | None:
    """The configured grid, or None when regions are off."""
    return parse_grid(settings.region_grid) if settings.region_grid.strip() else None


def wants_regions(record: MapRecord, image: Image.Image, settings: Settings) -> bool:
    """Whether a sheet is large enough for regions (a small map is all one region already)."""
    width, height = full_size(record, image)
    return region_grid(settings) is not None and max(width, height) >= settings.region_min_side


def full_size(record: MapRecord, image: Image.Image) -> tuple[int, int]:
    """The sheet's full-resolution size: the catalogue's, else the decoded image's."""
    ref = record.image
    if ref is not None and ref.width and ref.height:
        return ref.width, ref.height
    return image.width, image.height


def _tile_images(
    job: RegionJob, tiles: list[Tile], settings: Settings, input_size: int, grid: RegionGrid
) -> list[Image.Image]:
    """The tiles' pixels: IIIF region requests where the sheet has an Image service, else cut
    from a copy decoded at the size the finest tiles need."""
    ref = job.record.image
    size = full_size(job.record, job.image)
    if ref is not None and ref.iiif_service:
        from indexer.images.load import fetch_image

        return [
            fetch_image(iiif_region_url(ref.iiif_service, tile.box, input_size), settings)
            for tile in tiles
        ]
    source = job.image
    if max(source.size) < min(max(size), source_side(grid, input_size)):
        from indexer.images.load import load_image

        assert ref is not None
        source = load_image(
            ref, settings, settings.data_dir, max_side=source_side(grid, input_size)
        )
    return cut_tiles(source, size, tiles, input_size)


def embed_regions(
    jobs: Sequence[RegionJob], embedder: Embedder, settings: Settings
) -> dict[str, RegionSet | Exception]:
    """Each map's regions (an empty set when every tile is blank), or why they failed."""
    grid = region_grid(settings)
    if grid is None or not jobs:
        return {}
    input_size = int(getattr(embedder, "image_size", 224))
    plans = {
        job.record.id: plan_tiles(
            job.image, full_size(job.record, job.image), grid, settings.region_min_spread
        )
        for job in jobs
    }

    def pixels(job: RegionJob) -> tuple[str, list[Image.Image] | Exception]:
        try:
            return job.record.id, _tile_images(
                job, plans[job.record.id], settings, input_size, grid
            )
        except Exception as exc:  # decoders and servers fail in many ways; the map keeps its vector
            return job.record.id, exc

    with ThreadPoolExecutor(
        max_workers=max(1, min(settings.image_fetch_workers, len(jobs)))
    ) as pool:
        cut = dict(pool.map(pixels, jobs))
    results: dict[str, RegionSet | Exception] = {}
    flat: list[Image.Image] = []
    owners: list[str] = []
    for doc_id, images in cut.items():
        if isinstance(images, Exception):
            results[doc_id] = images
            continue
        flat.extend(images)
        owners.extend([doc_id] * len(images))
    vectors = embedder.embed_images(flat) if flat else None
    start = 0
    for doc_id, images in cut.items():
        if isinstance(images, Exception):
            continue
        tiles = plans[doc_id]
        part: np.ndarray | list[list[float]] = (
            vectors[start : start + len(images)] if vectors is not None else []
        )
        start += len(images)
        results[doc_id] = RegionSet.build(
            grid.spec, [t.box for t in tiles], [t.level for t in tiles], part
        )
    return results
