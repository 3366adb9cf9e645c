"""Reading quality and speed of the OCR engines on a large-format synthetic collection (written
by ``mapsearch demo --large`` or ``write_demo_collection(..., large=True)``): word recall and
precision against the ground-truth labels, per angle and size band, and maps/s per core (CPU
time of this process and its children, so Tesseract's subprocesses count; one thread each)."""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from PIL import Image

from indexer.evaluation.map_text import ReadingScore, score_map
from indexer.ocr import ReaderSettings, load_engine, read_map_text
from indexer.synthetic import read_ground_truth_boxes

NAIVE_562K = 562_842


def _cpu() -> float:
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    """Print one JSON report per engine (and write them to --out)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--engine", action="append", default=[])
    parser.add_argument("--scale", type=float, default=ReaderSettings.scale)
    parser.add_argument("--maps", type=int, default=0, help="read only the first N maps")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    truth = read_ground_truth_boxes(args.data_dir)
    ids = sorted(truth)[: args.maps or None]
    settings = ReaderSettings(scale=args.scale)
    reports = []
    for name in args.engine or ["rapidocr", "tesseract"]:
        engine = load_engine(name, threads=1)
        score, cpu, wall, warnings = ReadingScore(), 0.0, 0.0, 0
        for doc_id in ids:
            path = args.data_dir / "images" / f"{doc_id.replace(':', '-')}.png"
            image = Image.open(path)
            image.load()
            started_cpu, started_wall = _cpu(), time.perf_counter()
            outcome = read_map_text(image, engine, settings)
            cpu += _cpu() - started_cpu
            wall += time.perf_counter() - started_wall
            warnings += outcome.warning is not None
            boxes = truth[doc_id]
            score_map(score, boxes["label_boxes"], outcome.words, boxes["ornament_boxes"])
        report = {
            "engine": engine.name,
            "scale": args.scale,
            "maps": len(ids),
            "warnings": warnings,
            "cpu_s_per_map": round(cpu / len(ids), 2),
            "wall_s_per_map": round(wall / len(ids), 2),
            "maps_per_s_per_core": round(len(ids) / cpu, 4),
            "hours_562k_per_core": round(NAIVE_562K * cpu / len(ids) / 3600, 1),
            **score.as_dict(),
        }
        print(json.dumps(report, ensure_ascii=False))
        reports.append(report)
    if args.out:
        args.out.write_text(json.dumps(reports, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
