"""The tiled reader with the real engines: words found whole across tile edges, boxes in
full-resolution pixels, and images that cannot be read giving no words and a warning."""

from __future__ import annotations

import io
import itertools
import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from indexer.evaluation.map_text import iou
from indexer.ocr import OcrUnavailable, ReaderSettings, load_engine, read_map_text
from indexer.ocr.engine import EngineLine, OcrEngine, Quad, TwoStepEngine
from indexer.ocr.reader import _even_tile, _tile_origins, fit_boxes_to_ink
from indexer.records import MapWord
from indexer.synthetic.lettering import font
from tests.support.services import require_ocr_engine

# A word straddling the first tile's right edge (tiles of 1024 px start every 704 px).
WORD, WORD_XY, WORD_SIZE = "Chesapeake", (880, 400), 34


def _engine(name: str):
    return require_ocr_engine(name)


@pytest.fixture(scope="module")
def rapidocr():
    return _engine("rapidocr")


@pytest.fixture(scope="module")
def tesseract():
    return _engine("tesseract")


def _map_with_word(size: tuple[int, int] = (2400, 1200)) -> tuple[Image.Image, list[int]]:
    """A pale map-coloured sheet with a town and a river line, and one label; its ink box."""
    image = Image.new("RGB", size, (226, 214, 180))
    draw = ImageDraw.Draw(image)
    draw.line([(0, 900), (2400, 700)], fill=(90, 120, 170), width=6)
    draw.ellipse([860, 412, 872, 424], outline=(60, 50, 40), width=2)
    draw.text(WORD_XY, WORD, fill=(60, 50, 40), font=font(WORD_SIZE))
    left, top, right, bottom = draw.textbbox(WORD_XY, WORD, font=font(WORD_SIZE))
    return image, [left, top, right - left, bottom - top]


def _small_sheet() -> Image.Image:
    image = Image.new("RGB", (300, 200), (226, 214, 180))
    ImageDraw.Draw(image).line([(0, 150), (300, 120)], fill=(90, 120, 170), width=6)
    return image


@pytest.mark.parametrize("engine_name", ["rapidocr", "tesseract"])
def test_a_label_across_a_tile_edge_is_read_once_with_its_box(engine_name, request):
    engine = request.getfixturevalue(engine_name)
    image, truth = _map_with_word()
    outcome = read_map_text(image, engine)
    assert outcome.warning is None and outcome.tiles > 1
    found = [word for word in outcome.words if word.text.casefold() == WORD.casefold()]
    assert len(found) == 1, outcome.words
    assert iou(found[0].box, truth) >= 0.5
    assert 0.6 <= found[0].score <= 1


class ReadOnly:
    """An engine that only reads whole tiles (no separate steps)."""

    def __init__(self, inner: OcrEngine) -> None:
        self.inner, self.name = inner, inner.name

    def read(self, tile: np.ndarray) -> list[EngineLine]:
        return self.inner.read(tile)


class CountingSteps:
    """RapidOCR in two steps, counting the lines it finds and the lines it is asked to read."""

    def __init__(self, inner: TwoStepEngine) -> None:
        self.inner, self.name = inner, inner.name
        self.found = self.recognised = 0

    def read(self, tile: np.ndarray) -> list[EngineLine]:
        raise AssertionError("a two-step engine is asked to detect, then recognise")

    def detect(self, tile: np.ndarray) -> list[Quad]:
        quads = self.inner.detect(tile)
        self.found += len(quads)
        return quads

    def recognize(self, tile: np.ndarray, quads: list[Quad]) -> list[EngineLine]:
        self.recognised += len(quads)
        return self.inner.recognize(tile, quads)


def test_a_label_found_in_two_overlapping_tiles_is_recognised_once(rapidocr):
    """The label lies whole in the first two tiles' overlap: both find it, it is read once."""
    image, truth = _map_with_word()
    draw = ImageDraw.Draw(image)
    draw.text((760, 200), "Elmouth", fill=(60, 50, 40), font=font(30))  # in tiles 1 and 2
    counting = CountingSteps(rapidocr)
    outcome = read_map_text(image, counting)
    texts = [word.text.casefold() for word in outcome.words]
    assert texts.count("elmouth") == 1 and texts.count(WORD.casefold()) == 1, outcome.words
    assert counting.found > counting.recognised == len(outcome.words)
    # the same words as reading every tile whole (an engine without the two steps)
    tile_by_tile = read_map_text(image, ReadOnly(rapidocr))
    assert sorted(w.text for w in tile_by_tile.words) == sorted(w.text for w in outcome.words)
    found = next(w for w in outcome.words if w.text.casefold() == WORD.casefold())
    assert iou(found.box, truth) >= 0.5


def test_two_names_run_into_a_line_wider_than_the_tile_overlap_are_read(rapidocr):
    """Two town names close together are one line to the detector, 380 px wide (more than the
    320-px overlap) across the first tile's right edge and the second's left edge: whole in no
    tile, its pieces are joined and read."""
    image = _small_sheet().resize((2400, 1200))
    draw = ImageDraw.Draw(image)
    ink = (60, 50, 40)
    for symbol_x, name_x, name in ((660, 680, "Villemor"), (850, 870, "Berdunar")):
        draw.ellipse([symbol_x, 318, symbol_x + 12, 330], outline=ink, width=2)
        draw.text((name_x, 300), name, fill=ink, font=font(40))
    assert draw.textbbox((870, 300), "Berdunar", font=font(40))[2] > 1024  # crosses the edge
    texts = [word.text for word in read_map_text(image, rapidocr).words]
    assert "Villemor" in texts and "Berdunar" in texts, texts


def test_steep_labels_among_houses_are_found_on_turned_copies(rapidocr):
    """PP-OCR's detector misses names turned 40–50° across a town's houses; the turned copies
    find them (without them, neither is read)."""
    rng = np.random.default_rng(0)
    image = Image.new("RGB", (1000, 1000), (150, 195, 120))
    draw = ImageDraw.Draw(image)
    for row in range(0, 1000, 70):
        for col in range(-20, 1000, 55):
            x, y = col + int(rng.integers(0, 12)), row + int(rng.integers(0, 10))
            wall = [(200, 170, 140), (235, 225, 200)][int(rng.integers(0, 2))]
            draw.rectangle([x, y + 18, x + 38, y + 55], fill=wall)
            draw.polygon([(x - 3, y + 18), (x + 19, y), (x + 41, y + 18)], fill=(200, 40, 30))
    for name, angle, xy in (("Mormouth", 45, (120, 100)), ("Fentor", -38, (600, 600))):
        stamp = Image.new("L", (330, 60), 0)
        ImageDraw.Draw(stamp).text((6, 8), name, fill=255, font=font(30))
        stamp = stamp.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
        image.paste((40, 35, 30), xy, stamp)
    level_only = read_map_text(image, rapidocr, ReaderSettings(turned_scale=0)).words
    words = read_map_text(image, rapidocr).words
    assert not {"Mormouth", "Fentor"} & {word.text for word in level_only}, level_only
    assert {"Mormouth", "Fentor"} <= {word.text for word in words}, words
    mormouth = next(word for word in words if word.text == "Mormouth")
    assert iou(mormouth.box, (139, 235, 112, 120)) >= 0.5  # where the stamp's ink is


def test_boxes_are_in_full_resolution_pixels_when_the_image_was_fetched_smaller(rapidocr):
    image, truth = _map_with_word()
    half = image.resize((1200, 600), Image.Resampling.LANCZOS)
    outcome = read_map_text(half, rapidocr, ReaderSettings(scale=2.0), full_size=(2400, 1200))
    found = [word for word in outcome.words if word.text.casefold() == WORD.casefold()]
    assert len(found) == 1
    assert iou(found[0].box, truth) >= 0.5


def test_rapidocr_reads_a_turned_label(rapidocr):
    image = Image.new("RGB", (900, 900), (226, 214, 180))
    stamp = Image.new("L", (330, 60), 0)
    ImageDraw.Draw(stamp).text((6, 8), "Villehamstad", fill=255, font=font(36))
    stamp = stamp.rotate(35, expand=True, resample=Image.Resampling.BICUBIC)
    image.paste((60, 50, 40), (300, 300), stamp)
    words = read_map_text(image, rapidocr).words
    assert any(word.text.casefold() == "villehamstad" for word in words), words


def test_low_confidence_words_are_dropped():
    class Unsure:
        name = "unsure"

        def read(self, tile: np.ndarray) -> list[EngineLine]:
            quad = ((10.0, 10.0), (100.0, 10.0), (100.0, 30.0), (10.0, 30.0))
            return [EngineLine("Noise", quad, 0.3), EngineLine("Elmouth harbour", quad, 0.9)]

    words = read_map_text(_small_sheet(), Unsure()).words
    assert [word.text for word in words] == ["Elmouth", "harbour"]
    # the words split the line's box in proportion to their letters
    assert words[0].box[0] == 10 and words[1].box[0] + words[1].box[2] == 100
    assert words[0].box[0] + words[0].box[2] <= words[1].box[0] + 1


def test_a_letter_spaced_name_is_one_word_spanning_its_letters():
    class Spaced:
        name = "spaced"

        def read(self, tile: np.ndarray) -> list[EngineLine]:
            quad = ((10.0, 10.0), (120.0, 10.0), (120.0, 30.0), (10.0, 30.0))
            low = ((10.0, 50.0), (70.0, 50.0), (70.0, 70.0), (10.0, 70.0))
            return [EngineLine("K E L M O R", quad, 0.9), EngineLine("a B 12", low, 0.9)]

    words = read_map_text(_small_sheet(), Spaced()).words
    assert [word.text for word in words] == ["KELMOR", "12"]
    assert words[0].box[0] == 10 and words[0].box[0] + words[0].box[2] == 120


def test_a_town_symbol_and_an_i_read_as_l_are_mended():
    class Misreading:
        name = "misreading"

        def read(self, tile: np.ndarray) -> list[EngineLine]:
            quad = ((10.0, 10.0), (110.0, 10.0), (110.0, 30.0), (10.0, 30.0))
            low = ((10.0, 50.0), (110.0, 50.0), (110.0, 70.0), (10.0, 70.0))
            return [
                EngineLine("oQuinnor olsham", quad, 0.9),
                EngineLine("lsarven Olmouth lake", low, 0.9),
            ]

    words = read_map_text(_small_sheet(), Misreading()).words
    assert [word.text for word in words] == ["Quinnor", "Isham", "Isarven", "Olmouth", "lake"]
    # the symbol's character is not part of the word's box: "olsham" (from the 10th of 15
    # characters) starts after its "o"
    assert words[1].box[0] == int(10 + 100 * 10 / 15)


@pytest.mark.parametrize("extent", [707, 2048, 2049, 2516, 3000, 4200, 6000])
def test_turned_copies_are_cut_into_the_fewest_evenly_overlapping_tiles(extent):
    size = _even_tile(extent, 2048, 160)
    starts = sorted({x for x, _ in _tile_origins(extent, extent, size, 160)})
    assert size <= 2048 and starts[0] == 0 and starts[-1] + size == max(extent, size)
    assert len(starts) == max(1, math.ceil((extent - 160) / (2048 - 160)))  # as few as cover it
    assert all(160 <= a + size - b <= 162 for a, b in itertools.pairwise(starts))  # no more overlap


def test_two_names_read_as_one_word_are_cut_at_the_second_town_symbol():
    class RunTogether:
        name = "run-together"

        def read(self, tile: np.ndarray) -> list[EngineLine]:
            quad = ((10.0, 10.0), (150.0, 10.0), (150.0, 30.0), (10.0, 30.0))
            low = ((10.0, 50.0), (190.0, 50.0), (190.0, 70.0), (10.0, 70.0))
            return [
                EngineLine("PortvenOTorlan", quad, 0.9),
                EngineLine("YarrosvilleBelport gQuinyar MacDonald", low, 0.9),
            ]

    words = read_map_text(_small_sheet(), RunTogether()).words
    texts = [word.text for word in words]
    assert texts == ["Portven", "Torlan", "Yarrosville", "Belport", "Quinyar", "MacDonald"]
    # each name boxed by its own letters: "Torlan" is the last 6 of 14 characters
    assert words[1].box[0] == int(10 + 140 * 8 / 14) and words[1].box[0] + words[1].box[2] == 150
    assert words[0].box[0] + words[0].box[2] <= words[1].box[0]


def test_word_boxes_shrink_to_their_lettering():
    """A detector pads its boxes; the word box ends up on the ink, even on a blueprint (white on
    blue) and across a thin line, and a box without ink keeps its size."""
    image, truth = _map_with_word()
    blueprint = Image.new("RGB", (2400, 1200), (40, 70, 150))
    ImageDraw.Draw(blueprint).text(WORD_XY, WORD, fill=(235, 235, 245), font=font(WORD_SIZE))
    ImageDraw.Draw(image).line([(WORD_XY[0] + 40, 380), (WORD_XY[0] + 40, 450)], fill="black")
    x, y, w, h = truth
    padded = MapWord(text=WORD, box=(x - 14, y - 16, w + 28, h + 32), score=0.9)
    empty = MapWord(text="Nowhere", box=(100, 100, 80, 30), score=0.9)
    for sheet in (image, blueprint):
        fitted = fit_boxes_to_ink([padded, empty], np.asarray(sheet))
        assert iou(padded.box, truth) < 0.5 < 0.7 < iou(fitted[0].box, truth)
        assert fitted[1].box == empty.box
    # boxes in full-resolution pixels of an image read at half size
    half = np.asarray(image.resize((1200, 600)))
    fitted = fit_boxes_to_ink([padded], half, (2.0, 2.0))[0]
    assert iou(fitted.box, truth) > 0.7


def test_a_blank_a_tiny_and_a_corrupt_image_give_no_words_and_a_warning(rapidocr):
    blank = read_map_text(Image.new("RGB", (1500, 1000), (240, 235, 220)), rapidocr)
    tiny = read_map_text(Image.new("RGB", (20, 12), (0, 0, 0)), rapidocr)
    buffer = io.BytesIO()
    _map_with_word((400, 300))[0].save(buffer, format="PNG")
    corrupt = read_map_text(buffer.getvalue()[:300], rapidocr)
    garbage = read_map_text(b"not an image at all", rapidocr)
    assert (blank.words, blank.warning) == ([], "blank image")
    assert tiny.words == [] and tiny.warning is not None and "too small" in tiny.warning
    for outcome in (corrupt, garbage):
        assert outcome.words == []
        assert outcome.warning is not None and outcome.warning.startswith("unreadable image")


def test_an_engine_failure_costs_only_that_image_its_words():
    class Crashing:
        name = "crashing"

        def read(self, tile: np.ndarray) -> list[EngineLine]:
            raise RuntimeError("segmentation model exploded")

    outcome = read_map_text(_map_with_word()[0], Crashing())
    assert outcome.words == []
    assert outcome.warning == "engine failed: RuntimeError: segmentation model exploded"


class PluginEngine:
    """A library's own engine (e.g. a mapKurator service client), plugged in by path."""

    name = "plugin"

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads

    def read(self, tile: np.ndarray) -> list[EngineLine]:
        quad = ((0.0, 0.0), (40.0, 0.0), (40.0, 20.0), (0.0, 20.0))
        return [EngineLine("Plugged", quad, 0.99)]


def test_engines_load_by_name_or_by_module_path():
    plugin = load_engine(f"{__name__}:PluginEngine")
    assert plugin.name == "plugin"
    assert [w.text for w in read_map_text(_small_sheet(), plugin).words] == ["Plugged"]
    with pytest.raises(OcrUnavailable, match="unknown OCR engine"):
        load_engine("nonsense")
    with pytest.raises(OcrUnavailable, match="cannot be loaded"):
        load_engine("no.such.module:Engine")
