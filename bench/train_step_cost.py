"""Seconds per training step of the demo CLIP at several vision geometries (input px / patch px),
measured interleaved in one process so every geometry sees the same machine load; the ratio to
the shipped geometry prices a retrain (docs/regions.md).

    OMP_NUM_THREADS=1 python bench/train_step_cost.py --geometry 128/32 --geometry 128/16 \\
        --geometry 224/32 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

from indexer.records import MapRecord
from indexer.training.checkpoint import build_model, default_preprocess_cfg
from indexer.training.data import PairSet
from indexer.training.demo import demo_model_cfg, validation_captions
from indexer.training.trainer import TrainConfig, Trainer


def random_pairs(n: int, size: int) -> PairSet:
    """``n`` noise images with varied attributes: the cost of a step does not depend on pixels."""
    rng = np.random.default_rng(0)
    kinds, colours = (
        ("world_map", "city_plan", "nautical_chart"),
        ("sepia", "grayscale", "full_colour"),
    )
    records = [MapRecord(id=f"b:{i}", source="b", title=f"Map {i}") for i in range(n)]
    images = rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)
    attributes = [
        {"kind": kinds[i % 3], "colour_scheme": colours[(i // 3) % 3], "ornaments": []}
        for i in range(n)
    ]
    return PairSet(records, images, attributes)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    """Time ``--rounds`` rounds of one step per geometry; print median seconds per step."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--geometry", action="append", required=True, help="INPUT/PATCH in px")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/train-step-cost"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    trainers = {}
    for spec in args.geometry:
        size, patch = (int(v) for v in spec.split("/"))
        torch.manual_seed(0)
        model = build_model(demo_model_cfg(size, patch))
        pre = default_preprocess_cfg(size)
        pairs = random_pairs(args.batch_size * 2, size)
        config = TrainConfig(batch_size=args.batch_size, multi_positive=True, image_loss_weight=0.5)
        trainers[spec] = Trainer(
            model,
            pairs,
            pairs,
            config,
            mean=pre["mean"],
            std=pre["std"],
            work_dir=args.work_dir / spec.replace("/", "-"),
            val_captions=validation_captions(pairs, 0),
            progress=False,
        )
    times: dict[str, list[float]] = {spec: [] for spec in trainers}
    rng, gen = random.Random(0), torch.Generator().manual_seed(0)
    for _ in range(args.rounds + 1):  # the first round warms up and is not counted
        for spec, trainer in trainers.items():
            start = time.perf_counter()
            # one optimiser step exactly as fit() takes it, without fit()'s per-epoch validation
            trainer._step(list(range(args.batch_size)), rng, gen)
            times[spec].append(time.perf_counter() - start)
    base = float(np.median(times[args.geometry[0]][1:]))
    for spec, values in times.items():
        median = float(np.median(values[1:]))
        params = sum(p.numel() for p in trainers[spec].model.visual.parameters())
        row = {"geometry": spec, "vision_params": params, "s_per_step": round(median, 3)}
        print(json.dumps(row | {"vs_first": round(median / base, 2)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
