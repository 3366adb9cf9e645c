"""The tiled reader: scale an image to a legible resolution, read it tile by tile with an engine,
split lines into words and map every word's box back to full-resolution pixels. Images that
cannot be read (blank, tiny, corrupt) and engine failures give no words and a warning, never an
exception: one bad image never costs a batch."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from indexer.ocr.engine import EngineLine, OcrEngine
from indexer.records import MapWord

log = logging.getLogger(__name__)

# What this module does with an engine's lines (tiling, mends, splitting, box fitting): raise it
# when a change makes it read different words, so a staff reindex re-reads maps read before.
# 2: symbol/I-l mends, letter-spaced names, boxes fitted to the ink (session 3).
READER_VERSION = 2


def reader_id(engine_name: str) -> str:
    """What a record's ``map_text_engine`` stores: the engine and this reader's version."""
    return f"{engine_name}+reader{READER_VERSION}"


_TOKEN = re.compile(r"\S+")
# A town's circle symbol read into its name: "oQuinnor" → "Quinnor", "olsham" → "lsham" (an
# "I" read as "l", mended below).
_SYMBOL_PREFIX = re.compile(
    r"^(?:[oO0°•·](?:[A-Z][a-z]|[A-Z]{2,}$)|[o0°•·]l[b-df-hj-km-np-tv-xz][a-z]{2})"
)
# A capital I read as a lower-case l (the same stroke in many faces): no word of the collections'
# languages starts with "l" and a consonant, so "lsham" is "Isham".
_I_READ_AS_L = re.compile(r"^l(?=[b-df-hj-km-np-tv-xz])")
_SPACED_LETTERS = 3  # a line of at least this many single capitals is one letter-spaced name
_EDGE_PUNCTUATION = "\"'.,;:!?()[]{}<>«»“”‘’-—_|/\\*~`"


@dataclass(frozen=True)
class ReaderSettings:
    """How an image is read. ``scale`` is tile pixels per image pixel: place names on the large
    synthetic sheets are 20–50 px high at full resolution, legible for both engines at 1.0."""

    scale: float = 1.0
    tile: int = 1024  # tile side, in scaled pixels
    overlap: int = 320  # more than the widest label, so every label lies whole in some tile
    min_score: float = 0.6  # lower-confidence words are mostly noise (hatching, coastlines)
    min_side: int = 32  # smaller images (in scaled pixels) hold no legible words
    # A blank image: fewer than ``blank_pixels`` pixels differ from the paper's (median) grey by
    # more than ``blank_contrast`` levels (a single short label has thousands).
    blank_contrast: int = 24
    blank_pixels: int = 100


@dataclass
class OcrOutcome:
    """The words read from one image, and why there are none when there are none."""

    words: list[MapWord] = field(default_factory=list)
    warning: str | None = None  # "blank image", "image too small", "unreadable image: …", …
    tiles: int = 0


def read_map_text(
    image: Image.Image | bytes,
    engine: OcrEngine,
    settings: ReaderSettings | None = None,
    full_size: tuple[int, int] | None = None,
) -> OcrOutcome:
    """Words of one map image with boxes in ``full_size`` pixels (default: the image's own
    size, for an image fetched at reduced size pass the catalogue's full width and height)."""
    settings = settings or ReaderSettings()
    if isinstance(image, bytes):
        try:
            image = _decode(image)
        except Exception as exc:  # corrupt files raise OSError, SyntaxError, ValueError, …
            return OcrOutcome(warning=f"unreadable image: {type(exc).__name__}: {exc}")
    try:
        pixels = _scaled_pixels(image, settings.scale)
    except Exception as exc:  # truncated files fail only when the pixels are loaded
        return OcrOutcome(warning=f"unreadable image: {type(exc).__name__}: {exc}")
    height, width = pixels.shape[:2]
    if min(height, width) < settings.min_side:
        return OcrOutcome(warning=f"image too small ({image.width}×{image.height} px)")
    if _is_blank(pixels, settings):
        return OcrOutcome(warning="blank image")
    full_width, full_height = full_size or image.size
    to_full = (full_width / width, full_height / height)
    lines: list[_Placed] = []
    tiles = _tile_origins(width, height, settings.tile, settings.overlap)
    for x0, y0 in tiles:
        tile = pixels[y0 : y0 + settings.tile, x0 : x0 + settings.tile]
        try:
            found = engine.read(tile)
        except Exception as exc:  # an engine failure costs this image its words, nothing more
            log.warning("OCR engine %s failed on a tile: %s", engine.name, exc, exc_info=True)
            return OcrOutcome(
                warning=f"engine failed: {type(exc).__name__}: {exc}", tiles=len(tiles)
            )
        for line in found:
            bounds = _bounds(line.quad)
            if _cut_by_tile_edge(bounds, x0, y0, tile.shape[1], tile.shape[0], width, height):
                continue
            box = (bounds[0] + x0, bounds[1] + y0, bounds[2] + x0, bounds[3] + y0)
            lines.append(_Placed(line, box, (x0, y0)))
    words = []
    for placed in _drop_duplicates(lines):
        if placed.line.score >= settings.min_score:
            words.extend(_words_of(placed.line, placed.origin, to_full))
    return OcrOutcome(words=fit_boxes_to_ink(words, pixels, to_full), tiles=len(tiles))


@dataclass(frozen=True)
class _Placed:
    """A line read in a tile, with its box in scaled image pixels and the tile's origin."""

    line: EngineLine
    box: tuple[float, float, float, float]
    origin: tuple[int, int]


def _decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _scaled_pixels(image: Image.Image, scale: float) -> np.ndarray:
    rgb = image.convert("RGB")
    if scale != 1.0:
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(size, Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC)
    return np.asarray(rgb)


def _is_blank(pixels: np.ndarray, settings: ReaderSettings) -> bool:
    grey = pixels.min(axis=2).astype(np.int16)  # the darkest channel: coloured ink counts too
    paper = int(np.median(grey[:: max(1, grey.shape[0] // 64), :: max(1, grey.shape[1] // 64)]))
    inked = np.count_nonzero(np.abs(grey - paper) > settings.blank_contrast)
    return bool(inked < settings.blank_pixels)


def _tile_origins(width: int, height: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """Top-left corners of overlapping tiles covering the image (the last row/column flush with
    the far edge)."""
    stride = max(1, tile - overlap)

    def starts(extent: int) -> list[int]:
        if extent <= tile:
            return [0]
        positions = list(range(0, extent - tile, stride))
        return [*positions, extent - tile]

    return [(x, y) for y in starts(height) for x in starts(width)]


def _bounds(quad: tuple[tuple[float, float], ...]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in quad], [p[1] for p in quad]
    return min(xs), min(ys), max(xs), max(ys)


def _cut_by_tile_edge(
    bounds: tuple[float, float, float, float],
    x0: int,
    y0: int,
    tile_width: int,
    tile_height: int,
    width: int,
    height: int,
    margin: float = 3.0,
) -> bool:
    """True when a line touches a tile edge inside the image: it may be cut there, and the
    overlap guarantees it lies whole in a neighbouring tile."""
    left, top, right, bottom = bounds
    return (
        (x0 > 0 and left <= margin)
        or (y0 > 0 and top <= margin)
        or (x0 + tile_width < width and right >= tile_width - margin)
        or (y0 + tile_height < height and bottom >= tile_height - margin)
    )


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _drop_duplicates(lines: list[_Placed]) -> list[_Placed]:
    """One reading per label: of lines read twice (whole in two overlapping tiles), the more
    confident is kept."""
    kept: list[_Placed] = []
    for placed in sorted(lines, key=lambda p: -p.line.score):
        if all(_iou(placed.box, other.box) < 0.5 for other in kept):
            kept.append(placed)
    return kept


def _word_spans(text: str) -> list[tuple[str, int, int]]:
    """(word, first character, end character) of each word of a line; a letter-spaced name
    ("M A R E", how maps letter seas and regions) is one word, "MARE"."""
    spans = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        word = token.strip(_EDGE_PUNCTUATION)
        start = match.start() + token.index(word)
        if _SYMBOL_PREFIX.match(word):
            word, start = word[1:], start + 1
        word = _I_READ_AS_L.sub("I", word)
        if any(ch.isalnum() for ch in word):
            spans.append((word, start, start + len(word)))
    if len(spans) >= _SPACED_LETTERS and all(
        len(word) == 1 and word.isalpha() and word.isupper() for word, _, _ in spans
    ):
        return [("".join(word for word, _, _ in spans), spans[0][1], spans[-1][2])]
    return [span for span in spans if len(span[0]) > 1 or span[0].isdigit()]


def _words_of(
    line: EngineLine, origin: tuple[float, float], to_full: tuple[float, float]
) -> list[MapWord]:
    """The words of a line, each boxed by its share of the line's quadrilateral (characters are
    about equally wide), in full-resolution pixels."""
    text = line.text
    (ax, ay), (bx, by), (cx, cy), (dx, dy) = line.quad
    words = []
    for word, first, last in _word_spans(text):
        start = first / len(text)
        end = last / len(text)
        corners = [
            (ax + (bx - ax) * fraction, ay + (by - ay) * fraction) for fraction in (start, end)
        ] + [(dx + (cx - dx) * fraction, dy + (cy - dy) * fraction) for fraction in (start, end)]
        xs = [(x + origin[0]) * to_full[0] for x, _ in corners]
        ys = [(y + origin[1]) * to_full[1] for _, y in corners]
        left, top = max(0, int(min(xs))), max(0, int(min(ys)))
        box = (left, top, max(1, round(max(xs)) - left), max(1, round(max(ys)) - top))
        words.append(MapWord(text=word, box=box, score=round(min(1.0, line.score), 4)))
    return words


def fit_boxes_to_ink(
    words: list[MapWord], pixels: np.ndarray, to_full: tuple[float, float] = (1.0, 1.0)
) -> list[MapWord]:
    """Each word's box shrunk to the lettering inside it. Detectors pad what they find (PP-OCR's
    boxes stand about half a letter height clear of the ink on every side), which halves the
    overlap of a short word's box with its label; the ink is what differs from the box's rim by
    more than ``INK_CONTRAST`` levels, in the rows and columns where enough of it lies (a line
    crossing the box adds too little to count). ``pixels`` are the read image's, ``to_full`` maps
    them to the boxes' full-resolution pixels."""
    fitted = []
    for word in words:
        x, y, w, h = word.box
        left, top = int(x / to_full[0]), int(y / to_full[1])
        right, bottom = int(np.ceil((x + w) / to_full[0])), int(np.ceil((y + h) / to_full[1]))
        crop = pixels[max(0, top) : bottom, max(0, left) : right].astype(np.int16)
        ink = _ink_extent(crop)
        if ink is None:
            fitted.append(word)
            continue
        c0, r0, c1, r1 = ink
        fx, fy = (max(0, left) + c0) * to_full[0], (max(0, top) + r0) * to_full[1]
        box = (
            int(fx),
            int(fy),
            max(1, round((c1 - c0) * to_full[0])),
            max(1, round((r1 - r0) * to_full[1])),
        )
        fitted.append(word.model_copy(update={"box": box}))
    return fitted


INK_CONTRAST = 64  # levels (of 255) in the channel that differs most from the box's rim
_INK_ROW_SHARE = (
    0.04  # a row or column is lettering when it holds this share of the fullest one's ink
)


def _ink_extent(crop: np.ndarray) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom), exclusive, of the lettering in a crop, or None."""
    if crop.shape[0] < 3 or crop.shape[1] < 3:
        return None
    rim = np.concatenate([crop[0], crop[-1], crop[:, 0], crop[:, -1]])
    ink = np.abs(crop - np.median(rim, axis=0)).max(axis=2) > INK_CONTRAST
    rows, cols = ink.sum(axis=1), ink.sum(axis=0)
    if rows.max() == 0:
        return None
    kept_rows = np.flatnonzero(rows >= _INK_ROW_SHARE * rows.max())
    kept_cols = np.flatnonzero(cols >= _INK_ROW_SHARE * cols.max())
    r0, r1 = int(kept_rows[0]), int(kept_rows[-1]) + 1
    c0, c1 = int(kept_cols[0]), int(kept_cols[-1]) + 1
    if (r1 - r0) < 0.2 * crop.shape[0] or (c1 - c0) < 0.2 * crop.shape[1]:
        return None  # too little ink to trust: keep the engine's box
    return c0, r0, c1, r1
