"""Region embedding cost on CPU (docs/regions.md): sheets of a large-format collection decoded as
the pipeline decodes them, tiles planned (blank ones skipped) and cut, then embedded; regions/s
for the model alone and end to end, and the time to add regions to the paper's 562,842 maps.

Usage: ``python bench/region_embed.py --data-dir DIR [--maps 30] [--grid 2,4@0.25]
[--model demo]``; DIR holds a ``mapsearch demo --large`` collection."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.embedder import ClipEmbedder  # noqa: E402
from indexer.regions.embed import full_size, region_grid  # noqa: E402
from indexer.regions.tiles import cut_tiles, plan_tiles, source_side  # noqa: E402
from indexer.settings import load_settings  # noqa: E402
from indexer.synthetic import generate_world  # noqa: E402

PAPER_SIZE = 562_842


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--maps", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1, help="the collection's world seed")
    parser.add_argument("--grid", default="2,4@0.25")
    parser.add_argument("--model", default="demo")
    args = parser.parse_args()
    settings = load_settings(
        {"data_dir": args.data_dir, "model": args.model, "region_grid": args.grid}
    )
    from indexer.images.load import load_image

    embedder = ClipEmbedder.from_settings(settings).load()
    grid = region_grid(settings)
    assert grid is not None
    input_size = embedder.image_size
    records = [m.record for m in generate_world(args.maps, args.seed, large=True)]
    assert records[0].image is not None
    embedder.embed_images([load_image(records[0].image, settings, args.data_dir)])  # warm up
    decode_s = plan_s = embed_s = 0.0
    regions = 0
    for record in records:
        assert record.image is not None
        started = time.perf_counter()
        image = load_image(record.image, settings, args.data_dir)  # what the pipeline decodes
        decode_s += time.perf_counter() - started
        started = time.perf_counter()
        size = full_size(record, image)
        tiles = plan_tiles(image, size, grid, settings.region_min_spread)
        if max(image.size) < min(max(size), source_side(grid, input_size)):
            image = load_image(record.image, settings, args.data_dir, source_side(grid, input_size))
        crops = cut_tiles(image, size, tiles, input_size)
        plan_s += time.perf_counter() - started
        started = time.perf_counter()
        embedder.embed_images(crops)
        embed_s += time.perf_counter() - started
        regions += len(crops)
    per_map = regions / len(records)
    model_rate = regions / embed_s
    end_to_end = regions / (plan_s + embed_s)
    report = {
        "model": embedder.model_id,
        "input_size": input_size,
        "grid": grid.spec,
        "maps": len(records),
        "regions": regions,
        "regions_per_map": round(per_map, 1),
        "regions_per_s_model": round(model_rate, 1),
        "regions_per_s_cut_and_embed": round(end_to_end, 1),
        "decode_s_per_map": round(decode_s / len(records), 3),
        "paper_regions": round(PAPER_SIZE * per_map),
        "paper_hours_cut_and_embed": round(PAPER_SIZE * per_map / end_to_end / 3600, 1),
        "omp_threads": os.environ.get("OMP_NUM_THREADS"),
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
