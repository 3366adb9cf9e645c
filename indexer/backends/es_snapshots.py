"""Backups of the Elasticsearch index as snapshots in a filesystem repository (a folder under every
node's ``path.repo``): the physical index behind the alias is snapshotted while it serves; a
restore brings a snapshot back under a new physical name, checks its count, and swaps the alias."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError

from indexer.backends import es_lifecycle
from indexer.backends.base import BackupOutcome, LifecycleError
from indexer.backends.es_client import backend_errors
from indexer.backends.es_reindex import reindex_lock


def repository_name(prefix: str) -> str:
    """The snapshot repository this prefix registers."""
    return f"{prefix}-backups"


def snapshot_name(now: datetime | None = None) -> str:
    """A default snapshot name: the UTC time, sortable (snapshot names are lower case)."""
    return (now or datetime.now(UTC)).strftime("mapsearch-%Y%m%dt%H%M%S")


def register_repository(client: Elasticsearch, prefix: str, location: str) -> str:
    """Register (or re-point) the prefix's ``fs`` repository at ``location``; returns its name."""
    name = repository_name(prefix)
    with backend_errors("registering the snapshot repository"):
        try:
            client.snapshot.create_repository(
                name=name, repository={"type": "fs", "settings": {"location": location}}
            )
        except ApiError as exc:
            raise LifecycleError(
                f"Elasticsearch refused the snapshot folder {location!r}: {_reason(exc)} (every "
                "node "
                "needs it under path.repo; scripts/services/elasticsearch.sh sets one)"
            ) from None
    return name


def _reason(exc: ApiError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", {})
    if isinstance(error, dict):
        cause = (error.get("root_cause") or [error])[0]
        return str(cause.get("reason") or error.get("type") or exc)
    return str(error or exc)


def create_snapshot(
    client: Elasticsearch, prefix: str, location: str, name: str | None = None
) -> BackupOutcome:
    """Snapshot the index behind the alias into ``location`` and wait for it to finish."""
    index = es_lifecycle.current_index(client, prefix)
    if index is None:
        raise LifecycleError(f"no index behind {es_lifecycle.alias_name(prefix)} to back up")
    repository = register_repository(client, prefix, location)
    name = name or snapshot_name()
    with backend_errors("counting documents"):
        documents = int(client.count(index=index)["count"])
    with backend_errors("taking a snapshot"):
        try:
            response = client.snapshot.create(
                repository=repository,
                snapshot=name,
                indices=index,
                include_global_state=False,
                wait_for_completion=True,
                metadata={"prefix": prefix, "index": index, "documents": documents},
            )
        except ApiError as exc:
            raise LifecycleError(f"snapshot {name} failed: {_reason(exc)}") from None
    state = response.get("snapshot", {}).get("state")
    if state != "SUCCESS":
        raise LifecycleError(f"snapshot {name} ended {state}: {response.get('snapshot')}")
    return BackupOutcome(location, name, documents, index)


def _choose(
    client: Elasticsearch, repository: str, prefix: str, name: str | None
) -> dict[str, Any]:
    """The named snapshot, or the newest successful one of this prefix."""
    with backend_errors("listing snapshots"):
        try:
            snapshots = client.snapshot.get(repository=repository, snapshot=name or "_all")
        except NotFoundError:
            raise LifecycleError(f"no snapshot named {name} in this repository") from None
    found = [
        s
        for s in snapshots.get("snapshots", [])
        if s.get("state") == "SUCCESS" and (s.get("metadata") or {}).get("prefix") == prefix
    ]
    if not found:
        raise LifecycleError(
            f"no snapshot of {es_lifecycle.alias_name(prefix)} in this repository"
            + (f" named {name}" if name else "")
        )
    return max(found, key=lambda s: (int(s.get("start_time_in_millis", 0)), s["snapshot"]))


def restore_snapshot(
    client: Elasticsearch,
    prefix: str,
    location: str,
    name: str | None = None,
    drain_seconds: float = 2.0,
) -> BackupOutcome:
    """Restore a snapshot under a new physical name, check its count, swap the alias to it."""
    repository = register_repository(client, prefix, location)
    snapshot = _choose(client, repository, prefix, name)
    metadata = snapshot.get("metadata") or {}
    source_index = str(metadata.get("index") or snapshot["indices"][0])
    parsed = es_lifecycle.parse_physical(source_index)
    new = es_lifecycle.physical_name(prefix, parsed[1] if parsed else 1)
    with reindex_lock(client, prefix):
        old = es_lifecycle.current_index(client, prefix)
        try:
            with backend_errors("restoring a snapshot"):
                try:
                    client.snapshot.restore(
                        repository=repository,
                        snapshot=snapshot["snapshot"],
                        indices=source_index,
                        rename_pattern=".+",
                        rename_replacement=new,
                        include_aliases=False,
                        include_global_state=False,
                        wait_for_completion=True,
                    )
                except ApiError as exc:
                    raise LifecycleError(
                        f"restoring {snapshot['snapshot']} failed: {_reason(exc)}"
                    ) from None
                client.cluster.health(index=new, wait_for_status="yellow", timeout="60s")
                client.indices.refresh(index=new)
                documents = int(client.count(index=new)["count"])
            if documents != int(metadata.get("documents", documents)):
                raise LifecycleError(
                    f"snapshot {snapshot['snapshot']} restored {documents} documents, "
                    f"it recorded {metadata.get('documents')}"
                )
            es_lifecycle.point_alias(client, prefix, new, old)
        except BaseException:
            es_lifecycle.delete_index(client, new)
            raise
    if old is not None:
        time.sleep(drain_seconds)
        es_lifecycle.delete_index(client, old)
    return BackupOutcome(location, str(snapshot["snapshot"]), documents, new)
