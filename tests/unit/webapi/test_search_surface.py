"""The faces derive from the search surface: a request parameter, a CLI option and a sidebar
group per filter facet (terms facets and found_in); the sorts and the page limit are the
declared ones."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from indexer.search_surface import (
    FACET_NAMES,
    FILTER_FACETS,
    FOUND_IN,
    MAX_PAGE_SIZE,
    SORT_LABELS,
    TERMS_FACETS,
)
from webapi.cli import cli
from webapi.search.params import SearchParams
from webapi.ui.query import REQUESTED_FACETS, SIDEBAR_FACETS, params_from_args
from webapi.ui.search_views import SORT_OPTIONS


def test_every_terms_facet_is_a_repeatable_filter_parameter() -> None:
    values = {facet.name: [f"{facet.name}-a", f"{facet.name}-b"] for facet in TERMS_FACETS}
    params = SearchParams.model_validate(values)
    assert params.term_filters == {name: tuple(v) for name, v in values.items()}
    assert SearchParams().term_filters == {}
    schema = SearchParams.model_json_schema()["properties"]
    for facet in TERMS_FACETS:
        assert schema[facet.name]["type"] == "array"
        assert schema[facet.name]["description"] == facet.help


def test_found_in_is_a_repeatable_filter_of_its_declared_values_only() -> None:
    assert FOUND_IN.choices is not None
    assert list(FOUND_IN.choices) == ["catalogue", "map", "both"]
    params = SearchParams.model_validate({"found_in": ["map", "both", "map"]})
    assert params.found_in_values == ("map", "both")
    assert params.term_filters == {}  # not a stored field: the backends compute it per query
    with pytest.raises(ValidationError, match="found_in"):
        SearchParams.model_validate({"found_in": ["title"]})
    schema = SearchParams.model_json_schema()["properties"]["found_in"]
    assert schema["type"] == "array"
    assert schema["items"]["enum"] == ["catalogue", "map", "both"]
    assert schema["description"] == FOUND_IN.help


def test_every_facet_can_be_requested_and_no_other() -> None:
    assert SearchParams(facet=list(FACET_NAMES)).facet == list(FACET_NAMES)
    with pytest.raises(ValidationError, match="facet"):
        SearchParams.model_validate({"facet": ["genre-that-does-not-exist"]})


def test_the_page_size_limit_is_the_declared_one() -> None:
    assert SearchParams(size=MAX_PAGE_SIZE).size == MAX_PAGE_SIZE
    with pytest.raises(ValidationError, match="size"):
        SearchParams(size=MAX_PAGE_SIZE + 1)


def test_api_refuses_a_page_past_the_limit_with_a_problem(client: FlaskClient) -> None:
    for path in ("/api/search", "/api/items/test:red-0/similar"):
        reply = client.get(path, query_string={"size": MAX_PAGE_SIZE + 1})
        assert reply.status_code == 400, path
        assert reply.mimetype == "application/problem+json"


def test_cli_has_an_option_per_terms_facet_and_the_declared_sorts() -> None:
    help_text = CliRunner().invoke(cli, ["search", "--help"], terminal_width=200).output
    for facet in TERMS_FACETS:
        assert f"--{facet.name} TEXT" in help_text, facet.name
    assert "--found-in [catalogue|map|both]" in help_text
    for sort in SORT_LABELS:
        assert sort in help_text


def test_ui_sidebar_sort_menu_and_list_parameters_follow_the_surface() -> None:
    assert {facet.name: facet.label for facet in FILTER_FACETS} == SIDEBAR_FACETS
    assert [f.name for f in FILTER_FACETS] == ["found_in", *(f.name for f in TERMS_FACETS)]
    assert (*SIDEBAR_FACETS, "decade") == REQUESTED_FACETS
    assert dict(SORT_OPTIONS) == SORT_LABELS
    args = MultiDict([(facet.name, "x") for facet in TERMS_FACETS] + [("place", "y")])
    params = params_from_args(args)
    assert params.term_filters["place"] == ("x", "y")
    assert set(params.term_filters) | {"found_in"} == set(SIDEBAR_FACETS)
    found = params_from_args(MultiDict([("q", "bay"), ("found_in", "map"), ("found_in", "both")]))
    assert found.found_in_values == ("map", "both")
