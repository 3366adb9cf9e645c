"""Hostile input never becomes a 500: every bad request gets a 4xx problem+json, and the index is
unchanged afterwards."""

from __future__ import annotations

import io
import json
import struct
import zlib
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from webapi.search.service import DEFAULT_MODIFIER_WEIGHT
from webapi.services import services_of

HUGE = "x" * 100_000


def huge_dimension_png(width: int = 30_000, height: int = 30_000) -> bytes:
    """A tiny file that claims a 900-megapixel 1-bit image (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(
        b"\x00" * (width // 8 + 1) * 64
    )  # truncated pixel data is fine: never decoded
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


BAD_QUERY_STRINGS = [
    "size=abc",
    "size=-1",
    "size=0",
    "size=101",
    "size=1e9",
    "size=99999999999999999999999",
    "page=0",
    "page=-5",
    "page=abc",
    "q=sea&page=1000000000",
    "q=sea&page=" + "9" * 40,
    "mix=2",
    "mix=nan",
    "mix=inf",
    "mix=-1.5",
    "mix=one",
    "min_similarity=nan",
    "min_similarity=5",
    "year_from=abc",
    "year_from=5000",
    "year_from=1900&year_to=1800",
    "year_to=" + "1" * 30,
    "bbox=1,2,3",
    "bbox=a,b,c,d",
    "bbox=200,0,0,0",
    "bbox=0,50,10,40",
    "bbox=nan,nan,nan,nan",
    "bbox=inf,0,0,0",
    "bbox=" + HUGE[:5000],
    "q=" + HUGE,
    "image_url=" + HUGE,
    "image_id=" + HUGE,
    "foo=1",
    "q=sea&unknown=x",
    "facet=bogus",
    "facet=place&facet=nope",
    "mode=bogus",
    "fusion=bogus",
    "sort=bogus",
    "explain=maybe",
    "collapse=2",
    "has_image=perhaps",
    "modify=" + "&modify=".join(["a:0.1"] * 11),
    "q=sea&modify=grayscale:5",
    "modify=grayscale:0.5",
    "mode=keyword&image_id=test:red-0&q=x",
    "image_id=test:nope",
    "image_id=test:noimage",
    "image_id=test:red-0&image_url=https://example.org/a.png",
    "image_url=http://127.0.0.1/x.png",
    "image_url=http://localhost:5000/images/red-0.png",
    "image_url=http://169.254.169.254/latest/meta-data",
    "image_url=http://[::1]/x.png",
    "image_url=file:///etc/passwd",
    "image_url=ftp://example.org/a.png",
    "image_url=javascript:alert(1)",
    "image_token=../../etc/passwd",
    "image_token=short",
    "image_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
]

BAD_JSON_BODIES: list[tuple[str, str]] = [
    ("application/json", "{bad"),
    ("application/json", ""),
    ("application/json", "[1, 2]"),
    ("application/json", '"q"'),
    ("application/json", "42"),
    ("application/json", "null"),
    ("application/json", '{"q": "sea", "unknown": 1}'),
    ("application/json", '{"size": "big"}'),
    ("application/json", '{"place": {"a": 1}}'),
    ("application/json", '{"facet": ["bogus"]}'),
    ("application/json", '{"q": ["a", "b"]}'),
    ("application/json", '{"page": 1e400}'),
    ("application/json", '{"mix": NaN}'),
    ("application/json", '{"q": "\\ud800"}'),
    ("application/json", json.dumps({"q": HUGE})),
    ("application/json", '{"image_url": "http://127.0.0.1:1/x.png"}'),
    ("text/plain", "q=sea"),
    ("application/x-www-form-urlencoded", "q=sea&colour=red"),
    ("application/x-www-form-urlencoded", "size=0"),
    ("application/xml", "<q>sea</q>"),
    ("", "q=sea"),
]


def assert_problem(response: Any, context: str) -> None:
    assert 400 <= response.status_code < 500, (
        f"{context}: {response.status_code} {response.get_data(as_text=True)[:300]}"
    )
    assert response.mimetype == "application/problem+json", context
    body = response.get_json()
    assert body["status"] == response.status_code, context
    assert {"type", "title", "status", "detail"} <= set(body), context


def index_state(app: Flask) -> tuple[Any, ...]:
    backend = services_of(app).backend
    info = backend.info()
    docs = backend.fetch(
        [f"test:{c}-{n}" for c in ("red", "green", "blue", "gray") for n in range(3)]
        + ["test:broken", "test:noimage"]
    )
    return (
        info.documents,
        info.with_vectors,
        info.model_id,
        tuple(sorted((i, d.record.title, d.image_hash) for i, d in docs.items())),
    )


def test_hostile_requests_get_4xx_problems_and_leave_the_index_alone(
    app: Flask, client: FlaskClient
) -> None:
    before = index_state(app)
    for query in BAD_QUERY_STRINGS:
        assert_problem(client.get(f"/api/search?{query}"), f"GET ?{query[:80]}")
    for content_type, data in BAD_JSON_BODIES:
        assert_problem(
            client.post("/api/search", data=data, content_type=content_type),
            f"POST {content_type} {data[:60]}",
        )
    too_big = b"\x89PNG" + b"\x00" * 300_000  # fixture limit: 200,000 bytes
    multipart_cases: list[tuple[str, dict[str, Any]]] = [
        ("/api/search", {"image": (io.BytesIO(b"%PDF-1.4 not an image"), "a.pdf")}),
        ("/api/search", {"image": (io.BytesIO(b"GIF89a truncated"), "a.gif")}),
        ("/api/search", {"image": (io.BytesIO(too_big), "big.png")}),
        ("/api/search", {"image": (io.BytesIO(huge_dimension_png()), "bomb.png")}),
        ("/api/search", {"q": "sea", "bogus": "1"}),
        ("/api/search", {"q": "sea", "other": (io.BytesIO(b"x"), "x.txt")}),
        ("/api/search", {"size": "lots"}),
        ("/api/uploads", {}),
        ("/api/uploads", {"image": (io.BytesIO(b"hello"), "a.png")}),
        ("/api/uploads", {"image": (io.BytesIO(too_big), "big.png")}),
        ("/api/uploads", {"image": (io.BytesIO(huge_dimension_png()), "bomb.png")}),
    ]
    for path, form in multipart_cases:
        assert_problem(
            client.post(path, data=form, content_type="multipart/form-data"),
            f"POST {path} {sorted(form)}",
        )
    assert_problem(client.post("/api/uploads", json={"image": "aGVsbG8="}), "uploads with JSON")
    assert_problem(
        client.post("/api/search", data=b"{" * 300_000, content_type="application/json"),
        "body over MAX_CONTENT_LENGTH",
    )
    for method, path in [
        ("PUT", "/api/search"),
        ("DELETE", "/api/items/test:red-0"),
        ("PATCH", "/healthz"),
        ("GET", "/api/uploads"),
    ]:
        assert_problem(client.open(path, method=method), f"{method} {path}")
    for path in [
        "/api/items/" + "x" * 400,
        "/api/items/test:nope",
        "/api/items/test:red-0/similar?size=0",
        "/api/items/test:red-0/similar?bogus=1",
        "/api/items/test:nope/similar",
        "/api/items/test:noimage/similar",
        "/api/nope",
        "/images/../index.sqlite",
    ]:
        assert_problem(client.get(path), f"GET {path}")
    assert index_state(app) == before


def test_405_names_the_allowed_methods(client: FlaskClient) -> None:
    response = client.put("/api/search")
    assert response.status_code == 405 and {"GET", "POST"} <= {
        m.strip() for m in response.headers["Allow"].split(",")
    }


@pytest.mark.parametrize(
    "query",
    [
        'q="unbalanced',
        "q=AND OR NOT",
        "q=*",
        "q=NEAR(",
        "q=title:x",
        "q=%00",
        "q=ünïcödé 東京",
        "q=-",
        "q=sea&page=1&size=100",
    ],
)
def test_odd_but_valid_text_is_answered(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/search?{query}&mode=keyword")
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
    if response.status_code == 400:
        assert response.mimetype == "application/problem+json"


def test_backend_down_is_503_with_retry_after(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from indexer.backends.base import BackendError

    backend = services_of(app).backend

    def down(*args: Any, **kwargs: Any) -> Any:
        raise BackendError("disk unplugged")  # a fault injected into the real backend

    monkeypatch.setattr(backend, "search", down)
    monkeypatch.setattr(backend, "info", down)
    for path in ("/api/search?q=sea", "/healthz"):
        response = client.get(path)
        assert response.status_code == 503 and response.mimetype == "application/problem+json"
        assert response.headers["Retry-After"].isdigit()


@pytest.mark.parametrize(
    "query",
    ["q=london&q=paris", "size=1&size=100", "mode=keyword&mode=semantic&q=x", "page=1&page=2"],
)
def test_repeated_single_valued_parameters_are_refused(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/search?{query}")
    assert_problem(response, query)
    assert response.status_code == 400
    assert {e["type"] for e in response.json["errors"]} == {"repeated_parameter"}
    # the same in a POSTed form: never silently one of the values
    name, value = query.split("&")[0].split("=")
    form = client.post("/api/search", data={name: [value, value + "x"]})
    assert form.status_code == 400, form.json


def test_repeatable_parameters_still_repeat(client: FlaskClient) -> None:
    response = client.get("/api/search?q=map&place=London&place=Paris&facet=place&facet=decade")
    assert response.status_code == 200, response.json


def test_modifier_without_weight_takes_the_documented_default(client: FlaskClient) -> None:
    body = client.get("/api/search?q=london&modify=grayscale&size=1").json
    # echoed with the weight it searched with (the model's calibrated default; this index's test
    # model has none, so the documented fallback), not silent
    assert body["query"]["modify"] == [f"grayscale:{DEFAULT_MODIFIER_WEIGHT:g}"]
    assert client.get("/api/search?q=x&modify=grayscale:9").status_code == 400


def test_admin_endpoints_refuse_unknown_and_repeated_parameters(tmp_path: Any) -> None:
    from tests.support.indexed_app import indexed_app

    with indexed_app(tmp_path / "data", admin_tokens=["staff"]) as app:
        client = app.test_client()
        staff = {"Authorization": "Bearer staff"}
        assert client.get("/api/admin/jobs?limit=5", headers=staff).status_code == 200
        for path in (
            "/api/admin/jobs?bogus=1",
            "/api/admin/jobs?limit=1&limit=2",
            "/api/admin/status?verbose=1",
            "/api/admin/jobs/abc?x=1",
        ):
            response = client.get(path, headers=staff)
            assert_problem(response, path)
            assert response.status_code == 400, path
