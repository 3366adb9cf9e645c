"""Regions in the browser (docs/regions.md): where a hit's best region sits on its card's
thumbnail, the item-page link that opens the viewer on a hit's regions, and the boxes an item
page was asked to show."""

from __future__ import annotations

from typing import Any

from webapi.search.params import Hit, parse_box

MAX_REGIONS_SHOWN = 3


def card_region(hit: Hit) -> dict[str, str] | None:
    """The best region in percent of the card's square thumbnail (an SVG overlay's 0-100 view
    box), where the whole map is letterboxed (``object-fit: contain``); None without a region or
    a known image size."""
    if not hit.regions or not hit.image_width or not hit.image_height:
        return None
    width, height = hit.image_width, hit.image_height
    longer = max(width, height)
    # the picture's share of the square, and its offset from the square's edge (percent)
    span_x, span_y = 100 * width / longer, 100 * height / longer
    off_x, off_y = (100 - span_x) / 2, (100 - span_y) / 2
    x, y, w, h = hit.regions[0].box
    return {
        "left": f"{off_x + span_x * x / width:.2f}",
        "top": f"{off_y + span_y * y / height:.2f}",
        "width": f"{span_x * w / width:.2f}",
        "height": f"{span_y * h / height:.2f}",
        "score": f"{hit.regions[0].score:.3f}",
    }


def region_args(hit: Hit) -> list[str]:
    """The ``region`` query values that open the item page's viewer on the hit's regions."""
    return [",".join(str(v) for v in region.box) for region in hit.regions[:MAX_REGIONS_SHOWN]]


def shown_regions(values: list[str], size: tuple[int | None, int | None]) -> list[list[int]]:
    """The valid boxes among an item page's ``region`` values (inside the image when its size is
    known); a malformed value is dropped, never an error (it came from a link)."""
    boxes: list[list[int]] = []
    width, height = size
    for value in values[:MAX_REGIONS_SHOWN]:
        try:
            x, y, w, h = parse_box(value)
        except ValueError:
            continue
        if width and height and (x + w > width or y + h > height):
            continue
        boxes.append([x, y, w, h])
    return boxes


def viewer_regions(boxes: list[list[int]]) -> dict[str, Any]:
    """What the item page's region controls need."""
    return {"boxes": boxes, "count": len(boxes)}
