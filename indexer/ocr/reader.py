"""The tiled reader: scale an image to a legible resolution, read it tile by tile with an engine
(an engine that detects and recognises in two steps reads each line once, and also gets turned
copies to find steep labels), split lines into words and map every word's box back to
full-resolution pixels. Images that cannot be read (blank, tiny, corrupt) and engine failures
give no words and a warning, never an exception: one bad image never costs a batch."""

from __future__ import annotations

import io
import logging
import math
import re
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from indexer.ocr.engine import EngineLine, OcrEngine, Quad, TwoStepEngine, reads_in_two_steps
from indexer.ocr.turned import TURNS, quad_angle, turn_image
from indexer.records import MapWord

log = logging.getLogger(__name__)

# What this module does with an engine's lines (tiling, mends, splitting, box fitting): raise it
# when a change makes it read different words, so a staff reindex re-reads maps read before.
# 2: symbol/I-l mends, letter-spaced names, boxes fitted to the ink (session 3).
# 3: detect then recognise each line once; steep lines found on turned copies; lines wider than
#    the overlap joined; names run together cut apart; "slow" (outline) detector scoring.
# 4: the turned copies cut into the fewest evenly sized tiles (same reading, half the CPU on
#    large sheets; a line near a tile edge can read differently).
READER_VERSION = 4


def reader_id(engine_name: str) -> str:
    """What a record's ``map_text_engine`` stores: the engine and this reader's version."""
    return f"{engine_name}+reader{READER_VERSION}"


_TOKEN = re.compile(r"\S+")
# A town's circle symbol read into its name: "oQuinnor" → "Quinnor", read as another small
# letter before a capitalised name ("gQuinyar" → "Quinyar"), "olsham" → "lsham" (an "I" read as
# "l", mended below).
_SYMBOL_PREFIX = re.compile(
    r"^(?:[oO0°•·](?:[A-Z][a-z]|[A-Z]{2,}$)|[^\W\d_A-Z](?=[A-Z][a-z])"
    r"|[o0°•·]l[b-df-hj-km-np-tv-xz][a-z]{2})"
)
# A capital I read as a lower-case l (the same stroke in many faces): no word of the collections'
# languages starts with "l" and a consonant, so "lsham" is "Isham".
_I_READ_AS_L = re.compile(r"^l(?=[b-df-hj-km-np-tv-xz])")
_SYMBOLS = "oO0°•·"  # how a town's circle symbol reads
_RUN_MIN = 4  # letters of a name before the next one (run together) starts
# A steep line found on a turned copy must be this many times longer than high: names of 4+
# letters are; near-square boxes (soundings, symbols, clutter) have no reading direction and were
# 95% of what the copies found on a dense development chart (1,681 lines for 26 steep labels).
_STEEP_ELONGATION = 2.0
_LEVEL = 3.0  # degrees: a line turned less is level (its quad is its box)
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
    # Steep labels: a two-step engine also detects on copies turned ±45° at this scale (0:
    # not at all), keeping lines turned at least ``steep`` degrees (level ones it found already).
    turned_scale: float = 0.5
    steep: float = 20.0


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
    tiles = _tile_origins(width, height, settings.tile, settings.overlap)
    try:
        if reads_in_two_steps(engine):
            lines = _read_in_two_steps(pixels, engine, tiles, settings)
        else:
            lines = _drop_duplicates(_read_tile_by_tile(pixels, engine, tiles, settings.tile))
    except Exception as exc:  # an engine failure costs this image its words, nothing more
        log.warning("OCR engine %s failed on a tile: %s", engine.name, exc, exc_info=True)
        return OcrOutcome(warning=f"engine failed: {type(exc).__name__}: {exc}", tiles=len(tiles))
    words = []
    for placed in lines:
        if placed.line.score >= settings.min_score:
            words.extend(_words_of(placed.line, placed.origin, to_full))
    return OcrOutcome(words=fit_boxes_to_ink(words, pixels, to_full), tiles=len(tiles))


def _read_tile_by_tile(
    pixels: np.ndarray, engine: OcrEngine, tiles: list[tuple[int, int]], size: int
) -> list[_Placed]:
    """Every line the engine reads whole in each tile (a line read in two tiles comes twice)."""
    lines = []
    for x0, y0 in tiles:
        tile = pixels[y0 : y0 + size, x0 : x0 + size]
        for line in engine.read(tile):
            placed = _place(line, tile, (x0, y0), pixels.shape)
            if placed is not None:
                lines.append(placed)
    return lines


def _read_in_two_steps(
    pixels: np.ndarray,
    engine: TwoStepEngine,
    tiles: list[tuple[int, int]],
    settings: ReaderSettings,
) -> list[_Placed]:
    """Lines found whole in each tile, one per label (a label found in two overlapping tiles
    keeps its larger box), and steep lines found on turned copies of the image; each is then
    recognised once, in a tile that holds it whole (of a steep line found both ways, the more
    confident reading is kept)."""
    size = settings.tile
    cut: list[_Placed] = []
    found = _one_per_label(_detect(pixels, engine, tiles, size, cut))
    found += _joined(cut, found, size, pixels.shape)
    if settings.turned_scale > 0:
        steep = _one_per_label(_detect_steep(pixels, engine, settings))
        found += [
            placed
            for placed in (_home(line, tiles, size, pixels.shape) for line in steep)
            if placed
        ]
    by_tile: dict[tuple[int, int], list[_Placed]] = {}
    for placed in found:
        by_tile.setdefault(placed.origin, []).append(placed)
    lines: list[_Placed] = []
    for (x0, y0), placed_lines in by_tile.items():
        tile = pixels[y0 : y0 + size, x0 : x0 + size]
        read = engine.recognize(tile, [placed.line.quad for placed in placed_lines])
        lines.extend(
            _Placed(line, placed.box, placed.origin)
            for line, placed in zip(read, placed_lines, strict=True)
        )
    return _drop_duplicates(_drop_steep_fragments(lines, settings.steep))


def _drop_steep_fragments(lines: list[_Placed], steep: float) -> list[_Placed]:
    """Of steep lines whose boxes lie mostly one inside the other (a label and a piece of it,
    found on the other turned copy or in the level tiles), the one that read more letters."""
    turned = [p for p in lines if abs(quad_angle(p.line.quad)) >= steep and p.line.text]
    kept: list[_Placed] = []
    for placed in sorted(turned, key=lambda p: (-len(p.line.text.strip()), -p.line.score)):
        if all(_inside_share(placed.box, other.box) < 0.6 for other in kept):
            kept.append(placed)
    dropped = {id(p) for p in turned} - {id(p) for p in kept}
    return [p for p in lines if id(p) not in dropped]


def _inside_share(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float]
) -> float:
    """The share of box ``a`` that lies inside box ``b``."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    return width * height / max(_area(a), 1e-9)


def _detect(
    pixels: np.ndarray,
    engine: TwoStepEngine,
    tiles: list[tuple[int, int]],
    size: int,
    cut: list[_Placed] | None = None,
) -> list[_Placed]:
    """Every line found whole in each tile (unread), with its quad in tile pixels; lines a tile
    edge cuts go to ``cut`` (boxes in image pixels) when it is given."""
    found = []
    for x0, y0 in tiles:
        tile = pixels[y0 : y0 + size, x0 : x0 + size]
        for quad in engine.detect(tile):
            line = EngineLine("", quad, 0.0)
            placed = _place(line, tile, (x0, y0), pixels.shape)
            if placed is not None:
                found.append(placed)
            elif cut is not None:
                left, top, right, bottom = _bounds(quad)
                cut.append(_Placed(line, (left + x0, top + y0, right + x0, bottom + y0), (x0, y0)))
    return found


def _joined(
    cut: list[_Placed], whole: list[_Placed], size: int, shape: tuple[int, ...]
) -> list[_Placed]:
    """Level lines that a tile edge cuts in every tile that found them: neighbouring names
    the detector ran into one line wider than the tiles' overlap. The pieces of each are joined
    into its whole box, to be read in a window centred on it."""
    rows: list[list[float]] = []
    for placed in sorted(cut, key=lambda p: p.box[0]):
        if abs(quad_angle(placed.line.quad)) > _LEVEL:
            continue
        box = placed.box
        for row in rows:
            shared = min(row[3], box[3]) - max(row[1], box[1])
            height = min(row[3] - row[1], box[3] - box[1])
            if shared >= 0.6 * height and box[0] <= row[2] and row[0] <= box[2]:
                row[:] = [min(row[0], box[0]), min(row[1], box[1])] + [
                    max(row[2], box[2]),
                    max(row[3], box[3]),
                ]
                break
        else:
            rows.append(list(box))
    joined = []
    height, width = shape[0], shape[1]
    for left, top, right, bottom in rows:
        box = (left, top, right, bottom)
        if right - left > size or any(_inside_share(box, p.box) >= 0.5 for p in whole):
            continue  # too wide to read, or read whole in some tile already
        x0 = int(min(max(0, (left + right) / 2 - size / 2), max(0, width - size)))
        y0 = int(min(max(0, (top + bottom) / 2 - size / 2), max(0, height - size)))
        quad = (
            (left - x0, top - y0),
            (right - x0, top - y0),
            (right - x0, bottom - y0),
            (left - x0, bottom - y0),
        )
        joined.append(_Placed(EngineLine("", quad, 0.0), box, (x0, y0)))
    return joined


def _detect_steep(
    pixels: np.ndarray, engine: TwoStepEngine, settings: ReaderSettings
) -> list[_Placed]:
    """Lines turned ``settings.steep``° or more, found on copies of the image turned ±45° so
    that they are near level there, with their quads in image pixels (origin 0, 0)."""
    steep = []
    for turn in TURNS:
        turned, inside, back = turn_image(pixels, turn, settings.turned_scale)
        height, width = turned.shape[:2]
        # labels shrink with the copy, so a narrower overlap still holds each whole in a tile
        overlap = max(64, round(settings.overlap * settings.turned_scale))
        # fewer, larger tiles (RapidOCR detects up to twice its tile side at full size), as
        # few as cover the copy and no larger than they need be: every pixel of a tile is
        # detected, and a 2,516-px copy cut into 2,048-px tiles is detected 2.7 times over
        size = _even_tile(max(width, height), 2 * settings.tile, overlap)
        tiles = [
            (x0, y0)
            for x0, y0 in _tile_origins(width, height, size, overlap)
            if inside[y0 : y0 + size, x0 : x0 + size].any()  # not only the filled corners
        ]
        for placed in _detect(turned, engine, tiles, size):
            if _elongation(placed.line.quad) < _STEEP_ELONGATION:
                continue
            x0, y0 = placed.origin
            quad = back(tuple((x + x0, y + y0) for x, y in placed.line.quad))  # type: ignore[arg-type]
            angle = quad_angle(quad)
            # a line near level in the copy turned by ``turn`` is turned about -``turn`` here
            if settings.steep <= abs(angle) <= 90 and angle * turn < 0:
                steep.append(_Placed(EngineLine("", quad, 0.0), _bounds(quad), (0, 0)))
    return steep


def _even_tile(extent: int, largest: int, overlap: int) -> int:
    """The side of the fewest tiles of at most ``largest`` px that cover ``extent`` px with
    ``overlap``, spread evenly (so they overlap by no more than that)."""
    if extent <= largest:
        return extent
    count = math.ceil((extent - overlap) / (largest - overlap))
    return math.ceil((extent + (count - 1) * overlap) / count)


def _elongation(quad: Quad) -> float:
    """How many times longer a line is along its reading direction than across it."""
    return math.dist(quad[0], quad[1]) / max(math.dist(quad[1], quad[2]), 1e-6)


def _home(
    placed: _Placed, tiles: list[tuple[int, int]], size: int, shape: tuple[int, ...]
) -> _Placed | None:
    """The line placed in the first tile that holds it whole (quad in that tile's pixels)."""
    left, top, right, bottom = placed.box
    for x0, y0 in tiles:
        tile_width, tile_height = min(size, shape[1] - x0), min(size, shape[0] - y0)
        inside = (
            left >= x0 and top >= y0 and right <= x0 + tile_width and bottom <= y0 + tile_height
        )
        relative = (left - x0, top - y0, right - x0, bottom - y0)
        if inside and not _cut_by_tile_edge(
            relative, x0, y0, tile_width, tile_height, shape[1], shape[0]
        ):
            quad = tuple((x - x0, y - y0) for x, y in placed.line.quad)
            return _Placed(EngineLine("", quad, 0.0), placed.box, (x0, y0))  # type: ignore[arg-type]
    return None


def _place(
    line: EngineLine, tile: np.ndarray, origin: tuple[int, int], shape: tuple[int, ...]
) -> _Placed | None:
    """The line with its box in image pixels, or None when a tile edge inside the image cuts it
    (the overlap guarantees it lies whole in a neighbouring tile)."""
    bounds = _bounds(line.quad)
    x0, y0 = origin
    if _cut_by_tile_edge(bounds, x0, y0, tile.shape[1], tile.shape[0], shape[1], shape[0]):
        return None
    box = (bounds[0] + x0, bounds[1] + y0, bounds[2] + x0, bounds[3] + y0)
    return _Placed(line, box, origin)


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
    return _first_per_label(sorted(lines, key=lambda p: -p.line.score))


def _one_per_label(found: list[_Placed]) -> list[_Placed]:
    """One detection per label: of lines found twice (whole in two overlapping tiles), the
    larger box (the detector saw more of the label's surroundings there)."""
    return _first_per_label(sorted(found, key=lambda p: -_area(p.box)))


def _first_per_label(lines: list[_Placed]) -> list[_Placed]:
    kept: list[_Placed] = []
    for placed in lines:
        if all(_iou(placed.box, other.box) < 0.5 for other in kept):
            kept.append(placed)
    return kept


def _area(box: tuple[float, float, float, float]) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def _run_together(word: str) -> list[tuple[str, int]]:
    """(piece, offset) of a word that is two names read as one line ("PortvenoTorlan": the
    detector joined neighbouring labels, the second town's symbol read as "o"): it is cut where
    a lower-case run of ``_RUN_MIN`` letters meets a capitalised word, the symbol dropped. Names
    never change case inside a word on these maps; "MacDonald", "DeKalb" stay whole."""
    pieces, begin = [], 0
    for at in range(_RUN_MIN, len(word) - 2):
        if not (word[at].isupper() and word[at + 1 : at + 3].islower()):
            continue
        symbol = word[at - 1] in _SYMBOLS and word[begin : at - 1].isalpha()
        left = word[begin : at - 1] if symbol else word[begin:at]
        if len(left) >= _RUN_MIN and left.isalpha() and left[-_RUN_MIN:].islower():
            pieces.append((left, begin))
            begin = at
    pieces.append((word[begin:], begin))
    return pieces


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
        for piece, offset in _run_together(word):
            piece = _I_READ_AS_L.sub("I", piece)
            if any(ch.isalnum() for ch in piece):
                spans.append((piece, start + offset, start + offset + len(piece)))
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
