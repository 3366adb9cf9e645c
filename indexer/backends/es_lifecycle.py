"""Versioned physical indices behind one alias: ``<prefix>-maps-v<N>-<timestamp>`` →
``<prefix>-maps``. Creating them from ``es_mappings``, reading their ``_meta``, swapping the
alias atomically, and removing leftovers. The reindex itself lives in ``es_reindex``."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

import es_mappings
from indexer.analysis import ANALYSIS
from indexer.backends.es_client import backend_errors
from indexer.backends.es_fields import TERMS_SINCE_VERSION

BBQ_MIN_DIMS = 64
_PHYSICAL = re.compile(r"^(?P<prefix>.+)-maps-v(?P<version>\d+)-(?P<stamp>\d{8}t\d{12})$")


def alias_name(prefix: str) -> str:
    """The stable name every reader and writer uses."""
    return f"{prefix}-maps"


def physical_name(prefix: str, version: int, now: datetime | None = None) -> str:
    """A new physical index name carrying mapping version
    and creation time (µs: names never repeat)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dt%H%M%S%f")
    return f"{prefix}-maps-v{version}-{stamp}"


def parse_physical(name: str) -> tuple[str, int] | None:
    """(prefix, mapping version) of a physical index name, or None for other indices."""
    match = _PHYSICAL.match(name)
    return (match["prefix"], int(match["version"])) if match else None


def has_analysis_common(client: Elasticsearch) -> bool:
    """Whether every node has the analysis-common module (stemming, ASCII folding)."""
    with backend_errors("reading node modules"):
        nodes = client.nodes.info(metric="plugins")["nodes"]
    return bool(nodes) and all(
        any(module.get("name") == "analysis-common" for module in node.get("modules", []))
        for node in nodes.values()
    )


def cluster_major_version(client: Elasticsearch) -> int:
    """The lowest major version among the nodes (the minimal distribution has no GET /)."""
    with backend_errors("reading node versions"):
        nodes = client.nodes.info(filter_path="nodes.*.version")["nodes"]
    return min(int(str(node["version"]).split(".")[0]) for node in nodes.values())


def index_definition(version: int, dims: int | None, english: bool) -> dict[str, Any]:
    """Settings + mappings of ``maps-v<version>.json`` for this model and cluster."""
    definition = es_mappings.load_mapping(version)
    settings = copy.deepcopy(definition["settings"])
    mappings = copy.deepcopy(definition["mappings"])
    properties = mappings["properties"]
    if dims is not None:
        properties["vector"]["dims"] = dims  # else ES takes it from the first vector
        if "regions" in properties:
            properties["regions"]["properties"]["vector"]["dims"] = dims
    vector_fields = [properties["vector"]]
    if "regions" in properties:
        vector_fields.append(properties["regions"]["properties"]["vector"])
    for field in vector_fields:
        options = field.get("index_options", {})
        if str(options.get("type", "")).startswith("bbq_") and (
            dims is None or dims < BBQ_MIN_DIMS
        ):
            # ES refuses binary quantization below 64 dims (and a dims-less mapping may get
            # fewer): the same structure with int8 codes, as ES's own default does for small
            # vectors
            options["type"] = "int8_" + options["type"].removeprefix("bbq_")
    english = english and "english_analysis" in definition  # v2+ analyse in Python instead
    if english:
        extra = definition["english_analysis"]
        settings["analysis"].setdefault("analyzer", {}).update(extra["analyzer"])
        for name in extra["text_fields"]:
            properties[name].setdefault("fields", {}).update(copy.deepcopy(extra["subfield"]))
    mappings["_meta"] = {
        **mappings.get("_meta", {}),
        "mapping_version": version,
        "analysis": "english"
        if english
        else ("standard" if version < TERMS_SINCE_VERSION else ANALYSIS),
    }
    if dims is not None:
        mappings["_meta"]["dims"] = dims
    return {"settings": settings, "mappings": mappings}


# A new index is filled from data that still exists elsewhere (the catalogue, the old index), so a
# crash mid-load only means loading again: no refreshes, no replicas, and a translog fsynced every
# 5 s and flushed rarely instead of fsynced per bulk request. ``restore_settings`` undoes all of it.
BULK_LOAD_SETTINGS: dict[str, Any] = {
    "refresh_interval": "-1",
    "number_of_replicas": 0,
    "translog.durability": "async",
    "translog.flush_threshold_size": "2gb",
}


def create_index(
    client: Elasticsearch,
    prefix: str,
    version: int | None = None,
    dims: int | None = None,
    bulk_load: bool = False,
) -> str:
    """Create a new physical index (not yet behind the
    alias); ``bulk_load``: ``BULK_LOAD_SETTINGS``."""
    version = version or es_mappings.latest_version()
    definition = index_definition(version, dims, has_analysis_common(client))
    if cluster_major_version(client) >= 9:
        # 9.x leaves vectors out of _source by default; fetch and reindex read them from there
        definition["settings"]["index.mapping.exclude_source_vectors"] = False
    if bulk_load:
        definition["settings"].update(BULK_LOAD_SETTINGS)
    name = physical_name(prefix, version)
    with backend_errors("creating an index"):
        client.indices.create(
            index=name, settings=definition["settings"], mappings=definition["mappings"]
        )
        client.cluster.health(index=name, wait_for_status="yellow", timeout="30s")
    return name


def restore_settings(client: Elasticsearch, index: str, replicas: int | None = None) -> None:
    """Undo ``bulk_load``: the mapping file's (or default) settings, then flush and refresh.
    ``replicas``: keep the replica count an operator gave the index this one replaces."""
    _, version = parse_physical(index) or ("", es_mappings.latest_version())
    settings = es_mappings.load_mapping(version)["settings"]
    with backend_errors("restoring index settings"):
        client.indices.put_settings(
            index=index,
            settings={
                "refresh_interval": settings["refresh_interval"],
                "number_of_replicas": (
                    settings["number_of_replicas"] if replicas is None else replicas
                ),
                # back to the defaults (or the mapping file's values): fsync per request
                "translog.durability": settings.get("translog.durability"),
                "translog.flush_threshold_size": settings.get("translog.flush_threshold_size"),
            },
        )
        client.indices.flush(index=index)
        client.indices.refresh(index=index)


def replica_count(client: Elasticsearch, index: str) -> int:
    """The number of replicas an index has now."""
    with backend_errors("reading index settings"):
        found = client.indices.get_settings(index=index, name="index.number_of_replicas")
    return int(next(iter(found.values()))["settings"]["index"]["number_of_replicas"])


def current_index(client: Elasticsearch, prefix: str) -> str | None:
    """The physical index behind the alias, or None when the alias does not exist yet."""
    with backend_errors("reading the alias"):
        try:
            indices = list(client.indices.get_alias(name=alias_name(prefix)).keys())
        except NotFoundError:
            return None
    if len(indices) != 1:
        raise RuntimeError(
            f"alias {alias_name(prefix)} points at {len(indices)} indices: {indices}"
        )
    return indices[0]


def point_alias(client: Elasticsearch, prefix: str, new_index: str, old_index: str | None) -> None:
    """Move the alias to ``new_index`` in one atomic cluster-state update."""
    alias = alias_name(prefix)
    actions: list[dict[str, Any]] = []
    if old_index is not None:
        actions.append({"remove": {"index": old_index, "alias": alias, "must_exist": True}})
    actions.append({"add": {"index": new_index, "alias": alias, "is_write_index": True}})
    with backend_errors("swapping the alias"):
        client.indices.update_aliases(actions=actions)


def ensure_alias(client: Elasticsearch, prefix: str, dims: int | None = None) -> str:
    """The index behind the alias, creating the first one when there is none."""
    existing = current_index(client, prefix)
    if existing is not None:
        return existing
    index = create_index(client, prefix, dims=dims)
    try:
        point_alias(client, prefix, index, None)
    except Exception:
        delete_index(client, index)
        winner = current_index(client, prefix)  # another writer created the first index meanwhile
        if winner is None:
            raise
        return winner
    return index


def index_meta(client: Elasticsearch, index: str) -> dict[str, Any]:
    """The ``_meta`` of an index's mapping (mapping version, analysis, model id, dims)."""
    with backend_errors("reading the mapping"):
        mapping = client.indices.get_mapping(index=index)
    return dict(next(iter(mapping.values()))["mappings"].get("_meta", {}))


def update_meta(client: Elasticsearch, index: str, **values: Any) -> None:
    """Merge ``values`` into the index's ``_meta`` (put_mapping replaces it whole)."""
    meta = {**index_meta(client, index), **values}
    with backend_errors("updating the mapping meta"):
        client.indices.put_mapping(index=index, meta=meta)


def delete_index(client: Elasticsearch, index: str) -> None:
    """Delete one physical index; a missing one is fine."""
    with backend_errors("deleting an index"):
        client.indices.delete(index=index, ignore_unavailable=True)


def physical_indices(client: Elasticsearch, prefix: str) -> list[str]:
    """Every physical index of this prefix, oldest first."""
    with backend_errors("listing indices"):
        names = list(client.indices.get(index=f"{prefix}-maps-v*", expand_wildcards="all").keys())
    return sorted(n for n in names if (parsed := parse_physical(n)) and parsed[0] == prefix)


@dataclass(frozen=True)
class IndexStatus:
    """What ``mapsearch index status`` prints."""

    alias: str
    current: str | None
    documents: int
    with_vectors: int
    meta: dict[str, Any]
    leftovers: list[str]


def index_status(client: Elasticsearch, prefix: str) -> IndexStatus:
    """Alias, live index, counts, _meta and physical indices not behind the alias."""
    current = current_index(client, prefix)
    documents = with_vectors = 0
    meta: dict[str, Any] = {}
    if current is not None:
        with backend_errors("counting documents"):
            documents = int(client.count(index=current)["count"])
            with_vectors = int(
                client.count(index=current, query={"exists": {"field": "vector"}})["count"]
            )
        meta = index_meta(client, current)
    leftovers = [n for n in physical_indices(client, prefix) if n != current]
    return IndexStatus(alias_name(prefix), current, documents, with_vectors, meta, leftovers)


def cleanup(client: Elasticsearch, prefix: str) -> list[str]:
    """Delete physical indices not behind the alias (left by failed or interrupted reindexes)."""
    current = current_index(client, prefix)
    removed = [n for n in physical_indices(client, prefix) if n != current]
    for name in removed:
        delete_index(client, name)
    return removed
