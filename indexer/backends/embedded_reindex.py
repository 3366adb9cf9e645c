"""Rebuild the embedded index into a new SQLite file behind the alias pointer, losing nothing:
copy (or re-embed) every document, carry over what writers changed meanwhile (rows whose ``seq``
passed the starting point, deletes included), then, holding the old file's write lock, the last
changes, an id-by-id check and the pointer swap. The old file serves until the swap."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from indexer.backends import embedded_alias
from indexer.backends.base import (
    DocumentRewrite,
    LifecycleError,
    LifecycleProgress,
    ReindexOutcome,
)
from indexer.backends.embedded import EmbeddedBackend

log = logging.getLogger(__name__)

PAGE_SIZE = 500
MAX_PASSES = 20  # catch-up passes while writers run; the last one runs with writes held
# A pass carrying fewer changes than this ends the passes before the hold: the last pass runs
# while writers wait (SQLite's busy timeout is 30 s; a model change re-embeds what it carries).
SETTLED = 50


@dataclass
class _Copier:
    """Writes pages of the old file's documents into the new file, counting what it carried."""

    old: EmbeddedBackend
    new: EmbeddedBackend
    rewrite: DocumentRewrite | None
    page_size: int
    copied: int = 0
    caught_up: int = 0
    deletes_caught_up: int = 0

    def write(self, ids: list[str]) -> int:
        """Copy these ids as they are now in the old file
        (absent ones are skipped); returns how many."""
        written = 0
        for start in range(0, len(ids), self.page_size):
            chunk = ids[start : start + self.page_size]
            stored = self.old.fetch(chunk)
            docs = [stored[doc_id] for doc_id in chunk if doc_id in stored]
            if self.rewrite is not None and docs:
                docs = self.rewrite(docs)
            outcome = self.new.write(docs)
            if outcome.failed:
                raise LifecycleError(
                    f"{outcome.failed} documents could not be written, e.g. {outcome.errors[:3]}"
                )
            written += outcome.written
        return written

    def copy_all(self, progress: LifecycleProgress | None) -> None:
        """The first full copy, page by page, with progress."""
        ids = self.old.document_ids()
        for start in range(0, len(ids), self.page_size):
            self.copied += self.write(ids[start : start + self.page_size])
            if progress is not None:
                progress(self.copied, len(ids))

    def carry(self, changes: list[tuple[str, bool]]) -> None:
        """Apply changed rows: deleted ones are deleted, the others copied again."""
        deleted = [doc_id for doc_id, gone in changes if gone]
        self.deletes_caught_up += self.new.delete(deleted) if deleted else 0
        self.caught_up += self.write([doc_id for doc_id, gone in changes if not gone])


def reindex_file(
    alias: Path,
    rewrite: DocumentRewrite | None = None,
    progress: LifecycleProgress | None = None,
    page_size: int = PAGE_SIZE,
    drain_seconds: float = 2.0,
) -> ReindexOutcome:
    """Rebuild the file behind ``alias`` into a new one and swap the pointer; see the module doc.

    The old file is deleted ``drain_seconds`` after the swap: every reader reopens on the new file
    at its next call (one stat of the pointer), and one midway keeps the old inode until it
    closes."""
    with embedded_alias.reindex_lock(alias):
        for leftover in embedded_alias.leftovers(alias):  # a crash after a swap, before its delete
            embedded_alias.delete_physical(leftover)
        old_path = embedded_alias.resolve(alias)
        if not old_path.exists():
            raise LifecycleError(f"nothing to reindex: no index at {old_path}")
        new_path = embedded_alias.new_physical(alias)
        swapped = False
        old = EmbeddedBackend(old_path)
        try:
            new = EmbeddedBackend(new_path)
            try:
                copier = _Copier(old, new, rewrite, page_size)
                since = old.change_seq()  # every change after this is carried over below
                copier.copy_all(progress)
                for _ in range(MAX_PASSES):
                    since, changes = old.changes_since(since)
                    copier.carry(changes)
                    if len(changes) < SETTLED:
                        break
                frozen_at = time.monotonic()
                with old.writes_frozen():
                    copier.carry(old.changes_since(since)[1])
                    in_old, in_new = set(old.document_ids()), set(new.document_ids())
                    if in_old != in_new:
                        raise LifecycleError(
                            f"id check failed: {len(in_old - in_new)} missing from the new file, "
                            f"{len(in_new - in_old)} extra"
                        )
                    embedded_alias.swap(alias, new_path)
                    swapped = True
                writes_held_s = time.monotonic() - frozen_at
            finally:
                new.close()
        except BaseException:
            if not swapped:
                embedded_alias.delete_physical(new_path)
            raise
        finally:
            old.close()
        log.info(
            "embedded index now %s (%d documents; %d writes and %d deletes carried over)",
            new_path.name,
            len(in_new),
            copier.caught_up,
            copier.deletes_caught_up,
        )
        time.sleep(drain_seconds)
        embedded_alias.delete_physical(old_path)
    return ReindexOutcome(
        old_index=str(old_path),
        new_index=str(new_path),
        copied=copier.copied,
        mapping_version=1,
        caught_up=copier.caught_up,
        deletes_caught_up=copier.deletes_caught_up,
        documents=len(in_new),
        writes_blocked_s=writes_held_s,
    )
