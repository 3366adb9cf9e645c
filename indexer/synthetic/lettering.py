"""Lettering for synthetic maps: invented place names and label placement with the bundled font."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from indexer.synthetic.canvas import Canvas, PendingLabel
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
ROTATED_SHARE = 0.25  # of the place names on large-format maps


@lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font at ``size`` px (cached: loading costs more than drawing)."""
    return ImageFont.load_default(max(6, size))


def drawable(text: str) -> str:
    """``text`` without accents: the bundled font has
    no glyphs beyond ASCII ("réduite" -> "reduite")."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def place_name(rng: np.random.Generator) -> str:
    """An invented place name of two or three syllables."""
    count = 2 if rng.random() < 0.7 else 3
    return "".join(SYLLABLES[int(i)] for i in rng.integers(len(SYLLABLES), size=count)).capitalize()


def spaced_capitals(name: str) -> str:
    """'Mare' -> 'M A R E', the letter-spaced style of seas and regions."""
    return " ".join(name.upper())


def label_count(density: str, width: int, height: int, per_pixel: float = 1.0) -> int:
    """How many labels a map of this text density and
    size carries (``per_pixel`` thins them out)."""
    return max(1, round(LABELS_PER_DENSITY[density] * (width * height) / (384 * 300) * per_pixel))


def letter(
    canvas: Canvas,
    xy: tuple[float, float],
    text: str,
    size: int,
    fill: tuple[int, int, int],
    anchor: str = "lm",
    area: np.ndarray | None = None,
    roam: bool = False,
) -> None:
    """Draw horizontal text and record its box in ``canvas.label_boxes`` (a large sheet's painter
    only queues it, with the ``area`` it may move in, for ``placement.place_labels``)."""
    if canvas.pending_labels is not None:
        canvas.pending_labels.append(
            PendingLabel(text, size, fill, xy, anchor=anchor, area=area, roam=roam)
        )
        return
    draw = canvas.draw
    draw.text(xy, text, fill=fill, font=font(size), anchor=anchor)
    _record_label(canvas, text, draw.textbbox(xy, text, font=font(size), anchor=anchor), 0.0)


def _record_label(
    canvas: Canvas, text: str, bounds: tuple[float, float, float, float], angle: float
) -> None:
    """Keep the part of a label's box (left, top, right, bottom) that lies on the image."""
    left, top = max(0, int(bounds[0])), max(0, int(bounds[1]))
    right, bottom = min(canvas.width, int(bounds[2])), min(canvas.height, int(bounds[3]))
    if right > left and bottom > top:
        canvas.label_boxes.append(
            {"text": text, "box": [left, top, right - left, bottom - top], "angle": angle}
        )


def rotated_stamp(text: str, size: int, angle: float) -> Image.Image:
    """The coverage mask ("L") of ``text`` turned ``angle`` degrees anticlockwise."""
    face = font(size)
    left, top, right, bottom = face.getbbox(text)
    stamp = Image.new("L", (int(right - left) + 2, int(bottom - top) + 2), 0)
    ImageDraw.Draw(stamp).text((1 - left, 1 - top), text, fill=255, font=face)
    return stamp.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)


def letter_rotated(
    canvas: Canvas,
    centre: tuple[float, float],
    text: str,
    size: int,
    fill: tuple[int, int, int],
    angle: float,
    area: np.ndarray | None = None,
    roam: bool = False,
) -> None:
    """Draw text turned ``angle`` degrees anticlockwise
    about its centre, recording the drawn box."""
    if canvas.pending_labels is not None:
        canvas.pending_labels.append(
            PendingLabel(text, size, fill, centre, angle=angle, area=area, roam=roam)
        )
        return
    stamp = rotated_stamp(text, size, angle)
    x = round(centre[0] - stamp.width / 2)
    y = round(centre[1] - stamp.height / 2)
    canvas.image.paste(fill, (x, y, x + stamp.width, y + stamp.height), stamp)
    inked = stamp.point(lambda value: 255 if value > 96 else 0).getbbox()
    if inked is not None:
        _record_label(
            canvas, text, (x + inked[0], y + inked[1], x + inked[2], y + inked[3]), float(angle)
        )


def dot_radius(size: int) -> float:
    """The radius of the town symbol before a name lettered at ``size``."""
    return max(1.5, size / 5)


def draw_label(
    canvas: Canvas,
    xy: tuple[float, float],
    text: str,
    size: int,
    fill: tuple[int, int, int],
    dot: bool = False,
    area: np.ndarray | None = None,
    roam: bool = False,
) -> None:
    """Text anchored at its left-middle; with ``dot`` a town symbol precedes it."""
    if canvas.pending_labels is not None:
        canvas.pending_labels.append(
            PendingLabel(text, size, fill, xy, dot=dot, area=area, roam=roam)
        )
        return
    x, y = xy
    if dot:
        r = dot_radius(size)
        canvas.draw.ellipse((x - r, y - r, x + r, y + r), outline=fill, width=1)
        x += r + 2
    letter(canvas, (x, y), text, size, fill)


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
    for x, y in sample_points(rng, where, count):
        name = place_name(rng)
        # large sheets letter some names along rivers and coasts, turned; the default world's
        # drawing (and its random stream) stays as it was
        if canvas.large and rng.random() < ROTATED_SHARE:
            angle = round(float(rng.uniform(-60, 60)), 1)
            centre = (x + text_width(name, size) / 2, float(y))
            letter_rotated(
                canvas, centre, name, size, canvas.palette.ink, angle, area=where, roam=True
            )
        else:
            draw_label(
                canvas, (x, y), name, size, canvas.palette.ink, dot=dot, area=where, roam=True
            )
