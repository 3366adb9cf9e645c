"""The Elasticsearch backend: the SearchBackend contract over an alias (our own versioned index,
or a library's catalogue index attached with a field map), one ``_msearch`` per search."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch, NotFoundError

from indexer.backends import es_lifecycle, es_queries
from indexer.backends.base import (
    BackendError,
    BackendQuery,
    BackendResult,
    IndexInfo,
    ModelMismatchError,
    WriteReport,
)
from indexer.backends.es_attach import AttachConfig, catalogue_document, load_attach_config
from indexer.backends.es_bulk import delete_documents, index_actions, run_bulk
from indexer.backends.es_client import backend_errors, make_client
from indexer.backends.es_documents import from_source, parse_facets, parse_keyword, parse_semantic
from indexer.backends.es_fields import MAPS_FIELDS, FieldMap, maps_fields
from indexer.backends.es_regions import combine_lists, parse_region_list
from indexer.records import IndexDocument
from indexer.settings import Settings

# Another process may swap the alias (reindex) or set the model: re-read _meta this often.
META_TTL_SECONDS = 10.0


def _response_problem(response: dict[str, Any]) -> str:
    """Why one _msearch answer is unusable ("" when it is fine)."""
    if "error" in response:
        error = response["error"]
        if isinstance(error, dict):
            return str(error.get("root_cause", [error])[0].get("reason") or error.get("type"))
        return str(error)
    shards = response.get("_shards", {})
    if shards.get("failed"):
        return f"{shards['failed']} of {shards.get('total')} shards failed"
    return ""


class ElasticsearchBackend:
    """``SearchBackend`` over ``<prefix>-maps`` (thread-safe: the client pools connections)."""

    name = "elasticsearch"

    def __init__(
        self, client: Elasticsearch, prefix: str, attached: AttachConfig | None = None
    ) -> None:
        self.client = client
        self.prefix = prefix
        # Our own indices live behind the alias; an attached catalogue index is named directly.
        self.attached = attached
        self.base_fields = attached.field_map() if attached else MAPS_FIELDS
        self.target = attached.index if attached else es_lifecycle.alias_name(prefix)
        self._lock = threading.Lock()
        self._meta: dict[str, Any] | None = None
        self._meta_read_at = 0.0
        self._major: int | None = None

    @classmethod
    def open(cls, settings: Settings) -> ElasticsearchBackend:
        """Connect to ``settings.es_url``; our indices are created on first write (or by ``index
        create``); with ``es_attach_config`` the backend searches that catalogue index instead."""
        client = make_client(settings.es_url, settings.es_timeout)
        config = (
            load_attach_config(settings.es_attach_config) if settings.es_attach_config else None
        )
        return cls(client, settings.es_prefix, attached=config)

    # ---- index metadata ----------------------------------------------------------------

    def _index_meta(self) -> dict[str, Any] | None:
        """The live index's ``_meta`` (cached until a
        write or refresh), or None without an index."""
        with self._lock:
            if self._meta is not None and time.monotonic() - self._meta_read_at < META_TTL_SECONDS:
                return self._meta
        try:
            meta = (
                self._attached_meta()
                if self.attached
                else es_lifecycle.index_meta(self.client, self.target)
            )
        except NotFoundError:
            return None
        with self._lock:
            self._meta, self._meta_read_at = meta, time.monotonic()
        return meta

    def _attached_meta(self) -> dict[str, Any]:
        """A catalogue index's dims (its mapping) and
        model (its vectors); its own _meta is not ours."""
        field = self.base_fields.vector
        with backend_errors("reading the catalogue mapping"):
            mapping = self.client.indices.get_mapping(index=self.target)
            models = self.client.search(
                index=self.target,
                size=0,
                aggs={"model": {"terms": {"field": self.base_fields.model_id, "size": 1}}},
            )
        properties = next(iter(mapping.values()))["mappings"].get("properties", {})
        buckets = models.get("aggregations", {}).get("model", {}).get("buckets", [])
        return {
            "analysis": "standard",
            "dims": properties.get(field, {}).get("dims"),
            "model_id": buckets[0]["key"] if buckets else None,
        }

    def _refuse_attached_writes(self) -> None:
        if self.attached:
            raise BackendError(
                f"{self.target} is the library's catalogue index: only `mapsearch attach` writes "
                "to it"
            )

    def _forget_meta(self) -> None:
        with self._lock:
            self._meta = None

    def fields(self) -> FieldMap:
        """The field map for queries: English subfields where the index was built with them."""
        meta = self._index_meta() or {}
        if self.attached:
            return self.base_fields
        return maps_fields(meta.get("mapping_version"), meta.get("analysis"))

    # ---- writes --------------------------------------------------------------------------

    def write(self, docs: Iterable[IndexDocument]) -> WriteReport:
        """Upsert documents versioned by ``record.revision``;
        other-model vectors raise ModelMismatchError."""
        self._refuse_attached_writes()
        docs = list(docs)
        report = WriteReport()
        valid: list[IndexDocument] = []
        for doc in docs:
            if doc.vector is not None:
                vector = np.asarray(doc.vector)
                if vector.ndim != 1 or not np.all(np.isfinite(vector)):
                    report.fail(doc.id, "vector must be one finite 1-d array")
                    continue
                if not doc.model_id:
                    report.fail(doc.id, "vector without model_id")
                    continue
            valid.append(doc)
        if not valid:
            return report
        self._check_model(valid)
        version = int((self._index_meta() or {}).get("mapping_version") or 1)
        return run_bulk(self.client, index_actions(self.target, valid, report, version), report)

    def _check_model(self, docs: list[IndexDocument]) -> None:
        first = next((d for d in docs if d.vector is not None), None)
        dims = (
            int(np.asarray(first.vector).shape[-1])
            if first is not None and first.vector is not None
            else None
        )
        index = es_lifecycle.ensure_alias(self.client, self.prefix, dims=dims)
        meta = self._index_meta() or {}
        stored_model, stored_dims = meta.get("model_id"), meta.get("dims")
        for doc in docs:
            if doc.vector is None:
                continue
            doc_dims = int(np.asarray(doc.vector).shape[-1])
            if stored_model is None:
                stored_model, stored_dims = doc.model_id, doc_dims
                es_lifecycle.update_meta(
                    self.client, index, model_id=stored_model, dims=stored_dims
                )
                self._forget_meta()
            if doc.model_id != stored_model or (
                stored_dims is not None and doc_dims != stored_dims
            ):
                raise ModelMismatchError(
                    f"document {doc.id} has a {doc_dims}-d vector of model {doc.model_id!r}; the "
                    "index "
                    f"holds {stored_dims}-d vectors of {stored_model!r} (reindex to change models)"
                )

    def delete(self, ids: Sequence[str]) -> int:
        """Remove documents; returns how many existed."""
        self._refuse_attached_writes()
        if not ids or self._index_meta() is None:
            return 0
        return delete_documents(self.client, self.target, ids)

    # ---- search --------------------------------------------------------------------------

    def search(self, query: BackendQuery) -> BackendResult:
        """Keyword list, semantic list, total and facets in one ``_msearch``; or a browse page."""
        meta = self._index_meta()
        if meta is None:
            return BackendResult()
        if query.vector is not None and meta.get("dims") is not None:
            dims = int(np.asarray(query.vector).reshape(-1).shape[0])
            if dims != int(meta["dims"]):
                raise ModelMismatchError(
                    f"query vector has {dims} dims; the index holds {meta['dims']}-d vectors"
                )
        fields = self.fields()
        if es_queries.is_browse(query):
            return self._browse(query, fields)
        if es_queries.uses_regions(query, fields):
            return self._search_with_regions(query, fields)
        plan = es_queries.search_plan(query, fields)
        responses = self._msearch([body for _, body in plan])
        result = BackendResult()
        counted = False
        for (answers, _), response in zip(plan, responses, strict=True):
            hits = response["hits"]["hits"]
            if "keyword" in answers:
                result.keyword = parse_keyword(hits, fields)
            if "semantic" in answers:
                result.semantic = parse_semantic(hits, fields)
            if "result_set" in answers:
                self._count(result, response, query)
                counted = True
        if not counted:
            self._count_named(result, query, fields)
        return result

    def _count_named(self, result: BackendResult, query: BackendQuery, fields: FieldMap) -> None:
        """Total and facets over keyword matches ∪ the semantic list, named by id."""
        ids = [hit.id for hit in result.semantic]
        (response,) = self._msearch([es_queries.named_result_set_body(query, fields, ids)])
        self._count(result, response, query)

    @staticmethod
    def _count(result: BackendResult, response: dict[str, Any], query: BackendQuery) -> None:
        result.total = int(response["hits"]["total"]["value"])
        result.facets = parse_facets(response.get("aggregations", {}), query.facet_size)

    def _search_with_regions(self, query: BackendQuery, fields: FieldMap) -> BackendResult:
        """Keyword, whole-map and region lists in one ``_msearch``; the semantic list combined
        here (``es_regions``); total and facets over the result set in a second one. The hits
        carry no boxes: the caller scores the shown maps' regions (``result.region_query``)."""
        assert fields.region_vector is not None
        plan = es_queries.region_search_plan(query, fields)
        responses = self._msearch([body for _, body in plan])
        lists = {
            name: response["hits"]["hits"]
            for (name, _), response in zip(plan, responses, strict=True)
        }
        result = BackendResult(region_query=query.vector)
        if "keyword" in lists:
            result.keyword = parse_keyword(lists["keyword"], fields)
        result.semantic = combine_lists(
            parse_semantic(lists["whole"], fields),
            parse_region_list(lists["regions"], fields),
            query,
        )
        self._count_named(result, query, fields)
        return result

    def _browse(self, query: BackendQuery, fields: FieldMap) -> BackendResult:
        (response,) = self._msearch([es_queries.browse_body(query, fields)])
        return BackendResult(
            browse=parse_keyword([{**h, "_score": 0.0} for h in response["hits"]["hits"]], fields),
            total=int(response["hits"]["total"]["value"]),
            facets=parse_facets(response.get("aggregations", {}), query.facet_size),
        )

    def _msearch(self, bodies: list[dict[str, Any]], attempts: int = 2) -> list[dict[str, Any]]:
        """All bodies in one round trip; a failed or partial answer is retried once (an alias
        swap can race a search), then raised: partial results are never served as complete."""
        searches: list[dict[str, Any]] = []
        for body in bodies:
            searches.extend(({"index": self.target}, body))
        problem = ""
        for _ in range(attempts):
            with backend_errors("searching"):
                responses = list(self.client.msearch(searches=searches)["responses"])
            problem = next(filter(None, map(_response_problem, responses)), "")
            if not problem:
                return responses
        raise BackendError(f"Elasticsearch could not answer the search: {problem}")

    # ---- reads by id ---------------------------------------------------------------------

    def fetch(self, ids: Sequence[str]) -> dict[str, IndexDocument]:
        """Full documents (vectors included) for these ids; missing ids are absent."""
        if not ids or self._index_meta() is None:
            return {}
        found = self._get_sources(list(ids))
        if self.attached:
            return {
                d["_id"]: catalogue_document(d["_id"], d["_source"], self.attached) for d in found
            }
        return {d["_id"]: from_source(d["_source"]) for d in found}

    def get_vector(self, doc_id: str) -> np.ndarray | None:
        """The stored image vector of one document, or None."""
        if self._index_meta() is None:
            return None
        field = self.base_fields.vector
        found = self._get_sources([doc_id])
        vector = found[0]["_source"].get(field) if found else None
        return None if vector is None else np.asarray(vector, dtype=np.float32)

    def _get_sources(self, ids: list[str]) -> list[dict[str, Any]]:
        """Found documents (``_id``, ``_source`` with vectors) by id; real-time for our indices.

        A catalogue index made by 9.x leaves vectors out of ``_source`` unless a search asks for
        them (our own indices are created with ``exclude_source_vectors: false``)."""
        with backend_errors("fetching documents"):
            if self.attached and self._cluster_major() >= 9:
                response = self.client.search(
                    index=self.target,
                    query={"ids": {"values": ids}},
                    size=len(ids),
                    source={"exclude_vectors": False},  # type: ignore[arg-type]  # 9.x option the 8.x client lacks
                )
                return list(response["hits"]["hits"])
            docs = self.client.mget(index=self.target, ids=ids)["docs"]
        return [d for d in docs if d.get("found")]

    def _cluster_major(self) -> int:
        if self._major is None:
            self._major = es_lifecycle.cluster_major_version(self.client)
        return self._major

    def info(self) -> IndexInfo:
        """Counts, model id, dims, alias and physical index."""
        meta = self._index_meta()
        if meta is None:
            return IndexInfo(self.name, self.target, None, 0, 0, None, None)
        physical = (
            self.target if self.attached else es_lifecycle.current_index(self.client, self.prefix)
        )
        with backend_errors("counting documents"):
            documents = int(self.client.count(index=self.target)["count"])
            with_vectors = int(
                self.client.count(
                    index=self.target, query={"exists": {"field": self.base_fields.vector}}
                )["count"]
            )
        return IndexInfo(
            backend=self.name,
            name=self.target,
            physical=physical,
            documents=documents,
            with_vectors=with_vectors,
            model_id=meta.get("model_id"),
            dims=meta.get("dims"),
            mapping_version=meta.get("mapping_version"),
        )

    def model_id(self) -> str | None:
        """The model that made the stored vectors (None while the index has none)."""
        return (self._index_meta() or {}).get("model_id")

    def refresh(self) -> None:
        """Make writes visible to searches."""
        self._forget_meta()
        if self._index_meta() is None:
            return
        with backend_errors("refreshing"):
            self.client.indices.refresh(index=self.target)

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()
