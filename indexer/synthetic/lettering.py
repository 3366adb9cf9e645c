"""Lettering for synthetic maps: invented place names and label placement with the bundled font."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np
from PIL import ImageDraw, ImageFont

from indexer.synthetic.canvas import Canvas
from indexer.synthetic.terrain import sample_points

SYLLABLES = (
    "ar",
    "bel",
    "cor",
    "dun",
    "el",
    "fen",
    "gar",
    "ham",
    "is",
    "kel",
    "lan",
    "mor",
    "nor",
    "ost",
    "pel",
    "quin",
    "ros",
    "sal",
    "tor",
    "ul",
    "ven",
    "wick",
    "yar",
    "zan",
    "ber",
    "ford",
    "ton",
    "ville",
    "burg",
    "mouth",
    "port",
    "stad",
)
LABELS_PER_DENSITY = {"sparse": 4, "moderate": 14, "dense": 40}


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font at ``size`` px (cached: loading costs more than drawing)."""
    return ImageFont.load_default(max(6, size))


def drawable(text: str) -> str:
    """``text`` without accents: the bundled font has no glyphs beyond ASCII ("réduite" -> "reduite")."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def place_name(rng: np.random.Generator) -> str:
    """An invented place name of two or three syllables."""
    count = 2 if rng.random() < 0.7 else 3
    return "".join(SYLLABLES[int(i)] for i in rng.integers(len(SYLLABLES), size=count)).capitalize()


def spaced_capitals(name: str) -> str:
    """'Mare' -> 'M A R E', the letter-spaced style of seas and regions."""
    return " ".join(name.upper())


def label_count(density: str, width: int, height: int) -> int:
    """How many labels a map of this text density and size carries."""
    return max(1, round(LABELS_PER_DENSITY[density] * (width * height) / (384 * 300)))


def draw_label(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    size: int,
    fill: tuple[int, int, int],
    dot: bool = False,
) -> None:
    """Text anchored at its left-middle; with ``dot`` a town symbol precedes it."""
    x, y = xy
    if dot:
        r = max(1.5, size / 5)
        draw.ellipse((x - r, y - r, x + r, y + r), outline=fill, width=1)
        x += r + 2
    draw.text((x, y), text, fill=fill, font=font(size), anchor="lm")


def text_width(text: str, size: int) -> float:
    """Rendered width in pixels of ``text`` at ``size``."""
    return float(font(size).getlength(text))


def draw_labels(
    canvas: Canvas, count: int, mask: np.ndarray | None, size: int, dot: bool = True
) -> None:
    """Scatter ``count`` invented place names over ``mask`` (or anywhere inside the frame)."""
    rng = canvas.rng
    x0, y0, x1, y1 = canvas.frame
    frame_mask = np.zeros((canvas.height, canvas.width), dtype=bool)
    frame_mask[y0 + size : y1 - size, x0 + size : x1 - size * 5] = True
    where = frame_mask if mask is None else (mask & frame_mask)
    draw = canvas.draw
    for x, y in sample_points(rng, where, count):
        draw_label(draw, (x, y), place_name(rng), size, canvas.palette.ink, dot=dot)
