"""What running the OCR engine in a child process (``indexer.ocr.isolated``) costs per map: the
same maps read in process and through the child, CPU per map (this process plus the child's,
read from /proc) and wall time, the words compared, and the round trip of one empty tile."""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import numpy as np
from PIL import Image

from indexer.ocr import ReaderSettings, load_engine, read_map_text
from indexer.ocr.engine import EngineLine, OcrEngine
from indexer.ocr.isolated import IsolatedEngine

ROUND_TRIPS = 50
TICKS = os.sysconf("SC_CLK_TCK")


class NothingEngine:
    """Reads nothing, at once: what is left of a read is the trip to the child and back."""

    name = "nothing"

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads

    def read(self, tile: np.ndarray) -> list[EngineLine]:
        """No lines."""
        return []


class CountingEngine:
    """Counts the tiles handed to an engine."""

    def __init__(self, inner: OcrEngine) -> None:
        self.inner, self.name, self.tiles = inner, inner.name, 0

    def read(self, tile: np.ndarray) -> list[EngineLine]:
        """The inner engine's lines."""
        self.tiles += 1
        return self.inner.read(tile)


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child_cpu(engine: OcrEngine) -> float:
    child = getattr(engine, "_child", None)
    if child is None:
        return 0.0
    fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def _read_all(engine: OcrEngine, images: list[Image.Image]) -> dict[str, object]:
    counting = CountingEngine(engine)
    cpu = wall = 0.0
    words = []
    for image in images:
        started = (_own_cpu() + _child_cpu(engine), time.perf_counter())
        outcome = read_map_text(image, counting, ReaderSettings())
        cpu += _own_cpu() + _child_cpu(engine) - started[0]
        wall += time.perf_counter() - started[1]
        words.append([(w.text, w.box) for w in outcome.words])
    return {
        "cpu_s_per_map": round(cpu / len(images), 3),
        "wall_s_per_map": round(wall / len(images), 3),
        "tiles_per_map": counting.tiles / len(images),
        "words": words,
    }


def main() -> None:
    """Print one JSON report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--maps", type=int, default=3)
    parser.add_argument("--engine", default="rapidocr")
    args = parser.parse_args()
    paths = sorted((args.data_dir / "images").glob("*.png"))[: args.maps]
    images = [Image.open(path) for path in paths]
    for image in images:
        image.load()
    in_process = _read_all(load_engine(args.engine, threads=1), images)
    isolated_engine = IsolatedEngine(args.engine, threads=1)
    isolated = _read_all(isolated_engine, images)
    isolated_engine.close()
    nothing = IsolatedEngine(f"{Path(__file__).stem}:NothingEngine")
    tile = np.zeros((1024, 1024, 3), np.uint8)
    started = time.perf_counter()
    for _ in range(ROUND_TRIPS):
        nothing.read(tile)
    round_trip_ms = (time.perf_counter() - started) / ROUND_TRIPS * 1000
    nothing.close()
    same_words = in_process.pop("words") == isolated.pop("words")
    report = {
        "engine": args.engine,
        "maps": len(images),
        "sizes": [image.size for image in images],
        "in_process": in_process,
        "isolated": isolated,
        "same_words": same_words,
        "cpu_overhead": round(
            float(isolated["cpu_s_per_map"]) / float(in_process["cpu_s_per_map"]) - 1,
            4,  # type: ignore[arg-type]
        ),
        "empty_1024px_tile_round_trip_ms": round(round_trip_ms, 2),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
