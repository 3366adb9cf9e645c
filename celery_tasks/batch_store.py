"""The batch store: batches between pipeline stages, keyed by batch id, so tasks carry ids and
re-read the data: records after harvest, documents (record + vector) after embedding. Redis when
a broker is configured (workers may run on other machines), files under ``data_dir/staging``
otherwise."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from celery_tasks.redis_client import redis_client
from indexer.records import IndexDocument, MapRecord
from indexer.region_set import RegionSet
from indexer.settings import Settings

# Staged data outlives any sane queue wait but does not pile up forever if a job is abandoned.
STAGE_TTL_SECONDS = 14 * 24 * 3600


class BatchMissing(LookupError):
    """A task asked for a batch that is not staged (expired, or the store was wiped)."""


def batch_id_for(job_id: str, record_ids: Sequence[str]) -> str:
    """Deterministic batch id: a re-harvested page (resumed cursor) maps to the same batch."""
    digest = hashlib.sha256("\n".join(record_ids).encode()).hexdigest()[:20]
    return f"{job_id}-{digest}"


def document_to_json(doc: IndexDocument) -> dict[str, Any]:
    """A JSON-safe form of a document; the vector as base64 float32."""
    vector = (
        None
        if doc.vector is None
        else base64.b64encode(np.asarray(doc.vector, dtype=np.float32).tobytes()).decode()
    )
    return {
        "record": doc.record.model_dump(mode="json"),
        "vector": vector,
        "model_id": doc.model_id,
        "image_hash": doc.image_hash,
        "indexed_at": doc.indexed_at.isoformat(),
        "regions": None if doc.regions is None else doc.regions.to_json(),
    }


def document_from_json(data: dict[str, Any]) -> IndexDocument:
    """Inverse of ``document_to_json``."""
    vector = (
        None
        if data["vector"] is None
        else np.frombuffer(base64.b64decode(data["vector"]), dtype=np.float32).copy()
    )
    return IndexDocument(
        record=MapRecord.model_validate(data["record"]),
        vector=vector,
        model_id=data["model_id"],
        image_hash=data["image_hash"],
        indexed_at=data["indexed_at"],
        regions=None if data.get("regions") is None else RegionSet.from_json(data["regions"]),
    )


class BatchStage(Protocol):
    """Put and get staged batches; ``kind`` is ``records`` or ``documents``."""

    def put(self, batch_id: str, kind: str, payload: Any) -> None:
        """Store (or overwrite, idempotently) one staged batch."""
        ...

    def get(self, batch_id: str, kind: str) -> Any:
        """The staged batch, or BatchMissing."""
        ...

    def drop(self, batch_id: str) -> None:
        """Forget a batch once it is indexed."""
        ...


class RedisStage:
    """Staged batches as Redis strings with a TTL."""

    def __init__(self, url: str, prefix: str = "mapsearch:stage") -> None:
        self.client: Any = redis_client(url)
        self.prefix = prefix

    def put(self, batch_id: str, kind: str, payload: Any) -> None:
        self.client.set(
            f"{self.prefix}:{batch_id}:{kind}", json.dumps(payload), ex=STAGE_TTL_SECONDS
        )

    def get(self, batch_id: str, kind: str) -> Any:
        raw = self.client.get(f"{self.prefix}:{batch_id}:{kind}")
        if raw is None:
            raise BatchMissing(f"batch {batch_id} ({kind}) is not staged")
        return json.loads(raw)

    def drop(self, batch_id: str) -> None:
        self.client.delete(
            f"{self.prefix}:{batch_id}:records", f"{self.prefix}:{batch_id}:documents"
        )


class DirectoryStage:
    """Staged batches as JSON files (written atomically: temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, batch_id: str, kind: str) -> Path:
        return self.root / f"{batch_id}.{kind}.json"

    def put(self, batch_id: str, kind: str, payload: Any) -> None:
        path = self._path(batch_id, kind)
        temp = path.with_suffix(f".tmp{os.getpid()}")
        temp.write_text(json.dumps(payload))
        temp.replace(path)

    def get(self, batch_id: str, kind: str) -> Any:
        try:
            return json.loads(self._path(batch_id, kind).read_text())
        except FileNotFoundError:
            raise BatchMissing(f"batch {batch_id} ({kind}) is not staged") from None

    def drop(self, batch_id: str) -> None:
        for kind in ("records", "documents"):
            self._path(batch_id, kind).unlink(missing_ok=True)


def open_stage(settings: Settings) -> RedisStage | DirectoryStage:
    """Redis with a broker, the data dir without."""
    if settings.broker_url:
        return RedisStage(settings.broker_url)
    return DirectoryStage(settings.data_dir / "staging")
