"""Bulk writes to Elasticsearch: versioned by the record's revision (a stale retry never
overwrites newer data), retried with backoff on 429 and while the index refuses writes for a
reindex's final catch-up, every per-document failure reported."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from elasticsearch import Elasticsearch, helpers
from more_itertools import chunked

from indexer.backends.base import WriteReport
from indexer.backends.es_client import backend_errors
from indexer.backends.es_documents import source_json
from indexer.records import IndexDocument

CHUNK_SIZE = 500
MAX_RETRIES = 5  # per chunk, on 429 only; backoff 1 s, 2 s, 4 s ...
# Requests in flight at once: while ES indexes one chunk (one write thread, CPU-bound on parsing
# vectors and compressing _source) the next is encoded and sent, so both ES write threads stay busy.
BULK_THREADS = 2
# A reindex blocks writes on the old index for its final catch-up, then moves the alias: items
# refused meanwhile are sent again (the alias then names the new index) for up to this long.
WRITE_BLOCK_WAIT_S = 120.0
WRITE_BLOCK_RETRY_S = 0.2


def index_actions(
    index: str, docs: Iterable[IndexDocument], report: WriteReport, mapping_version: int
) -> Iterator[dict[str, Any]]:
    """Bulk index actions with external_gte versioning, in the layout of the index's
    ``mapping_version``; unconvertible documents go to the report."""
    for doc in docs:
        try:
            source = source_json(doc, mapping_version)
        except (ValueError, TypeError) as exc:
            report.fail(doc.id, str(exc))
            continue
        yield {
            "_op_type": "index",
            "_index": index,
            "_id": doc.id,
            "version": doc.record.revision,
            "version_type": "external_gte",
            "_source": source,
        }


def _reason(item: dict[str, Any]) -> tuple[int, str]:
    result = next(iter(item.values()))
    error = result.get("error", {})
    if isinstance(error, dict):
        text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
    else:
        text = str(error)
    return int(result.get("status", 0)), text


def _write_blocked(item: dict[str, Any]) -> bool:
    """Whether the index refused this item with a write block (a reindex's final catch-up)."""
    error = next(iter(item.values())).get("error")
    return isinstance(error, dict) and error.get("type") == "cluster_block_exception"


def _item_id(item: dict[str, Any]) -> str:
    return str(next(iter(item.values())).get("_id"))


def _send_chunk(
    client: Elasticsearch, chunk: list[dict[str, Any]]
) -> list[tuple[bool, dict[str, Any]]]:
    """Per-action results of one chunk; items refused by a write block are sent again, in their
    order, until they land or ``WRITE_BLOCK_WAIT_S`` passes."""
    deadline = time.monotonic() + WRITE_BLOCK_WAIT_S
    done: list[tuple[bool, dict[str, Any]]] = []
    while True:
        results = list(
            helpers.streaming_bulk(
                client,
                chunk,
                chunk_size=CHUNK_SIZE,
                raise_on_error=False,
                raise_on_exception=True,
                max_retries=MAX_RETRIES,
                initial_backoff=1,
                max_backoff=30,
                yield_ok=True,
            )
        )
        blocked = {_item_id(item) for ok, item in results if not ok and _write_blocked(item)}
        if not blocked or time.monotonic() > deadline:
            return done + results
        done += [(ok, item) for ok, item in results if _item_id(item) not in blocked]
        chunk = [action for action in chunk if str(action.get("_id")) in blocked]
        time.sleep(WRITE_BLOCK_RETRY_S)


def _chunk_ids(chunk: list[dict[str, Any]]) -> set[str]:
    return {str(action.get("_id")) for action in chunk}


def _results(
    client: Elasticsearch, actions: Iterable[dict[str, Any]], threads: int
) -> Iterator[tuple[bool, dict[str, Any]]]:
    """Per-action results of ``actions`` sent in chunks, up to ``threads`` requests in flight.
    A chunk that shares an id with one in flight waits for it, so the later action still lands
    last (equal revisions: last write wins, as with one request at a time)."""
    pending: list[tuple[Future[list[tuple[bool, dict[str, Any]]]], set[str]]] = []
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="es-bulk") as pool:
        try:
            for chunk in chunked(actions, CHUNK_SIZE):
                ids = _chunk_ids(chunk)
                while pending and (
                    len(pending) >= threads or any(ids & busy for _, busy in pending)
                ):
                    yield from pending.pop(0)[0].result()
                pending.append((pool.submit(_send_chunk, client, chunk), ids))
            while pending:
                yield from pending.pop(0)[0].result()
        finally:
            for future, _ in pending:
                future.cancel()


def run_bulk(
    client: Elasticsearch,
    actions: Iterable[dict[str, Any]],
    report: WriteReport,
    threads: int = BULK_THREADS,
) -> WriteReport:
    """Send ``actions``; 409 version conflicts count as stale skips, other failures as errors."""
    with backend_errors("writing documents"):
        for ok, item in _results(client, actions, threads):
            if ok:
                report.written += 1
                continue
            status, reason = _reason(item)
            doc_id = str(next(iter(item.values())).get("_id"))
            if status == 409:
                report.skipped_stale += 1
            else:
                report.fail(doc_id, reason)
    return report


def delete_documents(client: Elasticsearch, index: str, ids: Iterable[str]) -> int:
    """Delete by id; returns how many existed (missing ids are not errors)."""
    actions = ({"_op_type": "delete", "_index": index, "_id": doc_id} for doc_id in ids)
    deleted = 0
    with backend_errors("deleting documents"):
        for ok, item in _results(client, actions, threads=1):
            result = next(iter(item.values()))
            if ok and result.get("result") == "deleted":
                deleted += 1
            elif not ok and result.get("status") != 404:
                raise RuntimeError(f"delete of {result.get('_id')} failed: {_reason(item)[1]}")
    return deleted
