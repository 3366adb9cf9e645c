"""The OpenAPI document is generated from the models
that validate, and says what is really accepted."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from webapi.search.params import SearchParams


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not ref:
        return schema
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]]  # type: ignore[no-any-return]


def test_every_search_field_is_documented_for_get_and_post(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").json
    fields = set(SearchParams.model_fields)
    get_params = {
        p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"] if p["in"] == "query"
    }
    assert get_params == fields
    content = spec["paths"]["/api/search"]["post"]["requestBody"]["content"]
    assert set(resolve(spec, content["application/json"]["schema"])["properties"]) == fields
    assert (
        set(resolve(spec, content["application/x-www-form-urlencoded"]["schema"])["properties"])
        == fields
    )
    multipart = resolve(spec, content["multipart/form-data"]["schema"])
    assert set(multipart["properties"]) == fields | {"image"}
    assert multipart["properties"]["image"]["format"] == "binary"


def test_documented_constraints_match_validation(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").json
    params = {p["name"]: p for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert params["size"]["schema"]["maximum"] == 100 and params["size"]["schema"]["minimum"] == 1
    assert params["mode"]["schema"]["enum"] == ["hybrid", "semantic", "keyword"]
    assert params["place"]["schema"]["type"] == "array"
    assert params["found_in"]["schema"]["items"]["enum"] == ["catalogue", "map", "both"]
    assert "keyword matches only" in params["found_in"]["description"]
    # what the document says is out of range really is refused, and what it allows is accepted
    assert client.get("/api/search?size=101").status_code == 400
    assert client.get("/api/search?size=100").status_code == 200


def test_unknown_parameters_are_rejected(client: FlaskClient) -> None:
    response = client.get("/api/search?q=sea&colour=red")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert response.json["errors"][0]["loc"] == ["query", "colour"]
    posted = client.post("/api/search", json={"q": "sea", "colour": "red"})
    assert posted.status_code == 400 and posted.json["errors"][0]["loc"] == ["body", "colour"]


def test_every_endpoint_documents_its_problems(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").json
    assert {
        "/api/search",
        "/api/uploads",
        "/api/items/{item_id}",
        "/api/items/{item_id}/similar",
        "/healthz",
    } <= set(spec["paths"])
    search = spec["paths"]["/api/search"]["get"]["responses"]
    assert {"200", "400", "503"} <= set(search)
    assert search["400"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    assert set(search["200"]["content"]) == {"application/json"}
    assert "Problem" in spec["components"]["schemas"]


def test_the_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    spec: dict[str, Any] = client.get("/api/openapi.json").json or {}
    assert spec["openapi"].startswith("3.1")
    validate(spec)  # raises on any violation (it did: securitySchemes was null, issue 15)
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A staff token from MAPSEARCH_ADMIN_TOKENS.",
    }
    admin = spec["paths"]["/api/admin/status"]["get"]
    assert admin["security"] == [{"bearer": []}]
    broken = {**spec, "components": {**spec["components"], "securitySchemes": None}}
    try:
        validate(broken)
    except OpenAPIValidationError:
        pass  # the validator does reject what the document used to be
    else:
        raise AssertionError("the validator accepted a null securitySchemes")
