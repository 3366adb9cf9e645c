"""A box of an image as an example for search ("search with this region"): checked against the
image's size, then cut from a decoded copy or fetched through IIIF at a bounded size."""

from __future__ import annotations

from PIL import Image

from indexer.records import MapRecord
from indexer.regions.grid import Box
from indexer.settings import Settings

# A region example smaller than this (in the pixels it is cut from) holds too little to embed.
MIN_SIDE = 8


def check_box(box: Box, size: tuple[int, int]) -> None:
    """ValueError (saying why) unless ``box`` lies inside an image of ``size`` pixels."""
    x, y, w, h = box
    width, height = size
    if w < 1 or h < 1 or x < 0 or y < 0:
        raise ValueError(f"image_region {x},{y},{w},{h} is empty or starts outside the image")
    if x + w > width or y + h > height:
        raise ValueError(
            f"image_region {x},{y},{w},{h} reaches outside the {width}x{height} px image"
        )


def crop_box(image: Image.Image, box: Box, full_size: tuple[int, int]) -> Image.Image:
    """``box`` (in ``full_size`` pixels) cut from ``image``, a copy of that image at any size."""
    check_box(box, full_size)
    x, y, w, h = box
    sx, sy = image.width / full_size[0], image.height / full_size[1]
    left, top = int(x * sx), int(y * sy)
    right = max(left + 1, round((x + w) * sx))
    bottom = max(top + 1, round((y + h) * sy))
    if min(right - left, bottom - top) < min(MIN_SIDE, min(image.size)):
        raise ValueError(
            f"image_region {x},{y},{w},{h} is too small to search with (under {MIN_SIDE} px)"
        )
    return image.crop((left, top, right, bottom))


def load_box(record: MapRecord, box: Box, settings: Settings) -> Image.Image:
    """The pixels of ``box`` (full-resolution pixels) of a record's image: an IIIF region
    request where it has an Image service, else cut from the image decoded at full size
    (bounded by the decoding limits). ValueError for a box outside the image."""
    from indexer.images.load import fetch_image, load_image
    from indexer.regions.tiles import iiif_region_url

    ref = record.image
    if ref is None:
        raise ValueError("the record has no image")
    if ref.width and ref.height:
        check_box(box, (ref.width, ref.height))  # before fetching anything
    if ref.iiif_service and ref.width and ref.height:
        size = settings.image_fetch_size
        return fetch_image(iiif_region_url(ref.iiif_service, box, size), settings)
    full_side = max(ref.width or 0, ref.height or 0) or None
    image = load_image(ref, settings, settings.data_dir, max_side=full_side)
    full_size = (ref.width, ref.height) if ref.width and ref.height else image.size
    return crop_box(image, box, full_size)
