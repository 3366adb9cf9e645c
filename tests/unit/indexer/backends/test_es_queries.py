"""The Elasticsearch query builders are pure: check the bodies they produce without a cluster."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.analysis import ANALYSIS
from indexer.backends import es_queries
from indexer.backends.base import BackendQuery, Filters
from indexer.backends.es_documents import cosine_from_score, parse_facets, to_source
from indexer.backends.es_fields import MAPS_FIELDS, FieldMap, maps_fields
from indexer.backends.es_lifecycle import index_definition, parse_physical, physical_name
from indexer.records import IndexDocument, MapRecord

VECTOR = np.array([0.6, 0.8], np.float32)


def test_keyword_clause_requires_every_token_across_weighted_fields() -> None:
    clause = es_queries.keyword_clause('maps with "sea monsters" AND (dragons', MAPS_FIELDS)
    assert clause == {
        "multi_match": {
            "query": "sea monsters dragons",
            "type": "cross_fields",
            "operator": "and",
            "fields": ["title^4", "subjects_places^2", "body^1", "contributors^1"],
        }
    }
    assert es_queries.keyword_clause("  ?! ", MAPS_FIELDS) is None


def test_english_fields_are_used_when_the_index_has_them() -> None:
    clause = es_queries.keyword_clause("boston", MAPS_FIELDS.with_english())
    assert clause is not None
    assert clause["multi_match"]["fields"][0] == "title.english^4"


def test_year_range_is_an_overlap() -> None:
    assert es_queries.year_clauses(1800, 1850, MAPS_FIELDS) == [
        {"range": {"year_start": {"lte": 1850}}},
        {"range": {"year_end": {"gte": 1800}}},
    ]
    single = FieldMap(year_start="gbl_indexYear_im", year_end="gbl_indexYear_im")
    assert es_queries.year_clauses(None, 1850, single) == [
        {"range": {"gbl_indexYear_im": {"lte": 1850}}}
    ]


def test_filters_or_within_and_across_fields() -> None:
    clauses = es_queries.filter_clauses(
        Filters(terms={"place": ("Boston", "Salem"), "subject": ("Harbors",)}, has_image=False),
        MAPS_FIELDS,
    )
    assert {"terms": {"places": ["Boston", "Salem"]}} in clauses
    assert {"terms": {"subjects": ["Harbors"]}} in clauses
    assert {"bool": {"must_not": [{"term": {"has_image": True}}]}} in clauses


def test_missing_field_for_a_filter_is_a_clear_error() -> None:
    with pytest.raises(es_queries.UnsupportedFilter, match="language"):
        es_queries.filter_clauses(
            Filters(terms={"language": ("eng",)}), FieldMap(terms={"place": "places"})
        )


def test_bbox_crossing_the_antimeridian_splits_into_two_intervals() -> None:
    clause = es_queries.bbox_clause((170.0, -20.0, -170.0, -10.0), "extent")
    plain = clause["bool"]["should"][0]["bool"]["should"]
    assert len(plain) == 2
    assert plain[0]["bool"]["filter"] == [
        {"range": {"extent.west": {"lte": 180.0}}},
        {"range": {"extent.east": {"gte": 170.0}}},
    ]


def test_semantic_list_filters_inside_knn_with_similarity_and_rescoring() -> None:
    query = BackendQuery(
        vector=VECTOR, num_candidates=100, min_similarity=0.3, filters=Filters(year_from=1900)
    )
    body = es_queries.semantic_list_body(query, MAPS_FIELDS)
    assert body is not None
    knn = body["knn"]
    assert knn["k"] == 100 and knn["num_candidates"] >= 100
    assert knn["similarity"] == 0.3
    assert knn["filter"] == {"bool": {"filter": [{"range": {"year_end": {"gte": 1900}}}]}}
    assert knn["query_vector"] == pytest.approx([0.6, 0.8])
    assert "query" not in body  # a query next to knn would widen the list to a union
    assert body["size"] == 100


def test_num_candidates_is_capped_by_elasticsearch_limit() -> None:
    knn = es_queries.knn_clause(
        VECTOR, BackendQuery(vector=VECTOR, num_candidates=10_000), MAPS_FIELDS
    )
    assert knn["num_candidates"] == es_queries.MAX_NUM_CANDIDATES


def test_hybrid_result_set_is_keyword_union_the_named_semantic_list_with_filters() -> None:
    filters = Filters(terms={"collection": ("Rare",)})
    query = BackendQuery(
        text="boston", vector=VECTOR, filters=filters, facets=("place", "decade", "nope")
    )
    body = es_queries.named_result_set_body(query, MAPS_FIELDS, ["a", "b"])
    assert body["size"] == 0 and body["track_total_hits"] is True
    assert "knn" not in body  # no second scan of the vectors
    union = body["query"]["bool"]
    assert union["filter"] == [{"terms": {"collections": ["Rare"]}}]
    assert union["minimum_should_match"] == 1
    assert union["should"][0] == {"ids": {"values": ["a", "b"]}}
    assert len(union["should"]) == 2  # and the keyword clause
    assert body["aggs"]["decade"] == {
        "histogram": {"field": "year_start", "interval": 10, "min_doc_count": 1}
    }
    assert body["aggs"]["place"]["terms"]["field"] == "places"
    assert "nope" not in body["aggs"]


def test_a_result_set_with_nothing_to_match_is_empty() -> None:
    body = es_queries.named_result_set_body(BackendQuery(text="", vector=VECTOR), MAPS_FIELDS, [])
    assert body["query"] == {"bool": {"must_not": [{"match_all": {}}]}}


def test_keyword_list_sorts_by_score_then_id() -> None:
    body = es_queries.keyword_list_body(BackendQuery(text="boston", num_candidates=50), MAPS_FIELDS)
    assert body is not None
    assert body["sort"] == [{"_score": "desc"}, {"id": "asc"}]
    assert body["size"] == 50


def test_browse_sorts_and_pages() -> None:
    body = es_queries.browse_body(
        BackendQuery(browse_sort="-year", browse_offset=40, browse_limit=20), MAPS_FIELDS
    )
    assert body["sort"] == [{"year_start": {"order": "desc", "missing": "_last"}}, {"id": "asc"}]
    assert (body["from"], body["size"], body["track_total_hits"]) == (40, 20, True)
    assert es_queries.browse_sort("relevance", MAPS_FIELDS)[0] == {
        "title.sort": {"order": "asc", "missing": "_last"}
    }


def test_score_conversion_and_facet_order() -> None:
    assert cosine_from_score(0.75) == pytest.approx(0.5)
    aggs = {
        "place": {
            "buckets": [
                {"key": "b", "doc_count": 2},
                {"key": "a", "doc_count": 2},
                {"key": "c", "doc_count": 5},
            ]
        },
        "decade": {"buckets": [{"key": 1780.0, "doc_count": 1}, {"key": 1790.0, "doc_count": 3}]},
    }
    assert parse_facets(aggs, 2) == {
        "place": [("c", 5), ("a", 2)],
        "decade": [("1790", 3), ("1780", 1)],
    }


def test_index_definition_pins_hnsw_and_adds_english_only_when_available() -> None:
    plain = index_definition(1, dims=512, english=False)
    vector = plain["mappings"]["properties"]["vector"]
    assert vector["dims"] == 512 and vector["similarity"] == "cosine"
    assert vector["index_options"] == {"type": "int8_hnsw", "m": 16, "ef_construction": 100}
    assert plain["mappings"]["properties"]["record"] == {"type": "object", "enabled": False}
    assert "fields" not in plain["mappings"]["properties"]["body"]
    assert plain["mappings"]["_meta"]["analysis"] == "standard"
    english = index_definition(1, dims=None, english=True)
    assert (
        english["mappings"]["properties"]["body"]["fields"]["english"]["analyzer"]
        == "english_folded"
    )
    assert english["mappings"]["_meta"]["analysis"] == "english"
    assert "dims" not in english["mappings"]["properties"]["vector"]


def test_physical_names_carry_version_and_time() -> None:
    name = physical_name("lib", 3)
    assert parse_physical(name) == ("lib", 3)
    assert parse_physical("lib-maps") is None


def test_one_list_carries_its_own_total_and_facets_hybrid_counts_afterwards() -> None:
    semantic_only = es_queries.search_plan(
        BackendQuery(vector=VECTOR, facets=("place",)), MAPS_FIELDS
    )
    assert [answers for answers, _ in semantic_only] == [("semantic", "result_set")]
    assert (
        semantic_only[0][1]["track_total_hits"] is True and "place" in semantic_only[0][1]["aggs"]
    )
    keyword_only = es_queries.search_plan(BackendQuery(text="boston"), MAPS_FIELDS)
    assert [answers for answers, _ in keyword_only] == [("keyword", "result_set")]
    hybrid = es_queries.search_plan(BackendQuery(text="boston", vector=VECTOR), MAPS_FIELDS)
    assert [answers for answers, _ in hybrid] == [("keyword",), ("semantic",)]


def test_hits_read_doc_values_not_source() -> None:
    body = es_queries.keyword_list_body(BackendQuery(text="boston"), MAPS_FIELDS)
    assert body is not None
    assert body["_source"] is False and body["stored_fields"] == "_none_"
    assert body["docvalue_fields"] == ["id", "item_id", "year_start", "title.raw"]


def test_mapping_v2_searches_python_analysed_terms_on_any_cluster() -> None:
    for english in (False, True):  # v2 never relies on analysis-common
        v2 = index_definition(2, dims=128, english=english)
        properties = v2["mappings"]["properties"]
        assert {name: f["analyzer"] for name, f in properties["terms"]["properties"].items()} == {
            "title": "whitespace",
            "subjects_places": "whitespace",
            "body": "whitespace",
            "contributors": "whitespace",
        }
        assert "body" not in properties and v2["mappings"]["_meta"]["analysis"] == ANALYSIS
    fields = maps_fields(2, "standard")
    clause = es_queries.keyword_clause("Sea Monsters of the Académie", fields)
    assert clause is not None
    # terms, not words, scored as one field (BM25F), like FTS5's bm25() over weighted columns
    assert clause == {
        "combined_fields": {
            "query": "sea monster academie",
            "operator": "and",
            "fields": [
                "terms.title^4",
                "terms.subjects_places^2",
                "terms.body^1",
                "terms.contributors^1",
            ],
        }
    }
    v1 = es_queries.keyword_clause("Sea Monsters", maps_fields(1, "standard"))
    assert v1 is not None and v1["multi_match"]["query"] == "sea monsters"  # v1 analyses itself


def test_documents_follow_the_layout_of_the_index_version() -> None:
    record = MapRecord(id="t:1", source="t", title="Cartes des Côtes", subjects=["Harbors"])
    doc = IndexDocument(record=record)
    v1 = to_source(doc, 1)
    assert v1["title"] == "Cartes des Côtes" and v1["subjects_places"] == "Harbors"
    assert "terms" not in v1
    v2 = to_source(doc, 2)
    assert v2["title"] == "Cartes des Côtes" and "subjects_places" not in v2
    assert v2["terms"]["title"] == "carte des cote" and v2["terms"]["subjects_places"] == "harbor"


def test_a_short_list_still_explores_enough_candidates() -> None:
    knn = es_queries.knn_clause(VECTOR, BackendQuery(vector=VECTOR, num_candidates=10), MAPS_FIELDS)
    assert knn["k"] == 10 and knn["num_candidates"] == es_queries.MIN_NUM_CANDIDATES


def test_binary_quantization_falls_back_to_int8_for_small_or_unknown_dims() -> None:
    v3 = index_definition(3, dims=512, english=False)["mappings"]["properties"]["vector"]
    assert v3["index_options"]["type"] == "bbq_hnsw"
    small = index_definition(3, dims=4, english=False)["mappings"]["properties"]["vector"]
    assert small["index_options"] == {"type": "int8_hnsw", "m": 16, "ef_construction": 100}
    unknown = index_definition(3, dims=None, english=False)["mappings"]["properties"]["vector"]
    assert unknown["index_options"]["type"] == "int8_hnsw"


def test_at_least_100_and_1_5_times_k_quantized_candidates_are_rescored() -> None:
    def knn(k: int) -> dict[str, object]:
        query = BackendQuery(vector=VECTOR, num_candidates=k)
        return es_queries.knn_clause(VECTOR, query, MAPS_FIELDS)

    assert knn(200)["rescore_vector"] == {"oversample": 1.5} and knn(200)["num_candidates"] == 300
    assert knn(10)["rescore_vector"] == {"oversample": 10.0} and knn(10)["num_candidates"] == 100
    assert knn(1)["rescore_vector"] == {"oversample": 10.0}  # ES refuses more than 10


def test_the_region_list_ranks_maps_without_fetching_their_regions() -> None:
    fields = maps_fields(4, ANALYSIS)
    query = BackendQuery(vector=VECTOR, num_candidates=200, min_similarity=0.2)
    body = es_queries.region_list_body(query, fields)
    assert body["knn"]["field"] == "regions.vector" and body["size"] == 200
    # inner hits for a window of 200 maps cost 2.5-4x the list: the shown page's regions are
    # scored from its fetched documents instead
    assert "inner_hits" not in body["knn"]
    assert body["_source"] is False
    assert "similarity" not in body["knn"]  # a blend is barred after combining
    barred = es_queries.region_list_body(
        BackendQuery(vector=VECTOR, min_similarity=0.2, region_combine="max"), fields
    )
    assert barred["knn"]["similarity"] == 0.2
