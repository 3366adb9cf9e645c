"""Zero-downtime, lossless reindex: new physical index (refresh off, no replicas) → copy every
document and its vector from the live index with point-in-time + ``search_after`` (no
``_reindex``, no re-embedding) → copy again what writers changed meanwhile (``es_catchup``) →
restore settings → block writes on the old index for a last catch-up and the deletes → verify
counts → atomic alias swap → drop the old index. One at a time (a create-only lock document); on
any failure the new index is deleted and the old one keeps serving (and taking writes)."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from indexer.backends import es_catchup, es_lifecycle
from indexer.backends.base import LifecycleError, LifecycleLocked, WriteReport
from indexer.backends.es_bulk import run_bulk
from indexer.backends.es_catchup import Rewrite
from indexer.backends.es_client import backend_errors
from indexer.backends.es_documents import from_source, source_json
from indexer.backends.es_scan import scan_pages

PAGE_SIZE = 500
LOCK_TTL = timedelta(hours=6)  # a lock older than this was left by a crashed run

Progress = Callable[[int, int], None]  # (copied so far, total)


class ReindexError(LifecycleError):
    """The reindex did not complete; the alias still points at the old index."""


class ReindexLocked(ReindexError, LifecycleLocked):
    """Another reindex holds the lock."""


@dataclass(frozen=True)
class ReindexResult:
    """What a finished reindex did."""

    old_index: str | None
    new_index: str
    copied: int
    mapping_version: int
    caught_up: int = 0  # documents written during the copy, copied again before the swap
    deletes_caught_up: int = 0  # documents deleted during the copy, deleted before the swap
    documents: int = 0  # in the new index at the swap
    writes_blocked_s: float = 0.0  # how long writers waited for the last catch-up and the swap


def lock_index(prefix: str) -> str:
    """The index holding this prefix's lock document."""
    return f"{prefix}-locks"


@contextmanager
def reindex_lock(client: Elasticsearch, prefix: str, ttl: timedelta = LOCK_TTL) -> Iterator[None]:
    """Hold the prefix's reindex lock (create-only document); an expired lock is taken over."""
    index, owner = lock_index(prefix), f"{socket.gethostname()}:{os.getpid()}"
    now = datetime.now(UTC)
    body = {"owner": owner, "acquired_at": now.isoformat(), "expires_at": (now + ttl).isoformat()}
    with backend_errors("taking the reindex lock"):
        try:
            client.create(index=index, id="reindex", document=body, refresh="wait_for")
        except ConflictError:
            held = client.get(index=index, id="reindex")
            if datetime.fromisoformat(held["_source"]["expires_at"]) > now:
                raise ReindexLocked(
                    f"a reindex is already running ({held['_source']['owner']} since "
                    f"{held['_source']['acquired_at']})"
                ) from None
            try:  # take over the stale lock only if nobody else did in between
                client.index(
                    index=index,
                    id="reindex",
                    document=body,
                    refresh="wait_for",
                    if_seq_no=held["_seq_no"],
                    if_primary_term=held["_primary_term"],
                )
            except ConflictError:
                raise ReindexLocked("another process took over the stale reindex lock") from None
    try:
        yield
    finally:
        with backend_errors("releasing the reindex lock"), suppress(NotFoundError):
            client.delete(index=index, id="reindex", refresh="wait_for")


def lock_holder(client: Elasticsearch, prefix: str) -> dict[str, Any] | None:
    """The current lock document, or None when no reindex runs."""
    with backend_errors("reading the reindex lock"):
        try:
            return dict(client.get(index=lock_index(prefix), id="reindex")["_source"])
        except NotFoundError:
            return None


def copy_documents(
    client: Elasticsearch,
    source: str,
    target: str,
    total: int,
    progress: Progress | None = None,
    page_size: int = PAGE_SIZE,
    rewrite: Rewrite | None = None,
) -> int:
    """Copy every document of ``source`` into ``target`` keeping ids and versions; returns the
    count. ``rewrite`` transforms each page on the way (the model-change reindex re-embeds
    there)."""
    copied = 0
    for hits in scan_pages(client, source, page_size):
        if rewrite is not None:
            hits = rewrite(hits)
        actions = (
            {
                "_op_type": "index",
                "_index": target,
                "_id": hit["_id"],
                "version": hit["_version"],
                "version_type": "external_gte",
                "_source": hit["_source"],
            }
            for hit in hits
        )
        report = run_bulk(client, actions, WriteReport())
        if report.failed:
            raise ReindexError(
                f"{report.failed} documents failed to copy, e.g. {report.errors[:3]}"
            )
        copied += report.written
        if progress is not None:
            progress(copied, total)
    return copied


def in_layout_of(index: str, rewrite: Rewrite | None) -> Rewrite:
    """``rewrite`` (if any), then each ``_source`` rebuilt from its record in the layout of the
    target's mapping version (a v1 → v2 reindex gains the analysed ``terms``), as the bulk writer
    sends it: JSON text with each float32 in its shortest exact form (``source_json``)."""
    parsed = es_lifecycle.parse_physical(index)
    version = parsed[1] if parsed else None

    def rebuild(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
        hits = rewrite(hits) if rewrite is not None else hits
        return [
            {**hit, "_source": source_json(from_source(hit["_source"]), version)} for hit in hits
        ]

    return rebuild


def reindex(
    client: Elasticsearch,
    prefix: str,
    mapping_version: int | None = None,
    progress: Progress | None = None,
    page_size: int = PAGE_SIZE,
    drain_seconds: float = 2.0,
    rewrite: Rewrite | None = None,
    meta: dict[str, Any] | None = None,
) -> ReindexResult:
    """Rebuild the live index into a new physical index and swap the alias; see the module doc.

    The old index is deleted ``drain_seconds`` after the swap, so searches that resolved the
    alias just before it still finish on the old index. ``rewrite`` and ``meta`` (``model_id``,
    ``dims`` of the new index's ``_meta``) serve a model change: documents re-embedded per page."""
    with reindex_lock(client, prefix):
        old = es_lifecycle.current_index(client, prefix)
        if old is None:
            raise ReindexError(
                f"nothing to reindex: alias {es_lifecycle.alias_name(prefix)} does not exist"
            )
        es_catchup.clear_write_block(client, old)  # left by a run killed during its last catch-up
        old_meta = es_lifecycle.index_meta(client, old)
        carried: dict[str, Any] = {k: old_meta[k] for k in ("model_id", "dims") if k in old_meta}
        carried.update(meta or {})
        new = es_lifecycle.create_index(
            client, prefix, version=mapping_version, dims=carried.get("dims"), bulk_load=True
        )
        try:
            if carried:
                es_lifecycle.update_meta(client, new, **carried)
            # Everything up to the checkpoint is in the snapshot the copy reads; later writes are
            # found by their sequence numbers and carried over before the swap.
            since = es_catchup.checkpoints(client, old)
            with backend_errors("counting documents"):
                client.indices.refresh(index=old)
                total = int(client.count(index=old)["count"])
            relayout = in_layout_of(new, rewrite)
            copied = copy_documents(client, old, new, total, progress, page_size, relayout)
            catch_up = es_catchup.CatchUp(client, old, new, since, relayout)
            catch_up.run_passes()
            es_lifecycle.restore_settings(
                client, new, replicas=es_lifecycle.replica_count(client, old)
            )
            blocked_at = time.monotonic()
            with es_catchup.writes_blocked(client, old):
                catch_up.final_pass()
                with backend_errors("verifying counts"):
                    in_old = int(client.count(index=old)["count"])
                    in_new = int(client.count(index=new)["count"])
                if in_new != in_old:
                    raise ReindexError(
                        f"count check failed: the old index holds {in_old}, the new one {in_new}"
                    )
                es_lifecycle.point_alias(client, prefix, new, old)
            writes_blocked_s = time.monotonic() - blocked_at
        except es_catchup.CatchUpError as exc:
            es_lifecycle.delete_index(client, new)
            raise ReindexError(str(exc)) from exc
        except BaseException:
            es_lifecycle.delete_index(client, new)
            raise
        time.sleep(drain_seconds)
        es_lifecycle.delete_index(client, old)
        version = es_lifecycle.parse_physical(new)
        return ReindexResult(
            old,
            new,
            copied,
            version[1] if version else 0,
            caught_up=catch_up.upserts,
            deletes_caught_up=catch_up.deletes,
            documents=in_new,
            writes_blocked_s=writes_blocked_s,
        )


def cleanup(client: Elasticsearch, prefix: str) -> list[str]:
    """Delete leftover physical indices, unless a reindex is running (its new index is one)."""
    holder = lock_holder(client, prefix)
    if holder is not None and datetime.fromisoformat(holder["expires_at"]) > datetime.now(UTC):
        raise ReindexLocked(
            f"a reindex is running ({holder['owner']}); cleanup would delete its new index"
        )
    current = es_lifecycle.current_index(client, prefix)
    if current is not None:  # a reindex killed during its last catch-up left writes blocked
        es_catchup.clear_write_block(client, current)
    return es_lifecycle.cleanup(client, prefix)
