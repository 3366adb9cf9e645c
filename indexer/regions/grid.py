"""The tile grid: which boxes of a sheet are embedded as regions. A grid is a list of levels
(n = tiles along each side) sharing one overlap; boxes are in full-resolution pixels."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

Box = tuple[int, int, int, int]  # x, y, w, h in full-resolution pixels

_LEVELS = re.compile(r"^\s*\d+(\s*,\s*\d+)*\s*$")


@dataclass(frozen=True)
class RegionGrid:
    """Levels of an n×n tiling (each tile 1/n of the sheet plus ``overlap`` of its neighbours)."""

    levels: tuple[int, ...]
    overlap: float = 0.25

    @property
    def spec(self) -> str:
        """The setting's text form, e.g. ``"2,4@0.25"`` (stored with the regions it made)."""
        return ",".join(map(str, self.levels)) + f"@{self.overlap:g}"

    def tiles_per_map(self) -> int:
        """Regions of a square sheet (before blank tiles are skipped; a long sheet has fewer)."""
        return sum(n * n for n in self.levels)


def parse_grid(text: str) -> RegionGrid:
    """``"2,4"`` or ``"2,4@0.25"`` → RegionGrid; ValueError with the reason otherwise."""
    levels_text, _, overlap_text = text.partition("@")
    if not _LEVELS.match(levels_text):
        raise ValueError(f"region grid {text!r}: give tile counts per side, e.g. '2,4@0.25'")
    levels = tuple(sorted({int(part) for part in levels_text.split(",")}))
    if not all(2 <= n <= 16 for n in levels):
        raise ValueError(f"region grid {text!r}: each level must be 2..16 tiles per side")
    overlap = float(overlap_text) if overlap_text.strip() else 0.25
    if not 0.0 <= overlap < 0.75:
        raise ValueError(f"region grid {text!r}: overlap must be in [0, 0.75)")
    return RegionGrid(levels, overlap)


def _spans(length: int, side: float, stride: float) -> list[tuple[int, int]]:
    """(start, size) spans of ``side`` covering [0, length) evenly, at most ``stride`` apart."""
    if side >= length:
        return [(0, length)]
    count = math.ceil((length - side) / stride - 1e-9) + 1
    step = (length - side) / (count - 1)
    return [(round(i * step), round(side)) for i in range(count)]


def tile_boxes(width: int, height: int, grid: RegionGrid) -> list[tuple[Box, int]]:
    """Every (box, level) of the grid on a ``width``×``height`` sheet, coarse levels first.

    Tiles are square (the model's input is): at level n, n tiles span the longer side, each
    sharing ``overlap`` of itself with its neighbour, and as many as needed span the shorter."""
    longer = max(width, height)
    boxes: list[tuple[Box, int]] = []
    for n in grid.levels:
        side = longer / (n - (n - 1) * grid.overlap)
        stride = side * (1.0 - grid.overlap)
        for y, h in _spans(height, side, stride):
            for x, w in _spans(width, side, stride):
                boxes.append(((x, y, w, h), n))
    return boxes
