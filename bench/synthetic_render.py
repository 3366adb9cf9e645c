"""Render speed of the synthetic map world, per core: maps drawn per second at full size and
scaled to 256 and 128 px, or of large-format sheets with their boxes (``--large``); CPU time of
this process, so a busy machine does not skew it."""

from __future__ import annotations

import argparse
import time

from indexer.synthetic import generate_world


def main() -> None:
    """Print maps/s for each size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--maps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--large", action="store_true", help="large-format sheets (2,048-4,096 px) at full size"
    )
    args = parser.parse_args()
    maps = list(generate_world(args.maps, seed=args.seed, large=args.large))
    if args.large:
        cpu, wall = time.process_time(), time.perf_counter()
        for synthetic in maps:
            synthetic.draw()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(
            f"large format (2,048-4,096 px) with boxes: {cpu / args.maps:.2f} s CPU, "
            f"{wall / args.maps:.2f} s wall per map"
        )
        return
    for side in (None, 256, 128):
        cpu, wall = time.process_time(), time.perf_counter()
        for synthetic in maps:
            synthetic.render(max_side=side)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        label = "full size (384-512 px)" if side is None else f"{side} px"
        print(
            f"{label:>24}: {args.maps / cpu:6.1f} maps/s per core ({1000 * cpu / args.maps:.1f} ms "
            f"CPU, {1000 * wall / args.maps:.1f} ms wall per map)"
        )


if __name__ == "__main__":
    main()
