"""Drawing one synthetic map from its ground truth: frame, the kind's painter, ornaments, title,
paper wear, then the colour scheme."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from indexer.synthetic.canvas import Canvas, palette_for
from indexer.synthetic.kinds import PAINTERS
from indexer.synthetic.lettering import drawable, letter, text_width
from indexer.synthetic.ornaments import place_ornaments
from indexer.synthetic.placement import place_labels
from indexer.synthetic.wear import age_paper, apply_colour_scheme


def _neat_line(canvas: Canvas) -> None:
    """The border: a heavy outer line, a thin inner
    one, and a chequered degree bar on early maps."""
    draw, ink = canvas.draw, canvas.palette.ink
    x0, y0, x1, y1 = canvas.frame
    gap = canvas.px(3)
    draw.rectangle((x0 - 1, y0 - 1, x1, y1), outline=ink, width=1)
    draw.rectangle((x0 - gap, y0 - gap, x1 + gap, y1 + gap), outline=ink, width=canvas.px(1.5))
    if canvas.early:
        step = canvas.px(12)
        for i, x in enumerate(range(x0, x1 - step, step)):
            if i % 2 == 0:
                draw.rectangle((x, y0 - gap, x + step, y0 - 1), fill=ink)
                draw.rectangle((x, y1, x + step, y1 + gap), fill=ink)
        for i, y in enumerate(range(y0, y1 - step, step)):
            if i % 2 == 0:
                draw.rectangle((x0 - gap, y, x0 - 1, y + step), fill=ink)
                draw.rectangle((x1, y, x1 + gap, y + step), fill=ink)


def _title_strip(canvas: Canvas) -> None:
    """Without a cartouche the title runs along the
    top margin (bird's-eye views letter their own)."""
    if (
        "cartouche" in canvas.attributes["ornaments"]
        or canvas.attributes["kind"] == "birds_eye_view"
    ):
        return
    size = canvas.px(9)
    title = drawable(canvas.title)
    while len(title) > 8 and text_width(title, size) > canvas.width * 0.9:
        title = title[:-4] + "…"
    letter(
        canvas, (canvas.width / 2, canvas.frame[1] / 2 - 1), title, size, canvas.palette.ink, "mm"
    )


LARGE_FORMAT = "large"
#: A large sheet draws lines and lettering as a map of this longer side would, so they stay small.
LARGE_DETAIL_SIDE = 600
#: Large sheets letter this share of the names per pixel that a default map does.
LARGE_LETTERING_DENSITY = 0.1
#: Where label placement on large sheets draws its random numbers: apart from the drawing's own.
LABEL_PLACEMENT_STREAM = 4


@dataclass(frozen=True)
class Drawing:
    """A drawn map and where its ornaments and labels are, in the image's pixels."""

    image: Image.Image
    ornament_boxes: list[dict[str, Any]]
    label_boxes: list[dict[str, Any]]
    labels_left_out: int = 0  # large sheets: labels that found no free spot (not drawn)


def render_map(
    attributes: dict[str, Any], title: str, seed: int, max_side: int | None = None
) -> Image.Image:
    """The RGB image of a map with these attributes; the same inputs always give the same pixels.

    ``max_side`` draws the same map at a smaller size (training at 128 px renders much faster).
    """
    return draw_map(attributes, title, seed, max_side).image


def draw_map(
    attributes: dict[str, Any], title: str, seed: int, max_side: int | None = None
) -> Drawing:
    """``render_map``'s image with the boxes of every ornament and label drawn on it."""
    width, height = int(attributes["width"]), int(attributes["height"])
    if max_side is not None and max(width, height) != max_side:
        factor = max_side / max(width, height)
        width, height = max(32, round(width * factor)), max(32, round(height * factor))
    palette = palette_for(str(attributes["colour_scheme"]))
    rng = np.random.default_rng(seed)
    canvas = Canvas(
        image=Image.new("RGB", (width, height), palette.paper),
        palette=palette,
        rng=rng,
        attributes=attributes,
        title=title,
    )
    if attributes.get("format") == LARGE_FORMAT:
        canvas.fine_scale = max(width, height) / LARGE_DETAIL_SIDE
        canvas.lettering_density = LARGE_LETTERING_DENSITY
        canvas.pending_labels = []
    top = canvas.px(16)
    side = canvas.px(9)
    canvas.frame = (side, top, width - side, height - side)
    PAINTERS[str(attributes["kind"])](canvas)
    pending, canvas.pending_labels = canvas.pending_labels, None
    place_ornaments(canvas)
    left_out = 0
    if pending is not None:
        # a large sheet letters its names clear of the ornaments and of each other; the placement
        # has its own random stream, so the ornaments and the paper's wear come out as before
        left_out = place_labels(
            canvas, pending, np.random.default_rng([seed, LABEL_PLACEMENT_STREAM])
        )
    _neat_line(canvas)
    _title_strip(canvas)
    # wear comes before the colour scheme, so a grayscale sheet stays exactly gray when stained
    # and a blueprint fades blue rather than yellow
    image = age_paper(canvas.image, str(attributes["wear"]), rng)
    return Drawing(
        image=apply_colour_scheme(image, str(attributes["colour_scheme"])),
        ornament_boxes=canvas.ornament_boxes,
        label_boxes=canvas.label_boxes,
        labels_left_out=left_out,
    )
