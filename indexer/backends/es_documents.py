"""The mapping between an IndexDocument and its Elasticsearch ``_source`` (in the layout of the
index's mapping version), and between search responses and ListHits / facet counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import orjson

from es_mappings import latest_version
from indexer.analysis import analyze
from indexer.backends.base import ListHit
from indexer.backends.es_fields import (
    MAP_TEXT_SINCE_VERSION,
    REGIONS_SINCE_VERSION,
    TERMS_SINCE_VERSION,
    FieldMap,
)
from indexer.map_text_match import map_text_terms
from indexer.records import IndexDocument, MapRecord
from indexer.region_set import RegionSet
from indexer.search_surface import FACETS_BY_NAME, MAP_TEXT_FIELD, TERMS_FACETS, keyword_fields


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def facet_values(record: MapRecord) -> dict[str, Any]:
    """The keyword field of each terms facet: a list of distinct values, or one value."""
    fields: dict[str, Any] = {}
    for facet in TERMS_FACETS:
        values = _unique(facet.values_of(record))
        fields[facet.field] = values if facet.multi_valued else next(iter(values), None)
    return fields


def keyword_source(record: MapRecord, mapping_version: int) -> dict[str, Any]:
    """The keyword fields in the layout of ``mapping_version``: v1 the text itself (analysed
    by the index), v2+ ``terms`` analysed here (``indexer.analysis``)."""
    texts = keyword_fields(record)
    if mapping_version < TERMS_SINCE_VERSION:
        return texts  # map text came later (MAP_TEXT_SINCE_VERSION), analysed like the rest
    terms = {k: " ".join(analyze(v)) for k, v in texts.items()}
    if mapping_version >= MAP_TEXT_SINCE_VERSION:
        terms[MAP_TEXT_FIELD] = map_text_terms(record)
    return {"title": record.title, "terms": terms}


def to_source(
    doc: IndexDocument, mapping_version: int | None = None, *, for_json: bool = False
) -> dict[str, Any]:
    """The indexed fields of one document in the layout of ``mapping_version`` (default: the
    newest); the full record rides along unindexed. ``for_json`` (for :func:`source_json`):
    vectors stay float32 arrays and the record is its JSON text (an ``orjson.Fragment``, written
    by pydantic in one pass: a record with ~175 map words as dicts cost a third of the encoding)
    instead of lists and dicts."""
    record = doc.record
    source: dict[str, Any] = {
        "id": record.id,
        "item_id": record.item_id or record.id,
        "revision": record.revision,
        **keyword_source(record, mapping_version or latest_version()),
        **facet_values(record),
        "year_start": record.year_start,
        "year_end": record.year_end,
        "has_image": record.shows_image,
        "image_hash": doc.image_hash,
        "indexed_at": doc.indexed_at.isoformat(),
        "record": (
            orjson.Fragment(record.model_dump_json())
            if for_json
            else record.model_dump(mode="json")
        ),
    }
    if record.extent is not None:
        extent = record.extent
        lat, lon = extent.centroid
        source["extent"] = {
            "west": extent.west,
            "south": extent.south,
            "east": extent.east,
            "north": extent.north,
            "crosses_antimeridian": extent.west > extent.east,
            "centroid": {"lat": lat, "lon": lon},
        }
    if doc.vector is not None:
        vector = np.asarray(doc.vector, dtype=np.float32)
        source["vector"] = vector if for_json else vector.tolist()
        source["model_id"] = doc.model_id
        version = mapping_version or latest_version()
        if doc.regions is not None and version >= REGIONS_SINCE_VERSION:
            source["region_grid"] = doc.regions.grid
            source["regions"] = [
                {
                    "vector": vector if for_json else vector.tolist(),
                    **dict(zip("xywh", box.tolist(), strict=True)),
                    "level": int(level),
                }
                for vector, box, level in zip(
                    doc.regions.vectors.astype(np.float32),
                    doc.regions.boxes,
                    doc.regions.levels,
                    strict=True,
                )
            ]
    return source


def _finite_vector(vector: Any) -> np.ndarray:
    """``vector`` as a contiguous float32 array; ValueError unless one finite 1-d array."""
    array = np.ascontiguousarray(vector, dtype=np.float32)
    if array.ndim != 1 or not np.isfinite(array).all():
        raise ValueError("vector must be one finite 1-d array")
    return array


def vector_json(vector: Any) -> str:
    """A float32 vector as a JSON array of each value's shortest exact float32 form."""
    return orjson.dumps(_finite_vector(vector), option=orjson.OPT_SERIALIZE_NUMPY).decode()


def source_json(doc: IndexDocument, mapping_version: int | None = None) -> str:
    """:func:`to_source` as JSON text for bulk bodies (text passes through the client's serializer
    untouched), written by orjson in C: each float32 in its shortest exact form (~40% shorter
    than ``json.dumps`` of ``tolist()``, which widens them to 17 digits), ~10x cheaper than
    formatting 512 floats per vector in Python. Non-finite vectors raise ValueError (orjson would
    write null); the record is already JSON-safe (``model_dump(mode="json")``)."""
    source = to_source(doc, mapping_version, for_json=True)
    if "vector" in source:
        source["vector"] = _finite_vector(source["vector"])
    for region in source.get("regions") or ():
        region["vector"] = _finite_vector(region["vector"])
    return orjson.dumps(source, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def from_source(source: dict[str, Any]) -> IndexDocument:
    """Rebuild the IndexDocument stored by :func:`to_source`."""
    vector = source.get("vector")
    return IndexDocument(
        record=MapRecord.model_validate(source["record"]),
        vector=None if vector is None else np.asarray(vector, dtype=np.float32),
        model_id=source.get("model_id"),
        image_hash=source.get("image_hash"),
        indexed_at=datetime.fromisoformat(source["indexed_at"]),
        regions=regions_from_source(source),
    )


def regions_from_source(source: dict[str, Any]) -> RegionSet | None:
    """The RegionSet stored by :func:`to_source` (None when the map was never tiled)."""
    grid = source.get("region_grid")
    if grid is None:
        return None
    regions = source.get("regions") or []
    if not regions:
        return RegionSet.empty(str(grid))
    return RegionSet.build(
        str(grid),
        [(int(r["x"]), int(r["y"]), int(r["w"]), int(r["h"])) for r in regions],
        [int(r["level"]) for r in regions],
        [r["vector"] for r in regions],
    )


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _get_path(source: dict[str, Any], path: str) -> Any:
    value: Any = source
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def to_list_hit(hit: dict[str, Any], fields: FieldMap, score: float) -> ListHit:
    """A search hit as the service needs it (id, score, item, year, title)."""
    source = hit.get("_source") or {}
    stored = hit.get("fields") or {}

    def value(path: str | None) -> Any:
        if path is None:
            return None
        return _first(stored[path]) if path in stored else _first(_get_path(source, path))

    doc_id = str(value(fields.id) or hit.get("_id"))
    item_id = value(fields.item_id)
    year = value(fields.year_start)
    title = value(fields.title_docvalue) if fields.title_docvalue in stored else value(fields.title)
    return ListHit(
        id=doc_id,
        score=score,
        item_id=str(item_id) if item_id else doc_id,
        year_start=int(year) if year is not None else None,
        title=str(title or ""),
    )


def cosine_from_score(score: float) -> float:
    """ES reports cosine kNN hits as (1 + cos) / 2; the contract wants the cosine itself."""
    return 2.0 * score - 1.0


def parse_semantic(hits: list[dict[str, Any]], fields: FieldMap) -> list[ListHit]:
    """kNN hits as cosine-scored ListHits, best first, ties by id."""
    parsed = [to_list_hit(hit, fields, cosine_from_score(float(hit["_score"]))) for hit in hits]
    return sorted(parsed, key=lambda h: (-h.score, h.id))


def parse_keyword(hits: list[dict[str, Any]], fields: FieldMap) -> list[ListHit]:
    """BM25 hits in the order ES sorted them (score desc, id asc)."""
    return [to_list_hit(hit, fields, float(hit["_score"])) for hit in hits]


def parse_facets(aggregations: dict[str, Any], facet_size: int) -> dict[str, list[tuple[str, int]]]:
    """Facet buckets as (value, count), count desc then value asc, at most ``facet_size``."""
    facets: dict[str, list[tuple[str, int]]] = {}
    for name, agg in aggregations.items():
        counts: list[tuple[str, int]] = []
        buckets = agg.get("buckets", [])
        if isinstance(buckets, dict):  # a ``filters`` aggregation (found_in): keyed buckets
            buckets = [{**bucket, "key": key} for key, bucket in buckets.items()]
        for bucket in buckets:
            if FACETS_BY_NAME[name].kind == "decade":
                value = str(int(bucket["key"]))
            else:
                value = str(bucket.get("key_as_string", bucket["key"]))
            if bucket["doc_count"] > 0:
                counts.append((value, int(bucket["doc_count"])))
        counts.sort(key=lambda pair: (-pair[1], pair[0]))
        facets[name] = counts[:facet_size]
    return facets
