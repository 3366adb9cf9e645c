"""The regions of one map as an index document carries them (tiles cut by ``indexer.regions``):
boxes, grid levels and vectors, plus the grid they were cut with (a changed grid re-embeds them)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class RegionSet:
    """``boxes`` (n, 4) int32 x, y, w, h in full-resolution pixels; ``levels`` (n,) tiles per side
    of the grid level each came from; ``vectors`` (n, dims) unit-norm float32."""

    grid: str
    boxes: np.ndarray
    levels: np.ndarray
    vectors: np.ndarray

    def __post_init__(self) -> None:
        count = len(self.boxes)
        if self.boxes.shape != (count, 4) or self.levels.shape != (count,):
            raise ValueError("region boxes must be (n, 4) and levels (n,)")
        if self.vectors.ndim != 2 or len(self.vectors) != count:
            raise ValueError("region vectors must be (n, dims), one per box")
        if not np.all(np.isfinite(self.vectors)):
            raise ValueError("region vectors must be finite")

    def __len__(self) -> int:
        return len(self.boxes)

    @classmethod
    def build(
        cls, grid: str, boxes: list[tuple[int, int, int, int]], levels: list[int], vectors: Any
    ) -> RegionSet:
        """A set from plain lists (vectors: anything numpy reads as (n, dims))."""
        array = np.asarray(vectors, dtype=np.float32)
        dims = array.shape[-1] if array.ndim == 2 else 0
        return cls(
            grid=grid,
            boxes=np.asarray(boxes, dtype=np.int32).reshape(-1, 4),
            levels=np.asarray(levels, dtype=np.int32).reshape(-1),
            vectors=array.reshape(len(boxes), dims) if len(boxes) else array.reshape(0, dims),
        )

    @classmethod
    def empty(cls, grid: str) -> RegionSet:
        """No regions: the sheet was looked at with ``grid`` and is too small or all blank."""
        return cls.build(grid, [], [], np.zeros((0, 0), np.float32))

    def current(self, grid: str | None) -> bool:
        """Whether these regions were made with ``grid`` (None: regions are off, keep any)."""
        return grid is None or self.grid == grid

    def to_json(self) -> dict[str, Any]:
        """JSON-able form (the pipeline's stage store); vectors as base64 little-endian float32."""
        return {
            "grid": self.grid,
            "boxes": self.boxes.tolist(),
            "levels": self.levels.tolist(),
            "dims": int(self.vectors.shape[1]),
            "vectors": base64.b64encode(self.vectors.astype("<f4").tobytes()).decode(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RegionSet:
        """The inverse of :meth:`to_json`."""
        raw = np.frombuffer(base64.b64decode(data["vectors"]), dtype="<f4")
        vectors = raw.reshape(len(data["boxes"]), int(data["dims"]))
        return cls.build(data["grid"], data["boxes"], data["levels"], vectors)
