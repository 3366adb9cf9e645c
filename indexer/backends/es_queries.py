"""Elasticsearch request bodies as pure functions: a BackendQuery (+ field map) in, JSON out.

One function per concern (keyword clause, filters, kNN, facets, sort) and one per list, so each
can be unit-tested without a cluster. DESIGN.md "Query semantics" is the specification."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from indexer.analysis import keyword_terms, query_words
from indexer.backends.base import BackendQuery, Filters, FoundInFilter
from indexer.backends.es_fields import FieldMap
from indexer.fuzzy import FUZZY_MIN_LENGTH
from indexer.search_surface import (
    DECADE,
    FOUND_IN,
    FOUND_IN_VALUES,
    MAP_TEXT_WEIGHT,
    TERMS_FACETS,
    FoundIn,
)

# ES caps num_candidates at 10,000; rescoring the quantized (bbq / int8) candidates with the stored
# float vectors makes semantic scores and order match exact cosine search. 1.5·k candidates are
# rescored, and at least 100 (oversample ≤ 10, ES's limit): at 562,842 maps (bbq_flat) a top 10
# with 15 rescored had recall 0.97 (1% filter 0.93), with 30 1.0 (0.97); the service's top 200
# with 300 rescored had recall 1.0 at 68 ms where 600 took 124 ms (bench/side_by_side.py,
# docs/benchmarks.md).
MAX_NUM_CANDIDATES = 10_000
RESCORE_OVERSAMPLE = 1.5
MIN_RESCORED = 100
MAX_OVERSAMPLE = 10.0
# A short list still explores at least this many HNSW candidates: with 1.5 × 10 = 15 the top 10
# of a quantized graph had recall 0.52-0.76 (bench/es_vector_options.py, docs/benchmarks.md).
MIN_NUM_CANDIDATES = 100

Body = dict[str, Any]


class UnsupportedFilter(ValueError):
    """A filter names a field this index lacks (an attached catalogue without it): a 400."""


def keyword_clause(text: str | None, fields: FieldMap) -> Body | None:
    """BM25 over the weighted text fields; every term must occur in some field.

    Indices of ``indexer.analysis`` terms (v2+) get the terms in a ``combined_fields`` query:
    BM25F, the weighted fields scored as one, as FTS5's ``bm25()`` scores the embedded backend's
    columns. Others (v1, attached catalogues, which analyse text themselves) get the words in a
    ``cross_fields`` query."""
    field_list = [f"{name}^{weight:g}" for name, weight in fields.text_fields.items()]
    if fields.analysed_terms:
        terms = keyword_terms(text)
        if not terms:
            return None
        if fields.map_text is not None:
            return _with_map_text(terms, field_list, fields.map_text)
        return {
            "combined_fields": {"query": " ".join(terms), "operator": "and", "fields": field_list}
        }
    words = query_words(text)
    if not words:
        return None
    return {
        "multi_match": {
            "query": " ".join(words),
            "type": "cross_fields",
            "operator": "and",
            "fields": field_list,
        }
    }


def map_text_clause(term: str, field: str) -> Body:
    """One query term against the words read from the map: within one edit (insertion,
    deletion, substitution, swap) for terms of ``FUZZY_MIN_LENGTH``+ letters, else exact."""
    fuzziness = 1 if len(term) >= FUZZY_MIN_LENGTH else 0
    return {
        "match": {
            field: {
                "query": term,
                "fuzziness": fuzziness,
                "prefix_length": 0,
                "fuzzy_transpositions": True,
                "boost": MAP_TEXT_WEIGHT,
            }
        }
    }


def _with_map_text(terms: list[str], field_list: list[str], map_text: str) -> Body:
    """Every term in some catalogue field (BM25F, as ``combined_fields`` scores each term) or
    on the map (its own field, fuzzy)."""
    return {
        "bool": {
            "must": [
                {
                    "bool": {
                        "should": [
                            {"combined_fields": {"query": term, "fields": field_list}},
                            map_text_clause(term, map_text),
                        ],
                        "minimum_should_match": 1,
                    }
                }
                for term in terms
            ]
        }
    }


MATCH_NONE: Body = {"match_none": {}}


def found_in_clauses(text: str | None, fields: FieldMap) -> dict[FoundIn, Body]:
    """Per ``found_in`` value, the keyword matches of ``text`` whose words were found there: any
    term in a catalogue field (exactly, as ``combined_fields`` matches it), on the map (as
    ``map_text_clause`` matches it), or both. An index without map text finds every keyword
    match in the catalogue; text without terms matches nothing."""
    keyword = keyword_clause(text, fields)
    if keyword is None:
        return dict.fromkeys(FOUND_IN_VALUES, MATCH_NONE)
    if fields.map_text is None or not fields.analysed_terms:
        return {"catalogue": keyword, "map": MATCH_NONE, "both": MATCH_NONE}
    terms = keyword_terms(text)
    field_list = [f"{name}^{weight:g}" for name, weight in fields.text_fields.items()]
    catalogue: Body = {
        "bool": {
            "should": [
                {"combined_fields": {"query": term, "fields": field_list}} for term in terms
            ],
            "minimum_should_match": 1,
        }
    }
    on_map: Body = {
        "bool": {
            "should": [map_text_clause(term, fields.map_text) for term in terms],
            "minimum_should_match": 1,
        }
    }
    return {
        "catalogue": {"bool": {"filter": [keyword, catalogue], "must_not": [on_map]}},
        "map": {"bool": {"filter": [keyword, on_map], "must_not": [catalogue]}},
        "both": {"bool": {"filter": [keyword, catalogue, on_map]}},
    }


def found_in_filter(found_in: FoundInFilter, fields: FieldMap) -> Body:
    """Keyword matches whose words were found where the filter says (values OR-ed)."""
    clauses = found_in_clauses(found_in.text, fields)
    return {
        "bool": {
            "should": [clauses[value] for value in found_in.where],
            "minimum_should_match": 1,
        }
    }


def _terms(field: str | None, values: tuple[str, ...], label: str) -> Body:
    if field is None:
        raise UnsupportedFilter(f"this index has no field for the {label} filter")
    return {"terms": {field: list(values)}}


def year_clauses(year_from: int | None, year_to: int | None, fields: FieldMap) -> list[Body]:
    """Documents whose [year_start, year_end] overlaps [year_from, year_to]; undated never match."""
    if year_from is None and year_to is None:
        return []
    if fields.year_start is None or fields.year_end is None:
        raise UnsupportedFilter("this index has no year field for the year filter")
    if fields.year_start == fields.year_end:  # one (possibly multi-valued) year field
        bounds = {k: v for k, v in (("gte", year_from), ("lte", year_to)) if v is not None}
        return [{"range": {fields.year_start: bounds}}]
    clauses: list[Body] = []
    if year_to is not None:
        clauses.append({"range": {fields.year_start: {"lte": year_to}}})
    if year_from is not None:
        clauses.append({"range": {fields.year_end: {"gte": year_from}}})
    return clauses


def _lon_intervals(west: float, east: float) -> list[tuple[float, float]]:
    return [(west, east)] if west <= east else [(west, 180.0), (-180.0, east)]


def bbox_clause(bbox: tuple[float, float, float, float], prefix: str) -> Body:
    """Documents whose extent intersects (W, S, E, N); either box may cross the antimeridian."""
    west, south, east, north = bbox
    doc_west, doc_east = f"{prefix}.west", f"{prefix}.east"
    crosses = f"{prefix}.crosses_antimeridian"
    plain_overlap = [
        {
            "bool": {
                "filter": [{"range": {doc_west: {"lte": hi}}}, {"range": {doc_east: {"gte": lo}}}]
            }
        }
        for lo, hi in _lon_intervals(west, east)
    ]
    # A crossing extent covers [west, 180] ∪ [-180, east].
    crossing_overlap = [
        clause
        for lo, hi in _lon_intervals(west, east)
        for clause in ({"range": {doc_west: {"lte": hi}}}, {"range": {doc_east: {"gte": lo}}})
    ]
    return {
        "bool": {
            "filter": [
                {"range": {f"{prefix}.south": {"lte": north}}},
                {"range": {f"{prefix}.north": {"gte": south}}},
            ],
            "should": [
                {
                    "bool": {
                        "must_not": [{"term": {crosses: True}}],
                        "should": plain_overlap,
                        "minimum_should_match": 1,
                    }
                },
                {
                    "bool": {
                        "filter": [{"term": {crosses: True}}],
                        "should": crossing_overlap,
                        "minimum_should_match": 1,
                    }
                },
            ],
            "minimum_should_match": 1,
        }
    }


def filter_clauses(filters: Filters, fields: FieldMap) -> list[Body]:
    """The filter context shared by every list and the facets (OR within a field, AND across)."""
    clauses: list[Body] = year_clauses(filters.year_from, filters.year_to, fields)
    for facet in TERMS_FACETS:
        values = filters.terms.get(facet.name, ())
        if values:
            clauses.append(_terms(fields.terms.get(facet.name), values, facet.name))
    if filters.ids:
        clauses.append(_terms(fields.id, filters.ids, "id"))
    if filters.bbox is not None:
        if fields.extent_prefix is None:
            raise UnsupportedFilter("this index has no extent for the bbox filter")
        clauses.append(bbox_clause(filters.bbox, fields.extent_prefix))
    if filters.has_image is not None:
        # Without a has_image field (attached catalogues), "has an image" = "has a vector".
        present: Body = (
            {"term": {fields.has_image: True}}
            if fields.has_image
            else {"exists": {"field": fields.vector}}
        )
        clauses.append(present if filters.has_image else {"bool": {"must_not": [present]}})
    if filters.found_in is not None:
        clauses.append(found_in_filter(filters.found_in, fields))
    return clauses


def rescore_oversample(k: int) -> float:
    """How many times ``k`` quantized candidates are rescored: 1.5, and at least 100 in all."""
    return round(min(MAX_OVERSAMPLE, max(RESCORE_OVERSAMPLE, MIN_RESCORED / max(k, 1))), 3)


def knn_clause(
    vector: np.ndarray,
    query: BackendQuery,
    fields: FieldMap,
    field: str | None = None,
    with_bar: bool = True,
) -> Body:
    """Top ``num_candidates`` by cosine among filtered documents, above ``min_similarity``
    (``field``: another vector field, e.g. the nested region vectors; ``with_bar=False``: no
    similarity bar, the caller applies it)."""
    k = query.num_candidates
    oversample = rescore_oversample(k)
    knn: Body = {
        "field": field or fields.vector,
        "query_vector": [float(x) for x in np.asarray(vector, dtype=np.float32)],
        "k": k,
        "num_candidates": min(
            MAX_NUM_CANDIDATES, max(k, MIN_NUM_CANDIDATES, math.ceil(k * oversample))
        ),
        "rescore_vector": {"oversample": oversample},
        "filter": {"bool": {"filter": filter_clauses(query.filters, fields)}},
    }
    if query.min_similarity is not None and with_bar:
        knn["similarity"] = query.min_similarity  # raw cosine, not ES's (1 + cos) / 2 score
    return knn


# ---- regions (docs/regions.md): two kNN lists combined above ES, one result-set pass after ----


def uses_regions(query: BackendQuery, fields: FieldMap) -> bool:
    """Whether a query's semantic list also ranks maps by their best region."""
    return query.vector is not None and query.regions and fields.region_vector is not None


def region_bar_applies(query: BackendQuery) -> bool:
    """With ``max`` a map passes the bar when its whole map or a region does, so each kNN list
    takes the bar; a blend is barred after combining (each list fetched without it)."""
    return query.region_combine == "max"


def whole_list_body(query: BackendQuery, fields: FieldMap) -> Body:
    """The whole-map kNN list of a query with regions."""
    assert query.vector is not None
    return {
        "knn": knn_clause(query.vector, query, fields, with_bar=region_bar_applies(query)),
        "size": query.num_candidates,
        "track_total_hits": False,
        **hit_fields(fields),
    }


def region_list_body(query: BackendQuery, fields: FieldMap) -> Body:
    """Maps ranked by their best region (nested kNN, score mode max). No inner hits: boxes for
    the whole window cost 2.5-4x the list (docs/benchmarks.md "Regions"); the shown page's best
    regions are scored from its fetched documents instead (``region_matches.with_regions``)."""
    assert query.vector is not None and fields.region_vector is not None
    knn = knn_clause(
        query.vector,
        query,
        fields,
        field=fields.region_vector,
        with_bar=region_bar_applies(query),
    )
    return {
        "knn": knn,
        "size": query.num_candidates,
        "track_total_hits": False,
        **hit_fields(fields),
    }


def named_result_set_body(query: BackendQuery, fields: FieldMap, semantic_ids: list[str]) -> Body:
    """Total + facets over keyword matches ∪ the semantic list, named by id: the list is known
    by then, and a second kNN pass would scan every quantized vector again (a flat index at
    562,842 maps answered hybrid in 98 ms with it)."""
    should: list[Body] = [{"ids": {"values": semantic_ids}}] if semantic_ids else []
    clause = keyword_clause(query.text, fields)
    if clause is not None:
        should.append(clause)
    body: Body = {"size": 0, "track_total_hits": True}
    if should:
        body["query"] = {
            "bool": {
                "should": should,
                "minimum_should_match": 1,
                "filter": filter_clauses(query.filters, fields),
            }
        }
    else:
        body["query"] = {"bool": {"must_not": [{"match_all": {}}]}}
    aggs = facet_aggs(query.facets, query.facet_size, fields, query.text)
    if aggs:
        body["aggs"] = aggs
    return body


def region_search_plan(query: BackendQuery, fields: FieldMap) -> list[tuple[str, Body]]:
    """The first _msearch of a query with regions: keyword list (when there is text), the
    whole-map and the region kNN lists; the result set follows in a second one."""
    plan: list[tuple[str, Body]] = []
    keyword = keyword_list_body(query, fields)
    if keyword is not None:
        plan.append(("keyword", keyword))
    plan.append(("whole", whole_list_body(query, fields)))
    plan.append(("regions", region_list_body(query, fields)))
    return plan


def facet_aggs(
    facets: tuple[str, ...], facet_size: int, fields: FieldMap, text: str | None = None
) -> Body:
    """One aggregation per requested facet the index has; decade = 10-year histogram;
    found_in = the keyword matches of ``text`` by where the words were found (``filters``)."""
    aggs: Body = {}
    for facet in facets:
        if facet == FOUND_IN.name:
            aggs[facet] = {"filters": {"filters": found_in_clauses(text, fields)}}
            continue
        field = fields.facet_field(facet)
        if field is None:
            continue
        if facet == "decade":
            aggs[facet] = {"histogram": {"field": field, "interval": DECADE, "min_doc_count": 1}}
        else:
            aggs[facet] = {
                "terms": {
                    "field": field,
                    "size": facet_size,
                    "order": [{"_count": "desc"}, {"_key": "asc"}],
                }
            }
    return aggs


def hit_fields(fields: FieldMap) -> Body:
    """What each hit returns: just what a ListHit needs, read as cheaply as the index allows."""
    if fields.title_docvalue:
        values = [
            f for f in (fields.id, fields.item_id, fields.year_start, fields.title_docvalue) if f
        ]
        # "_none_" also skips _id, whose stored-field block would be decompressed per hit
        return {"_source": False, "stored_fields": "_none_", "docvalue_fields": values}
    return {
        "_source": [f for f in (fields.id, fields.item_id, fields.year_start, fields.title) if f]
    }


def keyword_list_body(query: BackendQuery, fields: FieldMap) -> Body | None:
    """The BM25 list: best ``num_candidates`` matches, score desc then id asc."""
    clause = keyword_clause(query.text, fields)
    if clause is None:
        return None
    return {
        "query": {"bool": {"must": [clause], "filter": filter_clauses(query.filters, fields)}},
        "size": query.num_candidates,
        "sort": [{"_score": "desc"}, {fields.id: "asc"}],
        "track_total_hits": False,
        **hit_fields(fields),
    }


def semantic_list_body(query: BackendQuery, fields: FieldMap) -> Body | None:
    """The kNN list (filters inside ``knn.filter``); the caller re-sorts ties by id."""
    if query.vector is None:
        return None
    return {
        "knn": knn_clause(query.vector, query, fields),
        "size": query.num_candidates,
        "track_total_hits": False,
        **hit_fields(fields),
    }


def empty_result_set_body(query: BackendQuery, fields: FieldMap) -> Body:
    """Text without any searchable token and no example: an empty result set, not a browse."""
    body: Body = {"size": 0, "track_total_hits": True}
    body["query"] = {"bool": {"must_not": [{"match_all": {}}]}}
    aggs = facet_aggs(query.facets, query.facet_size, fields, query.text)
    if aggs:
        body["aggs"] = aggs
    return body


def with_result_set(list_body: Body, query: BackendQuery, fields: FieldMap) -> Body:
    """A list body that also reports total + facets: enough when only one list runs (saves a
    second kNN or BM25 pass)."""
    body: Body = {**list_body, "track_total_hits": True}
    aggs = facet_aggs(query.facets, query.facet_size, fields, query.text)
    if aggs:
        body["aggs"] = aggs
    return body


def search_plan(query: BackendQuery, fields: FieldMap) -> list[tuple[tuple[str, ...], Body]]:
    """The first _msearch of a (non-browse) query: each body with what it answers ("keyword",
    "semantic", "result_set"). One list alone carries its own total and facets; hybrid's
    result set follows, named by id (``named_result_set_body``)."""
    keyword = keyword_list_body(query, fields)
    semantic = semantic_list_body(query, fields)
    if keyword is not None and semantic is not None:
        return [(("keyword",), keyword), (("semantic",), semantic)]
    if keyword is not None:
        return [(("keyword", "result_set"), with_result_set(keyword, query, fields))]
    if semantic is not None:
        return [(("semantic", "result_set"), with_result_set(semantic, query, fields))]
    return [(("result_set",), empty_result_set_body(query, fields))]


def browse_sort(sort: str, fields: FieldMap) -> list[Body]:
    """Sort of a browse; the id breaks every tie, undated documents go last."""
    by_id = {fields.id: "asc"}
    if sort in ("year", "-year") and fields.year_start:
        order = "desc" if sort == "-year" else "asc"
        return [{fields.year_start: {"order": order, "missing": "_last"}}, by_id]
    if fields.title_sort:
        return [{fields.title_sort: {"order": "asc", "missing": "_last"}}, by_id]
    return [by_id]


def browse_body(query: BackendQuery, fields: FieldMap) -> Body:
    """Every document passing the filters: exact total, facets, the requested page."""
    body: Body = {
        "query": {"bool": {"filter": filter_clauses(query.filters, fields)}},
        "sort": browse_sort(query.browse_sort, fields),
        "from": query.browse_offset,
        "size": query.browse_limit,
        "track_total_hits": True,
        **hit_fields(fields),
    }
    aggs = facet_aggs(query.facets, query.facet_size, fields, query.text)
    if aggs:
        body["aggs"] = aggs
    return body


def is_browse(query: BackendQuery) -> bool:
    """Neither text nor vector: every filtered document is in the result set."""
    return query.text is None and query.vector is None
