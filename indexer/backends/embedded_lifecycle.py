"""The embedded backend's index lifecycle: the SQLite file behind the alias pointer is created,
inspected, rebuilt (``embedded_reindex``), cleaned up and backed up (``embedded_backup``)."""

from __future__ import annotations

from pathlib import Path

from indexer.analysis import ANALYSIS
from indexer.backends import embedded_alias, embedded_backup, embedded_reindex
from indexer.backends.base import (
    BackupOutcome,
    DocumentRewrite,
    LifecycleError,
    LifecycleLocked,
    LifecycleProgress,
    LifecycleStatus,
    ReindexOutcome,
)
from indexer.backends.embedded import EmbeddedBackend
from indexer.settings import Settings


class EmbeddedLifecycle:
    """``IndexLifecycle`` over ``settings.embedded_path`` and its physical files."""

    backend = "embedded"
    discardable = True  # the data dir is mapsearch's own: the demo may start it afresh

    def __init__(self, alias: Path, drain_seconds: float = 2.0) -> None:
        self.alias = alias
        self.name = str(alias)
        self.drain_seconds = drain_seconds

    @classmethod
    def open(cls, settings: Settings) -> EmbeddedLifecycle:
        """The lifecycle of the index the settings name."""
        return cls(settings.embedded_path)

    def exists(self) -> bool:
        """Whether the file behind the alias exists (opening a missing one would create it)."""
        return embedded_alias.resolve(self.alias).exists()

    def create(self, mapping_version: int | None = None, dims: int | None = None) -> str | None:
        """Create the empty file with its schema; None when it exists (dims come with vectors)."""
        self._one_layout(mapping_version)
        if self.exists():
            return None
        path = embedded_alias.resolve(self.alias)
        EmbeddedBackend(path).close()
        return str(path)

    def status(self) -> LifecycleStatus:
        """Alias, physical file, counts, model, leftover files, running reindex."""
        leftovers = [str(path) for path in embedded_alias.leftovers(self.alias) if path.exists()]
        running = embedded_alias.lock_holder(self.alias)
        if not self.exists():
            return LifecycleStatus(
                self.backend,
                str(self.alias),
                None,
                0,
                0,
                None,
                None,
                None,
                None,
                leftovers,
                running,
            )
        backend = EmbeddedBackend(embedded_alias.resolve(self.alias))
        try:
            info = backend.info()
        finally:
            backend.close()
        return LifecycleStatus(
            backend=self.backend,
            alias=str(self.alias),
            current=info.physical,
            documents=info.documents,
            with_vectors=info.with_vectors,
            mapping_version=None,
            analysis=ANALYSIS,  # terms analysed in Python, the same as Elasticsearch v2+
            model_id=info.model_id,
            dims=info.dims,
            leftovers=leftovers,
            reindex_running=running,
        )

    def reindex(
        self,
        mapping_version: int | None = None,
        progress: LifecycleProgress | None = None,
        rewrite: DocumentRewrite | None = None,
        model: tuple[str, int] | None = None,
        page_size: int | None = None,
    ) -> ReindexOutcome:
        """Copy (or re-embed) into a new file, carrying writes made meanwhile; swap the pointer.
        ``model`` needs no recording here: the new file takes it from the vectors written."""
        self._one_layout(mapping_version)
        return embedded_reindex.reindex_file(
            self.alias,
            rewrite=rewrite,
            progress=progress,
            page_size=page_size or embedded_reindex.PAGE_SIZE,
            drain_seconds=self.drain_seconds,
        )

    def cleanup(self) -> list[str]:
        """Delete physical files the pointer does not name (refused while a reindex runs)."""
        holder = embedded_alias.lock_holder(self.alias)
        if holder is not None:
            raise LifecycleLocked(
                f"a reindex is running ({holder['owner']}); cleanup would delete its new file"
            )
        removed = [path for path in embedded_alias.leftovers(self.alias) if path.exists()]
        for path in removed:
            embedded_alias.delete_physical(path)
        return [str(path) for path in removed]

    def discard(self) -> None:
        """Delete the file behind the alias and the pointer."""
        embedded_alias.delete_physical(embedded_alias.resolve(self.alias))
        embedded_alias.pointer_path(self.alias).unlink(missing_ok=True)

    def backup(self, location: str, name: str | None = None) -> BackupOutcome:
        """SQLite online backup of the serving file into ``location/<name>/``."""
        return embedded_backup.backup_file(self.alias, Path(location), name)

    def restore(self, location: str, name: str | None = None) -> BackupOutcome:
        """A checked backup copied into a new physical file and swapped in."""
        return embedded_backup.restore_file(self.alias, Path(location), name, self.drain_seconds)

    def close(self) -> None:
        """Nothing stays open between calls."""

    @staticmethod
    def _one_layout(mapping_version: int | None) -> None:
        if mapping_version not in (None, 1):
            raise LifecycleError(
                "the embedded backend has one layout; --mapping-version is for Elasticsearch"
            )
