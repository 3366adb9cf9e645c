"""Labels turned steeply (31–60°): PP-OCR's detector, trained mostly on level text, misses most
of them although they are legible, so the reader also looks for lines on copies of the image
turned by ±45° (at reduced resolution: detection is the cheap half of reading) and maps what it
finds there back onto the image, where the lines are read at full resolution."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PIL import Image

from indexer.ocr.engine import Quad

TURNS = (45.0, -45.0)  # degrees anticlockwise; a label turned 20–70° is near level in one copy


def quad_angle(quad: Quad) -> float:
    """The reading direction of a line (its top edge), degrees anticlockwise from level."""
    (x0, y0), (x1, y1) = quad[0], quad[1]
    return math.degrees(math.atan2(y0 - y1, x1 - x0))


def turn_image(
    pixels: np.ndarray, angle: float, scale: float
) -> tuple[np.ndarray, np.ndarray, Callable[[Quad], Quad]]:
    """The image scaled by ``scale`` and turned ``angle`` degrees anticlockwise (the corners
    filled with the paper's colour), where the image lies in it (a boolean mask), and the map
    of a quad found there back to ``pixels``."""
    image = Image.fromarray(pixels)
    if scale != 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BOX)
    width, height = image.size
    radians = math.radians(angle)
    cos, sin = math.cos(radians), math.sin(radians)
    # turned (output) size: the bounding box of the turned corners
    turned_width = math.ceil(abs(width * cos) + abs(height * sin))
    turned_height = math.ceil(abs(width * sin) + abs(height * cos))
    # output pixel → input pixel: about the centres, the inverse turn (y grows downwards, so an
    # anticlockwise turn on screen is x' = x cos + y sin, y' = -x sin + y cos)
    a, b, d, e = cos, -sin, sin, cos
    c = width / 2 - a * turned_width / 2 - b * turned_height / 2
    f = height / 2 - d * turned_width / 2 - e * turned_height / 2
    paper = tuple(
        int(v)
        for v in np.median(
            pixels[:: max(1, pixels.shape[0] // 64), :: max(1, pixels.shape[1] // 64)].reshape(
                -1, 3
            ),
            axis=0,
        )
    )
    size, matrix = (turned_width, turned_height), (a, b, c, d, e, f)
    turned = image.transform(
        size, Image.Transform.AFFINE, matrix, resample=Image.Resampling.BICUBIC, fillcolor=paper
    )
    inside = Image.new("L", image.size, 255).transform(
        size, Image.Transform.AFFINE, matrix, resample=Image.Resampling.NEAREST, fillcolor=0
    )

    def back(quad: Quad) -> Quad:
        return tuple(  # type: ignore[return-value]
            ((a * x + b * y + c) / scale, (d * x + e * y + f) / scale) for x, y in quad
        )

    return np.asarray(turned), np.asarray(inside) > 0, back
