"""Attach to a library's existing catalogue index: a TOML config names the index and which of its
fields hold id, title, text, facets, years and the image; ``attach`` adds a ``dense_vector`` to
its mapping and writes ONLY the vector + model id into each document by partial update
(resumable), and ``AttachConfig.field_map`` lets the backend run the same hybrid search there."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from elasticsearch import Elasticsearch

from indexer.backends.base import WriteReport
from indexer.backends.es_bulk import run_bulk
from indexer.backends.es_client import backend_errors
from indexer.backends.es_fields import FieldMap
from indexer.backends.es_scan import scan_pages
from indexer.error_samples import keep_sample
from indexer.images import load_image
from indexer.records import ImageRef, IndexDocument, MapRecord, Place
from indexer.search_surface import TERMS_FACETS

if TYPE_CHECKING:
    from indexer.embedder import Embedder
    from indexer.settings import Settings

BATCH_SIZE = 32
# The facets a catalogue can map to its own keyword fields (the computed ones cannot).
FACET_NAMES = tuple(facet.name for facet in TERMS_FACETS)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AttachConfig:
    """Where things are in the catalogue index (see docs/elasticsearch.md for the TOML)."""

    index: str
    title_field: str
    text_fields: dict[str, float]
    image_field: str
    image_key: str | None = (
        None  # the image field is a JSON object (GeoBlacklight dct_references_s): take this key
    )
    image_is_iiif: bool = False  # the value is a IIIF Image API service, not an image URL
    id_field: str = "id"  # a keyword field equal to the document _id (ES cannot sort on _id)
    item_id_field: str | None = None
    title_sort_field: str | None = None
    facets: dict[str, str] = field(default_factory=dict)  # facet name -> keyword field
    year_start_field: str | None = None
    year_end_field: str | None = None
    vector_field: str = "mapsearch_vector"
    model_field: str = "mapsearch_model_id"
    m: int = 16
    ef_construction: int = 100

    def field_map(self) -> FieldMap:
        """The query builders' view of this index."""
        return FieldMap(
            id=self.id_field,
            item_id=self.item_id_field,
            title=self.title_field,
            title_sort=self.title_sort_field,
            title_docvalue=None,  # the catalogue's title may have no doc values: read _source
            text_fields=dict(self.text_fields),
            terms={name: field for name, field in self.facets.items() if name in FACET_NAMES},
            year_start=self.year_start_field,
            year_end=self.year_end_field or self.year_start_field,
            has_image=None,
            extent_prefix=None,
            vector=self.vector_field,
            model_id=self.model_field,
        )


def load_attach_config(path: Path) -> AttachConfig:
    """Parse and check the TOML; a missing or wrong key is a ValueError naming it."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from exc
    return parse_attach_config(data, str(path))


def parse_attach_config(data: dict[str, Any], where: str = "attach config") -> AttachConfig:
    """An AttachConfig from already-parsed TOML tables
    ``index``, ``fields``, ``facets``, ``vector``."""
    index = data.get("index", {})
    fields = data.get("fields", {})
    vector = data.get("vector", {})
    for table, key in (
        ("index", "name"),
        ("fields", "id"),
        ("fields", "title"),
        ("fields", "text"),
        ("fields", "image"),
    ):
        if not data.get(table, {}).get(key):
            raise ValueError(f"{where}: [{table}] {key} is required")
    text = fields["text"]
    if isinstance(text, list):
        text = {name: 1.0 for name in text}
    if not isinstance(text, dict) or not all(
        isinstance(w, int | float) and w > 0 for w in text.values()
    ):
        raise ValueError(
            f"{where}: [fields] text must be a list of fields or a table of field = weight"
        )
    facets = data.get("facets", {})
    unknown = sorted(set(facets) - set(FACET_NAMES))
    if unknown:
        raise ValueError(
            f"{where}: [facets] {', '.join(unknown)}: unknown facet (known: "
            f"{', '.join(FACET_NAMES)})"
        )
    return AttachConfig(
        index=str(index["name"]),
        id_field=str(fields["id"]),
        item_id_field=fields.get("item_id"),
        title_field=str(fields["title"]),
        title_sort_field=fields.get("title_sort"),
        text_fields={str(k): float(v) for k, v in text.items()},
        image_field=str(fields["image"]),
        image_key=fields.get("image_key"),
        image_is_iiif=bool(fields.get("image_is_iiif", False)),
        facets={str(k): str(v) for k, v in facets.items()},
        year_start_field=fields.get("year_start"),
        year_end_field=fields.get("year_end"),
        vector_field=str(vector.get("field", "mapsearch_vector")),
        model_field=str(vector.get("model_field", "mapsearch_model_id")),
        m=int(vector.get("m", 16)),
        ef_construction=int(vector.get("ef_construction", 100)),
    )


@dataclass
class AttachReport:
    """What one attach run did."""

    model_id: str
    embedded: int = 0
    already_done: int = 0
    without_image: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def fail(self, doc_id: str, reason: str) -> None:
        """Count a failure, keeping a bounded sample."""
        self.failed += 1
        keep_sample(self.errors, f"{doc_id}: {reason}")


def ensure_vector_field(client: Elasticsearch, config: AttachConfig, dims: int) -> None:
    """Add the vector and model-id fields to the catalogue
    mapping (an existing compatible one is kept)."""
    with backend_errors("reading the catalogue mapping"):
        mapping = client.indices.get_mapping(index=config.index)
    for index_mapping in mapping.values():
        existing = index_mapping["mappings"].get("properties", {}).get(config.vector_field)
        if existing is not None and (
            existing.get("type") != "dense_vector" or existing.get("dims") not in (None, dims)
        ):
            raise ValueError(
                f"{config.index}.{config.vector_field} exists as {existing}; expected a {dims}-d "
                "dense_vector"
            )
    properties: dict[str, Any] = {
        config.vector_field: {
            "type": "dense_vector",
            "dims": dims,
            "index": True,
            "similarity": "cosine",
            "index_options": {
                "type": "int8_hnsw",
                "m": config.m,
                "ef_construction": config.ef_construction,
            },
        },
        config.model_field: {"type": "keyword"},
    }
    with backend_errors("adding the vector field"):
        client.indices.put_mapping(index=config.index, properties=properties)


def _get_path(source: dict[str, Any], path: str) -> Any:
    value: Any = source
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value[0] if isinstance(value, list) and value else value


def image_ref(source: dict[str, Any], config: AttachConfig) -> ImageRef | None:
    """Where this catalogue document's image is, or None."""
    value = _get_path(source, config.image_field)
    if config.image_key is not None:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                return None
        value = value.get(config.image_key) if isinstance(value, dict) else None
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, str) or not value.strip():
        return None
    # A catalogue index is remote content: only http(s) images, never a local path.
    if config.image_is_iiif:
        return ImageRef.remote(iiif_service=value)
    return ImageRef.remote(url=value)


def pending_documents(
    client: Elasticsearch, config: AttachConfig, model_id: str
) -> Iterator[list[dict[str, Any]]]:
    """Pages of documents without this model's vector (so a rerun resumes), in a PIT snapshot."""
    query = {"bool": {"must_not": [{"term": {config.model_field: model_id}}]}}
    return scan_pages(client, config.index, BATCH_SIZE, query=query, source=[config.image_field])


def attach(
    client: Elasticsearch,
    config: AttachConfig,
    embedder: Embedder,
    settings: Settings,
    progress: Progress | None = None,
    limit: int | None = None,
    image_loader: Callable[[ImageRef, Settings], Any] | None = None,
) -> AttachReport:
    """Embed every catalogue document lacking this model's vector and store vector + model id."""
    load = image_loader or load_image
    report = AttachReport(model_id=embedder.model_id)
    ensure_vector_field(client, config, embedder.dims)
    with backend_errors("counting catalogue documents"):
        total = int(client.count(index=config.index)["count"])
        report.already_done = int(
            client.count(
                index=config.index, query={"term": {config.model_field: embedder.model_id}}
            )["count"]
        )
    done = report.already_done
    for hits in pending_documents(client, config, embedder.model_id):
        if limit is not None and report.embedded + report.failed >= limit:
            break
        ids, images = [], []
        for hit in hits:
            ref = image_ref(hit.get("_source", {}), config)
            if ref is None:
                report.without_image += 1
                continue
            try:
                images.append(load(ref, settings))
                ids.append(hit["_id"])
            except Exception as exc:  # noqa: BLE001 - any broken image is reported, the run goes on
                report.fail(hit["_id"], f"image: {exc}")
        if images:
            vectors = np.asarray(embedder.embed_images(images), dtype=np.float32)
            write = WriteReport()
            actions = (
                {
                    "_op_type": "update",
                    "_index": config.index,
                    "_id": doc_id,
                    "retry_on_conflict": 3,
                    "doc": {
                        config.vector_field: vector.tolist(),
                        config.model_field: embedder.model_id,
                    },
                }
                for doc_id, vector in zip(ids, vectors, strict=True)
            )
            run_bulk(client, actions, write)
            report.embedded += write.written
            for error in write.errors:
                report.fail(error.split(":", 1)[0], error.split(":", 1)[-1].strip())
            report.failed += write.failed - len(write.errors)
        done += len(hits)
        if progress is not None:
            progress(done, total)
    with backend_errors("refreshing the catalogue index"):
        client.indices.refresh(index=config.index)
    return report


def catalogue_document(doc_id: str, source: dict[str, Any], config: AttachConfig) -> IndexDocument:
    """A catalogue document as an IndexDocument (for item pages and search-by-example)."""

    def values(path: str | None) -> list[str]:
        if path is None:
            return []
        value: Any = source
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        items = value if isinstance(value, list) else [value]
        return [str(v) for v in items if v not in (None, "")]

    # Terms facets fill the record field they are named after (see search_surface.Facet).
    facet_fields: dict[str, Any] = {}
    for facet in TERMS_FACETS:
        found = values(config.facets.get(facet.name))
        facet_fields[facet.field] = found if facet.multi_valued else next(iter(found), None)
    facet_fields["places"] = [Place(name=p) for p in facet_fields["places"]]
    facet_fields["source"] = facet_fields["source"] or config.index
    years = [int(y) for y in values(config.year_start_field) if str(y).lstrip("-").isdigit()]
    end_years = [
        int(y) for y in values(config.year_end_field) if str(y).lstrip("-").isdigit()
    ] or years
    title = values(config.title_field)
    vector = source.get(config.vector_field)
    record = MapRecord(
        id=doc_id,
        item_id=(values(config.item_id_field) or [doc_id])[0],
        title=title[0] if title else "",
        year_start=min(years) if years else None,
        year_end=max(end_years) if end_years else None,
        image=image_ref(source, config),
        raw=source,
        **facet_fields,
    )
    return IndexDocument(
        record=record,
        vector=None if vector is None else np.asarray(vector, dtype=np.float32),
        model_id=source.get(config.model_field),
    )


def default_embedder(settings: Settings) -> Embedder:
    """The configured CLIP model, shared by the process (loaded on first use)."""
    from indexer.embedder import process_embedder

    return process_embedder(settings)
