"""Gold query sets: one JSON object per line (format documented in ``docs/quality.md``).

    {"id": "text-007", "type": "text", "variant": "attribute",
     "q": "grayscale nautical chart", "image_id": null, "mix": 0.0, "modify": [],
     "relevant": {"demo:000123": 2, "demo:000456": 1}, "exclude": ["demo:000999"], "note": "..."}

``type`` is ``text``, ``image`` (``image_id`` only) or ``multimodal`` (``image_id`` plus ``q``
and/or ``modify``); ``variant`` groups queries inside a type in reports. Grades: 2 = fully
relevant, 1 = partly relevant; unlisted ids are not relevant. ``exclude`` ids are dropped from
the ranking before scoring (an image query's own map).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

QueryType = Literal["text", "image", "multimodal"]


class GoldQuery(BaseModel):
    """One gold query with graded relevance judgements."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    type: QueryType
    variant: str = "default"
    q: str | None = None
    image_id: str | None = None
    mix: float = Field(default=0.0, ge=-1, le=1)
    modify: list[str] = Field(default_factory=list)
    relevant: dict[str, int] = Field(default_factory=dict)
    exclude: list[str] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> GoldQuery:
        if self.type == "text" and (not self.q or self.image_id):
            raise ValueError("a text query needs q and no image_id")
        if self.type == "image" and (not self.image_id or self.q):
            raise ValueError("an image query needs image_id and no q")
        if self.type == "multimodal" and (not self.image_id or not (self.q or self.modify)):
            raise ValueError("a multimodal query needs image_id and q or modify")
        if any(g < 0 for g in self.relevant.values()):
            raise ValueError("grades must be >= 0")
        return self


def load_gold(path: str | Path) -> list[GoldQuery]:
    """Parse a gold JSONL file; ValueError names the bad line."""
    queries: list[GoldQuery] = []
    seen: set[str] = set()
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            query = GoldQuery.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ValueError(f"{path}:{n}: not a gold query ({exc})") from exc
        if query.id in seen:
            raise ValueError(f"{path}:{n}: duplicate query id {query.id!r}")
        seen.add(query.id)
        queries.append(query)
    if not queries:
        raise ValueError(f"{path}: no queries")
    return queries


def write_gold(path: str | Path, queries: Iterable[GoldQuery]) -> int:
    """Write queries as JSONL (stable key order); returns how many."""
    lines = [q.model_dump_json(exclude_defaults=False) for q in queries]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(lines) + "\n")
    return len(lines)
