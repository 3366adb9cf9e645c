"""Can a model see ornaments in region tiles? Per-ornament ROC AUC of each tile's cosine to "a map
with a {ornament}", tiles holding that ornament against the rest (docs/regions.md).

Two tile sets, neither trained on: the validation region pairs (world seed 3002, drawn and cut as
training draws them: grid tiles plus ornament crops, ``indexer.training.tiles``) and, with
``--dev``, the full-resolution sheets of a ``mapsearch demo --large`` collection cut exactly as
the indexer cuts them (grid tiles only, blank ones skipped). Tiles are cut at each model's own
input size.

    OMP_NUM_THREADS=1 python bench/tile_auc.py --model demo --model /tmp/m1 \\
        --cache-dir /tmp/cache --dev /tmp/dev --json-out /tmp/auc.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from indexer.regions.grid import parse_grid
from indexer.regions.tiles import cut_tiles, plan_tiles, source_side
from indexer.synthetic.vocabulary import ATTRIBUTE_WORDS
from indexer.training.augment import to_model_input
from indexer.training.checkpoint import DEMO_MODEL_DIR, load_demo_checkpoint, tokenize
from indexer.training.data import letterbox_uint8
from indexer.training.tiles import (
    MIN_SPREAD,
    TILE_VAL_START,
    TILE_VAL_WORLD_SEED,
    cached_tile_pair_set,
    tile_ornaments,
)

Tiles = tuple[np.ndarray, list[list[str]]]


def roc_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not len(positive) or not len(negative):
        return float("nan")
    scores = np.concatenate([positive, negative])
    order = scores.argsort(kind="stable")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):  # average ranks of ties
        same = scores == value
        if same.sum() > 1:
            ranks[same] = ranks[same].mean()
    n_pos, n_neg = len(positive), len(negative)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def validation_tiles(cache_dir: Path, sheets: int, grid: str, input_size: int) -> Tiles:
    """The region validation pairs of world 3002 at ``input_size`` (rendered once, cached)."""
    pairs = cached_tile_pair_set(
        sheets, TILE_VAL_WORLD_SEED, TILE_VAL_START, cache_dir, grid=grid, input_size=input_size
    )
    return pairs.images, [list((a or {}).get("ornaments", [])) for a in pairs.attributes]


def collection_tiles(data_dir: Path, grid_spec: str, input_size: int) -> Tiles:
    """Grid tiles of a demo collection's full-resolution sheets, cut as the indexer cuts them."""
    grid = parse_grid(grid_spec)
    images, ornaments = [], []
    for line in (data_dir / "ground_truth.jsonl").read_text().splitlines():
        row = json.loads(line)
        path = data_dir / "images" / f"{row['id'].replace(':', '-')}.png"
        sheet = Image.open(path).convert("RGB")
        size = sheet.size
        side = source_side(grid, input_size)
        source = sheet.copy()
        source.thumbnail((side, side), Image.Resampling.BICUBIC)
        tiles = plan_tiles(source, size, grid, MIN_SPREAD)
        for tile, image in zip(tiles, cut_tiles(source, size, tiles, input_size), strict=True):
            images.append(letterbox_uint8(image, input_size))
            ornaments.append(tile_ornaments(tile.box, row["ornament_boxes"]))
    return np.stack(images), ornaments


@torch.inference_mode()
def ornament_aucs(model: Any, preprocess: dict[str, Any], tiles: Tiles) -> dict[str, float]:
    """Per-ornament AUC of tile cosine to "a map with a {ornament}" (its first vocabulary word)."""
    images, ornaments = tiles
    x = to_model_input(torch.from_numpy(images), preprocess["mean"], preprocess["std"])
    features = torch.cat(
        [model.encode_image(x[i : i + 128], normalize=True) for i in range(0, len(x), 128)]
    )
    out = {}
    for kind, words in ATTRIBUTE_WORDS["ornaments"].items():
        text = tokenize([f"a map with a {words[0]}"], model.context_length)
        scores = (features @ model.encode_text(text, normalize=True).T).squeeze(1).numpy()
        holds = np.array([kind in z for z in ornaments])
        out[kind] = round(roc_auc(scores[holds], scores[~holds]), 3)
    return out


def main(argv: list[str] | None = None) -> int:
    """Measure every ``--model`` on the tile sets and print one line per model and set."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", required=True, help="'demo' or a folder")
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--val-sheets", type=int, default=40)
    parser.add_argument("--dev", type=Path, help="a `mapsearch demo --large` data dir")
    parser.add_argument("--grid", default="2,4@0.25")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    sets: dict[tuple[str, int], Tiles] = {}
    report = []
    for spec in args.model:
        model, preprocess, model_id = load_demo_checkpoint(
            DEMO_MODEL_DIR if spec == "demo" else spec
        )
        size = int(
            preprocess["size"] if isinstance(preprocess["size"], int) else preprocess["size"][0]
        )
        wanted = [("validation", size)] + ([("dev", size)] if args.dev else [])
        for name, px in wanted:
            if (name, px) not in sets:
                sets[name, px] = (
                    validation_tiles(args.cache_dir, args.val_sheets, args.grid, px)
                    if name == "validation"
                    else collection_tiles(args.dev, args.grid, px)
                )
            tiles = sets[name, px]
            aucs = ornament_aucs(model, preprocess, tiles)
            mean = round(float(np.nanmean(list(aucs.values()))), 3)
            positives = {k: sum(k in z for z in tiles[1]) for k in ATTRIBUTE_WORDS["ornaments"]}
            row = {
                "model": spec,
                "model_id": model_id,
                "set": name,
                "input": px,
                "tiles": len(tiles[0]),
                "auc": aucs,
                "positives": positives,
                "mean": mean,
            }
            report.append(row)
            print(json.dumps(row), flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
