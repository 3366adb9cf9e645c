"""Regions of a map: the multi-scale grid of overlapping tiles cut from the full-resolution
image, embedding them, and boxes of an image as search examples (see docs/regions.md). The
vectors a document carries are ``indexer.region_set.RegionSet``."""

from indexer.regions.grid import RegionGrid, parse_grid, tile_boxes

__all__ = ["RegionGrid", "parse_grid", "tile_boxes"]
