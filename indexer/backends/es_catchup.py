"""Carry the writes made to the live index while a reindex copies it: documents changed since a
checkpoint are found by ``_seq_no`` and copied again; deletes are found, once the old index
refuses writes (writers retry, ``es_bulk``), by comparing the ids of both indices."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from indexer.backends.base import WriteReport
from indexer.backends.es_bulk import delete_documents, run_bulk
from indexer.backends.es_client import backend_errors
from indexer.backends.es_scan import scan_pages

# A page of raw hits (``_id``, ``_version``, ``_source``) → the hits to write instead (e.g.
# re-embedded with a new model); same ids.
Rewrite = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]

ID_PAGE_SIZE = 5000
CHANGES_PAGE_SIZE = 1000
MAX_PASSES = 20  # passes while writers run; the final one runs with writes blocked
SETTLED = 50  # a pass carrying fewer changes than this ends the passes before the block
IN_FLIGHT_WAIT_S = 30.0


class CatchUpError(RuntimeError):
    """The new index could not be brought level with the old one."""


def checkpoints(client: Elasticsearch, index: str) -> dict[int, int]:
    """Per shard, the global checkpoint of the primary: every operation up to it is on every copy,
    so a refresh makes it visible to any search."""
    return {shard: marks[0] for shard, marks in _sequence_marks(client, index).items()}


def _sequence_marks(client: Elasticsearch, index: str) -> dict[int, tuple[int, int]]:
    """Per shard: (global checkpoint, max sequence number) of the primary."""
    with backend_errors("reading sequence numbers"):
        stats = client.indices.stats(index=index, level="shards", metric="docs")
    shards = next(iter(stats["indices"].values()))["shards"]
    marks: dict[int, tuple[int, int]] = {}
    for shard, copies in shards.items():
        primary = next(c for c in copies if c["routing"]["primary"])
        seq_no = primary["seq_no"]
        marks[int(shard)] = (int(seq_no["global_checkpoint"]), int(seq_no["max_seq_no"]))
    return marks


def _changed_ids(client: Elasticsearch, index: str, since: dict[int, int]) -> list[str]:
    """Ids of documents of ``index`` written after ``since`` (per shard), oldest change first."""
    ids: list[str] = []
    for shard, checkpoint in since.items():
        after: list[Any] | None = None
        while True:
            with backend_errors("reading changed documents"):
                response = client.search(
                    index=index,
                    preference=f"_shards:{shard}",
                    query={"range": {"_seq_no": {"gt": checkpoint}}},
                    sort=[{"_seq_no": "asc"}],
                    size=CHANGES_PAGE_SIZE,
                    search_after=after,
                    source=False,
                    track_total_hits=False,
                )
            hits = response["hits"]["hits"]
            if not hits:
                break
            ids.extend(hit["_id"] for hit in hits)
            after = hits[-1]["sort"]
    return list(dict.fromkeys(ids))


def _all_ids(client: Elasticsearch, index: str) -> set[str]:
    return {
        hit["_id"] for page in scan_pages(client, index, ID_PAGE_SIZE, source=False) for hit in page
    }


@dataclass
class CatchUp:
    """Brings ``target`` level with ``source`` after a copy that started at ``since``."""

    client: Elasticsearch
    source: str
    target: str
    since: dict[int, int]
    rewrite: Rewrite | None = None
    upserts: int = 0  # documents copied again
    deletes: int = 0  # documents deleted from the target
    passes: int = 0
    _report: WriteReport = field(default_factory=WriteReport)

    def run_passes(self) -> None:
        """Copy changes again until a pass finds few (writers still run meanwhile)."""
        for _ in range(MAX_PASSES):
            if self.one_pass() < SETTLED:
                return

    def one_pass(self) -> int:
        """Copy (or delete) every document changed since the last checkpoint; returns how many."""
        self.passes += 1
        next_since = checkpoints(self.client, self.source)  # before the refresh that shows them
        with backend_errors("refreshing"):
            self.client.indices.refresh(index=self.source)
        changed = _changed_ids(self.client, self.source, self.since)
        self._carry(changed)
        self.since = next_since
        return len(changed)

    def final_pass(self) -> None:
        """With writes blocked on the source: the last changes, then every id deleted meanwhile."""
        self._wait_for_in_flight_writes()
        self.one_pass()
        with backend_errors("refreshing"):
            self.client.indices.refresh(index=self.target)
        in_source, in_target = (
            _all_ids(self.client, self.source),
            _all_ids(self.client, self.target),
        )
        self._carry(sorted(in_source - in_target))  # none expected: copied or caught up already
        gone = sorted(in_target - in_source)
        self.deletes += delete_documents(self.client, self.target, gone)
        with backend_errors("refreshing"):
            self.client.indices.refresh(index=self.target)

    def _wait_for_in_flight_writes(self) -> None:
        """Wait until every operation accepted before the block is on every copy."""
        deadline = time.monotonic() + IN_FLIGHT_WAIT_S
        while any(gcp < top for gcp, top in _sequence_marks(self.client, self.source).values()):
            if time.monotonic() > deadline:
                raise CatchUpError(f"writes to {self.source} did not settle within the wait")
            time.sleep(0.1)

    def _carry(self, ids: list[str]) -> None:
        """Make each id in the target what it is in the source now: copied, or deleted."""
        for start in range(0, len(ids), CHANGES_PAGE_SIZE):
            part = ids[start : start + CHANGES_PAGE_SIZE]
            with backend_errors("reading changed documents"):
                docs = self.client.mget(index=self.source, ids=part)["docs"]
            found = [doc for doc in docs if doc.get("found")]
            missing = [doc["_id"] for doc in docs if not doc.get("found")]
            if self.rewrite is not None and found:
                found = self.rewrite(found)
            actions = (
                {
                    "_op_type": "index",
                    "_index": self.target,
                    "_id": doc["_id"],
                    "version": doc["_version"],
                    "version_type": "external_gte",
                    "_source": doc["_source"],
                }
                for doc in found
            )
            report = run_bulk(self.client, actions, WriteReport())
            if report.failed:
                raise CatchUpError(
                    f"{report.failed} changed documents failed to copy, e.g. {report.errors[:3]}"
                )
            self.upserts += report.written
            self.deletes += delete_documents(self.client, self.target, missing)


def clear_write_block(client: Elasticsearch, index: str) -> None:
    """Accept writes to ``index`` again (also undoes the block of a reindex killed mid-swap)."""
    with suppress(NotFoundError), backend_errors("unblocking writes"):
        client.indices.put_settings(index=index, settings={"index.blocks.write": None})


@contextmanager
def writes_blocked(client: Elasticsearch, index: str) -> Iterator[None]:
    """Refuse writes to ``index`` (writers retry until the alias names the new index)."""
    with backend_errors("blocking writes"):
        client.indices.put_settings(index=index, settings={"index.blocks.write": True})
    try:
        yield
    finally:
        clear_write_block(client, index)
