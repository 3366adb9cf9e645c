"""Full reindex after a model change: every document re-embedded with the new model into a new
physical index by the backend's lifecycle (writes made meanwhile carried over), verified, then one
atomic swap. The old index serves until the swap and is left untouched by a failed run. A
same-model reindex never comes here: it copies vectors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from indexer.backends import open_lifecycle
from indexer.pipeline import IndexReport, build_documents, load_images
from indexer.records import IndexDocument
from indexer.settings import Settings

if TYPE_CHECKING:
    from indexer.embedder import Embedder

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (documents written to the new index, total)


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
    """Re-embed the whole index of the configured backend with ``embedder`` and swap it in: the
    backend's lifecycle copies page by page through ``reembed_documents`` and carries over the
    writes made meanwhile."""
    report = IndexReport()

    def reembed_page(docs: list[IndexDocument]) -> list[IndexDocument]:
        return reembed_documents(docs, settings=settings, embedder=embedder, report=report)

    lifecycle = open_lifecycle(settings)
    try:
        outcome = lifecycle.reindex(
            progress=progress,
            rewrite=reembed_page,
            model=(embedder.model_id, embedder.dims),
            page_size=settings.pipeline_batch_size,
        )
    finally:
        lifecycle.close()
    log.info(
        "re-embedded %d documents with %s into %s",
        outcome.documents,
        embedder.model_id,
        outcome.new_index,
    )
    return RebuildResult(
        outcome.old_index or "", outcome.new_index, outcome.documents, embedder.model_id, report
    )
