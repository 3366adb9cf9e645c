"""The OCR engine in a child process: a native crash (abort, segmentation fault) or a hang on one
image fails that read only, the next read starts a new child, and the child is reused for every
image in between (one engine load, not one per image). Faults are injected by
``tests.support.crashing_ocr`` (RapidOCR that dies on a marked tile)."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.ocr import OcrUnavailable, ReaderSettings, read_map_text
from indexer.ocr.isolated import EngineCrashed, EngineFailed, IsolatedEngine
from tests.support.crashing_ocr import sheet
from tests.support.services import require_ocr_engine

CRASHING = "tests.support.crashing_ocr:CrashingEngine"


@pytest.fixture(scope="module")
def isolated():
    require_ocr_engine()
    engine = IsolatedEngine(CRASHING, tile_timeout=20)
    yield engine
    engine.close()


def _tile(word: str | None, mark: str | None = None) -> np.ndarray:
    return np.asarray(sheet(word, mark))[:1024, :1024].copy()


def _child_pid(engine: IsolatedEngine) -> int:
    assert engine._child is not None
    return engine._child.pid


def _texts(engine: IsolatedEngine, word: str) -> list[str]:
    return [line.text for line in engine.read(_tile(word))]


def test_the_child_reads_like_the_engine_and_is_reused(isolated: IsolatedEngine) -> None:
    assert isolated.name.startswith("crashing-rapidocr-")
    pid = _child_pid(isolated)
    assert _texts(isolated, "Chesapeake") == ["Chesapeake"]
    assert _texts(isolated, "Elmouth") == ["Elmouth"]
    assert isolated.read(_tile(None)) == []
    # RapidOCR detects and recognises in two steps, through the child as well
    assert isolated.two_step
    tile = _tile("Chesapeake")
    quads = isolated.detect(tile)
    assert [line.text for line in isolated.recognize(tile, quads)] == ["Chesapeake"]
    assert _child_pid(isolated) == pid  # one child, one engine load, for every tile


def test_an_engine_that_reads_whole_tiles_only_is_read_that_way_through_the_child() -> None:
    engine = IsolatedEngine("tests.unit.indexer.ocr.test_reader:PluginEngine")
    try:
        assert not engine.two_step
        words = read_map_text(sheet("Chesapeake"), engine, ReaderSettings()).words
        assert [word.text for word in words] == ["Plugged"]
    finally:
        engine.close()


@pytest.mark.parametrize(("mark", "signal_name"), [("abort", "SIGABRT"), ("segfault", "SIGSEGV")])
def test_a_native_crash_fails_that_read_only_and_a_new_child_reads_on(
    isolated: IsolatedEngine, mark: str, signal_name: str
) -> None:
    crashes, pid = isolated.crashes, _child_pid(isolated)
    with pytest.raises(EngineCrashed, match=f"engine process died \\({signal_name}\\)"):
        isolated.read(_tile("Norber", mark))
    assert isolated.crashes == crashes + 1
    assert _texts(isolated, "Villehamstad") == ["Villehamstad"]
    assert _child_pid(isolated) != pid


def test_a_python_exception_in_the_engine_keeps_the_child(isolated: IsolatedEngine) -> None:
    pid = _child_pid(isolated)
    with pytest.raises(EngineFailed, match="ValueError: the engine cannot read this tile"):
        isolated.read(_tile("Norber", "raise"))
    assert _child_pid(isolated) == pid
    assert _texts(isolated, "Elmouth") == ["Elmouth"]


def test_a_hung_engine_is_killed_after_the_tile_timeout(isolated: IsolatedEngine) -> None:
    isolated.tile_timeout = 2
    try:
        with pytest.raises(EngineCrashed, match="hung"):
            isolated.read(_tile("Norber", "hang"))
    finally:
        isolated.tile_timeout = 20
    assert _texts(isolated, "Chesapeake") == ["Chesapeake"]


def test_the_reader_turns_a_crash_into_a_warning_for_that_image(isolated: IsolatedEngine) -> None:
    crashed = read_map_text(sheet("Norber", "segfault"), isolated, ReaderSettings())
    assert crashed.words == []
    assert crashed.warning is not None
    assert crashed.warning.startswith("engine failed: EngineCrashed: engine process died (SIGSEGV)")
    fine = read_map_text(sheet("Chesapeake"), isolated, ReaderSettings())
    assert [word.text for word in fine.words] == ["Chesapeake"] and fine.warning is None


def test_an_engine_that_cannot_load_is_unavailable_before_any_image() -> None:
    with pytest.raises(OcrUnavailable, match="cannot be loaded"):
        IsolatedEngine("no_such_module.anywhere:Engine")
