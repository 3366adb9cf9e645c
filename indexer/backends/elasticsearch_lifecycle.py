"""The Elasticsearch backend's index lifecycle: versioned physical indices behind the alias
(``es_lifecycle``), the lossless copy/re-embed reindex (``es_reindex``), snapshots
(``es_snapshots``)."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from indexer.backends import es_lifecycle, es_reindex, es_snapshots
from indexer.backends.base import (
    BackupOutcome,
    DocumentRewrite,
    LifecycleError,
    LifecycleProgress,
    LifecycleStatus,
    ReindexOutcome,
)
from indexer.backends.es_client import make_client
from indexer.backends.es_documents import from_source, to_source
from indexer.settings import Settings


class ElasticsearchLifecycle:
    """``IndexLifecycle`` over ``<prefix>-maps`` and its physical indices."""

    backend = "elasticsearch"
    discardable = False  # the cluster may hold more than mapsearch wrote: never dropped wholesale

    def __init__(self, client: Elasticsearch, prefix: str, drain_seconds: float = 2.0) -> None:
        self.client = client
        self.prefix = prefix
        self.name = es_lifecycle.alias_name(prefix)
        self.drain_seconds = drain_seconds

    @classmethod
    def open(cls, settings: Settings) -> ElasticsearchLifecycle:
        """The lifecycle of the cluster and prefix the settings name."""
        return cls(make_client(settings.es_url, settings.es_timeout), settings.es_prefix)

    def exists(self) -> bool:
        """Whether the alias names an index."""
        return es_lifecycle.current_index(self.client, self.prefix) is not None

    def create(self, mapping_version: int | None = None, dims: int | None = None) -> str | None:
        """Create the first physical index and point the alias at it; None when it exists."""
        if self.exists():
            return None
        index = es_lifecycle.create_index(
            self.client, self.prefix, version=mapping_version, dims=dims
        )
        es_lifecycle.point_alias(self.client, self.prefix, index, None)
        return index

    def status(self) -> LifecycleStatus:
        """Alias, live index, counts, ``_meta``, leftovers, the reindex lock's holder."""
        state = es_lifecycle.index_status(self.client, self.prefix)
        return LifecycleStatus(
            backend=self.backend,
            alias=state.alias,
            current=state.current,
            documents=state.documents,
            with_vectors=state.with_vectors,
            mapping_version=state.meta.get("mapping_version"),
            analysis=state.meta.get("analysis"),
            model_id=state.meta.get("model_id"),
            dims=state.meta.get("dims"),
            leftovers=state.leftovers,
            reindex_running=es_reindex.lock_holder(self.client, self.prefix),
        )

    def reindex(
        self,
        mapping_version: int | None = None,
        progress: LifecycleProgress | None = None,
        rewrite: DocumentRewrite | None = None,
        model: tuple[str, int] | None = None,
        page_size: int | None = None,
    ) -> ReindexOutcome:
        """Copy (or re-embed) into a new index, carrying writes made meanwhile; swap the alias."""
        hits_rewrite = None
        if rewrite is not None:

            def hits_rewrite(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
                rebuilt = rewrite([from_source(hit["_source"]) for hit in hits])
                return [
                    {**hit, "_source": to_source(doc)}
                    for hit, doc in zip(hits, rebuilt, strict=True)
                ]

        result = es_reindex.reindex(
            self.client,
            self.prefix,
            mapping_version,
            progress=progress,
            page_size=page_size or es_reindex.PAGE_SIZE,
            drain_seconds=self.drain_seconds,
            rewrite=hits_rewrite,
            meta={"model_id": model[0], "dims": model[1]} if model else None,
        )
        return ReindexOutcome(
            old_index=result.old_index,
            new_index=result.new_index,
            copied=result.copied,
            mapping_version=result.mapping_version,
            caught_up=result.caught_up,
            deletes_caught_up=result.deletes_caught_up,
            documents=result.documents,
            writes_blocked_s=result.writes_blocked_s,
        )

    def cleanup(self) -> list[str]:
        """Delete physical indices behind no alias (refused while a reindex runs)."""
        return es_reindex.cleanup(self.client, self.prefix)

    def discard(self) -> None:
        """Refused: mapsearch does not drop a cluster's index wholesale."""
        raise LifecycleError(
            f"{es_lifecycle.alias_name(self.prefix)} is not discarded by mapsearch; "
            "use another prefix or delete it in Elasticsearch"
        )

    def backup(self, location: str, name: str | None = None) -> BackupOutcome:
        """A snapshot of the live index into the ``fs`` repository at ``location``."""
        return es_snapshots.create_snapshot(self.client, self.prefix, location, name)

    def restore(self, location: str, name: str | None = None) -> BackupOutcome:
        """A snapshot restored under a new physical name and swapped in behind the alias."""
        return es_snapshots.restore_snapshot(
            self.client, self.prefix, location, name, self.drain_seconds
        )

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()
