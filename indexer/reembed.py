"""Full reindex after a model change: every document re-embedded with the new model into a new
physical index (Elasticsearch: a new index behind the alias; embedded: a new SQLite file behind the
pointer), counts verified, then one atomic swap. The old index serves until the swap and is left
untouched by a failed run. A same-model reindex never comes here: it copies vectors."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from indexer.pipeline import IndexReport, build_documents, load_images
from indexer.records import IndexDocument
from indexer.settings import Settings

if TYPE_CHECKING:
    from indexer.embedder import Embedder

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (documents written to the new index, total)


class RebuildError(RuntimeError):
    """The rebuild did not complete; the old index still serves."""


@dataclass
class RebuildResult:
    """What a finished model-change reindex did."""

    old_index: str
    new_index: str
    documents: int
    model_id: str
    report: IndexReport = field(default_factory=IndexReport)


def reembed_documents(
    docs: Sequence[IndexDocument], *, settings: Settings, embedder: Embedder, report: IndexReport
) -> list[IndexDocument]:
    """The documents with vectors of ``embedder``: reused where (image hash, model id) already
    match, else the image fetched and embedded; an image that fails leaves its document without a
    vector (reported), never with the old model's vector."""
    records = [doc.record for doc in docs]
    # Only this model's vectors may be kept: build_documents keeps a stored vector on failures.
    current = {
        doc.id: doc for doc in docs if doc.vector is not None and doc.model_id == embedder.model_id
    }
    images = load_images(records, settings)  # the hash decides reuse, so every image is read
    rebuilt = build_documents(
        records,
        current,
        settings=settings,
        embedder=embedder,
        with_images=True,
        report=report,
        images=images,
    )
    for new, old in zip(rebuilt, docs, strict=True):
        new.indexed_at = old.indexed_at
    report.seen += len(docs)
    report.indexed += len(rebuilt)
    return rebuilt


def rebuild_for_model(
    settings: Settings, embedder: Embedder, progress: Progress | None = None
) -> RebuildResult:
    """Re-embed the whole index of the configured backend with ``embedder`` and swap it in."""
    if settings.backend == "elasticsearch":
        return rebuild_elasticsearch(settings, embedder, progress)
    return rebuild_embedded(settings, embedder, progress)


def rebuild_elasticsearch(
    settings: Settings, embedder: Embedder, progress: Progress | None = None
) -> RebuildResult:
    """The lifecycle's copy (PIT scan → bulk → verify → alias swap) with a re-embed step per page."""
    from indexer.backends import es_reindex
    from indexer.backends.es_client import make_client
    from indexer.backends.es_documents import from_source, to_source

    report = IndexReport()

    def reembed_page(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
        docs = [from_source(hit["_source"]) for hit in hits]
        rebuilt = reembed_documents(docs, settings=settings, embedder=embedder, report=report)
        return [{**hit, "_source": to_source(doc)} for hit, doc in zip(hits, rebuilt, strict=True)]

    client = make_client(settings.es_url, settings.es_timeout)
    try:
        result = es_reindex.reindex(
            client,
            settings.es_prefix,
            progress=progress,
            page_size=settings.pipeline_batch_size,
            rewrite=reembed_page,
            meta={"model_id": embedder.model_id, "dims": embedder.dims},
        )
    finally:
        client.close()
    return RebuildResult(
        result.old_index or "", result.new_index, result.copied, embedder.model_id, report
    )


def rebuild_embedded(
    settings: Settings,
    embedder: Embedder,
    progress: Progress | None = None,
    drain_seconds: float = 2.0,
) -> RebuildResult:
    """A new SQLite file with the new model's vectors, verified, then the pointer swapped.

    The old file is deleted ``drain_seconds`` after the swap: every reader reopens on the new file
    at its next call (one stat of the pointer), and one midway keeps the old inode until it closes."""
    from indexer.backends import embedded_alias
    from indexer.backends.embedded import EmbeddedBackend

    alias = settings.embedded_path
    report = IndexReport()
    with embedded_alias.reindex_lock(alias):
        for leftover in embedded_alias.leftovers(
            alias
        ):  # from a crash after a swap, before its delete
            embedded_alias.delete_physical(leftover)
        old_path = embedded_alias.resolve(alias)
        if not old_path.exists():
            raise RebuildError(f"nothing to reindex: no index at {old_path}")
        new_path = embedded_alias.new_physical(alias)
        old = EmbeddedBackend(old_path)
        try:
            new = EmbeddedBackend(new_path)
            try:
                ids = old.document_ids()
                written = 0
                for start in range(0, len(ids), settings.pipeline_batch_size):
                    chunk = ids[start : start + settings.pipeline_batch_size]
                    stored = old.fetch(chunk)
                    docs = [stored[doc_id] for doc_id in chunk if doc_id in stored]
                    outcome = new.write(
                        reembed_documents(docs, settings=settings, embedder=embedder, report=report)
                    )
                    if outcome.failed:
                        raise RebuildError(
                            f"{outcome.failed} documents could not be written, e.g. {outcome.errors[:3]}"
                        )
                    written += outcome.written
                    if progress is not None:
                        progress(written, len(ids))
                in_new = new.info().documents
                if in_new != len(ids) or written != len(ids):
                    raise RebuildError(
                        f"count check failed: {len(ids)} documents, wrote {written}, new file holds {in_new}"
                    )
            finally:
                new.close()
            embedded_alias.swap(alias, new_path)
        except BaseException:
            embedded_alias.delete_physical(new_path)
            raise
        finally:
            old.close()
        log.info(
            "embedded index now %s (%d documents, model %s)",
            new_path.name,
            len(ids),
            embedder.model_id,
        )
        time.sleep(drain_seconds)
        embedded_alias.delete_physical(old_path)
    return RebuildResult(str(old_path), str(new_path), len(ids), embedder.model_id, report)
