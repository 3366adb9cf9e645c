"""Regions of a map: the multi-scale grid of overlapping tiles cut from the full-resolution
image, their vectors, and where each tile sits on the sheet (see docs/regions.md)."""

from indexer.regions.grid import RegionGrid, parse_grid, tile_boxes
from indexer.regions.vectors import RegionSet

__all__ = ["RegionGrid", "RegionSet", "parse_grid", "tile_boxes"]
