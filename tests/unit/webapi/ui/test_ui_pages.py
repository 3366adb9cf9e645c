"""The UI's pages through Flask's test client over a real embedded index (no browser): what the
server renders without JavaScript, its downloads, and its problem pages."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from indexer.backends.base import BackendError
from indexer.records import ImageRef, IndexDocument, MapRecord
from tests.support.indexed_app import ColourEmbedder, indexed_app
from webapi.app import create_app
from webapi.services import services_of

CARD_ID = re.compile(r'<li class="card" data-id="([^"]+)"')


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    with indexed_app(tmp_path / "data") as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def card_ids(page: str) -> list[str]:
    return CARD_ID.findall(page)


def api_ids(client: FlaskClient, query: str) -> list[str]:
    return [hit["id"] for hit in client.get(f"/api/search?{query}").get_json()["hits"]]


def test_search_page_renders_the_api_results_without_javascript(client: FlaskClient) -> None:
    page = client.get("/?q=blue+sea")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert card_ids(text) == api_ids(client, "q=blue+sea")
    assert 'name="q" type="search" value="blue sea"' in text
    assert 'class="histogram"' in text and 'data-facet="place"' in text
    browse = client.get("/").get_data(as_text=True)
    assert len(card_ids(browse)) == client.get("/api/search").get_json()["total"] == 14


def test_a_bad_query_is_the_api_problem_with_its_status(client: FlaskClient) -> None:
    page = client.get("/?q=x&year_from=1900&year_to=1800")
    problem = client.get("/api/search?q=x&year_from=1900&year_to=1800").get_json()
    assert page.status_code == 400
    assert html.escape(problem["detail"], quote=True) in page.get_data(as_text=True)


def test_backend_down_is_a_503_page_not_a_traceback(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: object, **kwargs: object) -> None:
        raise BackendError("index is unreachable")

    monkeypatch.setattr(services_of(app).search, "search", down)  # inject the fault
    page = client.get("/?q=x")
    assert page.status_code == 503
    assert "Search backend unavailable" in page.get_data(as_text=True)


def test_upload_fallback_redirects_to_a_search_by_token(app: Flask, client: FlaskClient) -> None:
    image = (services_of(app).settings.data_dir / "images" / "red-1.png").read_bytes()
    response = client.post(
        "/upload", data={"q": "", "place": "Mars", "image": (io.BytesIO(image), "red.png")}
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "image_token=" in location and "place=Mars" in location
    page = client.get(location).get_data(as_text=True)
    assert card_ids(page)[0] == "test:red-1"
    token = re.search(r"image_token=([\w-]+)", location)
    assert token and client.get(f"/ui/uploads/{token.group(1)}.jpg").mimetype == "image/jpeg"
    junk = client.post("/upload", data={"image": (io.BytesIO(b"not an image"), "x.png")})
    assert junk.status_code == 415 and "Not an image" in junk.get_data(as_text=True)


def test_exports_download_the_query_results(client: FlaskClient) -> None:
    response = client.get("/export.csv?q=blue")
    assert (
        response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    total = client.get("/api/search?q=blue").get_json()["total"]
    assert len(rows) == total and rows[0]["thumbnail_url"].startswith(
        "http://localhost/thumbnails/"
    )
    collection = client.get("/export.iiif.json?q=blue").get_json()
    assert collection["type"] == "Collection" and len(collection["items"]) == total
    manifest = client.get(collection["items"][0]["id"].replace("http://localhost", "")).get_json()
    assert manifest["type"] == "Manifest"
    assert manifest["items"][0]["items"][0]["items"][0]["body"]["id"].startswith(
        "http://localhost/images/"
    )
    assert client.get("/export.xml?q=blue").status_code == 404


def test_item_page_and_unknown_item(client: FlaskClient) -> None:
    page = client.get("/items/test:blue-0").get_data(as_text=True)
    assert "A blue map of Pacific Ocean number 0" in page and "Cite this map" in page
    similar = client.get("/api/items/test:blue-0/similar?size=12").get_json()["hits"]
    assert card_ids(page) == [hit["id"] for hit in similar]
    assert client.get("/items/test:nope").status_code == 404
    assert client.get("/staff").status_code == 200


def test_links_from_records_are_only_web_links(app: Flask, client: FlaskClient) -> None:
    from indexer.records import IndexDocument, MapRecord
    from webapi.ui.links import web_link

    record = MapRecord(
        id="test:evil",
        source="test",
        title="Evil",
        source_url="javascript:alert(1)",
        thumbnail_url="data:image/png;base64,AAAA",
    )
    services_of(app).backend.write([IndexDocument(record=record)])
    page = client.get("/items/test:evil").get_data(as_text=True)
    assert "javascript:" not in page and "Source record" not in page
    search = client.get("/?q=evil").get_data(as_text=True)
    assert 'src="data:' not in search
    assert [
        web_link(u)
        for u in ("https://x.org/a", "/images/a.png", "//evil.org/x", " JavaScript:alert(1)", None)
    ] == ["https://x.org/a", "/images/a.png", None, None, None]


@pytest.mark.parametrize(
    "query",
    [
        "q=x&modify=grayscale:5",
        "q=x&modify=:0.5",
        "modify=grayscale",
        "bbox=1,2,3",
        "bbox=a,b,c,d",
        "q=x&mix=7",
        "q=x&size=1000",
        "page=0",
        "year_from=abc",
        "sort=bogus",
        "mode=keyword&image_id=test:red-0",
        "q=x&image_id=test:red-0&image_token=abc",
        "image_token=not-a-token",
        "image_id=test:nope",
        "q=x&page=999",
        "image_url=file:///etc/passwd",
    ],
)
def test_bad_queries_are_problem_pages_never_500(client: FlaskClient, query: str) -> None:
    page = client.get(f"/?{query}")
    api = client.get(f"/api/search?{query}")
    assert 400 <= page.status_code < 500, query
    assert page.status_code == api.status_code, query
    assert html.escape(api.get_json()["title"], quote=True) in page.get_data(as_text=True)
    if "page=" not in query:  # exports walk every page themselves
        assert 400 <= client.get(f"/export.csv?{query}").status_code < 500


@pytest.mark.parametrize(
    "path", ["/", "/?q=london&facet=place", "/items/test:gray-0", "/staff", "/items/no:such"]
)
def test_every_html_page_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.mimetype == "text/html", path
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert "script-src 'self';" in policy and "style-src 'self'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    # the pages themselves need no inline script or style attribute
    body = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), path
    assert not re.search(r"\sstyle=", body) and not re.search(r"\son[a-z]+=", body), path


def test_json_responses_are_nosniff(client: FlaskClient) -> None:
    response = client.get("/api/search?q=london&mode=keyword")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_exports_are_capped_lower_for_anonymous_users(tmp_path: Path) -> None:
    with indexed_app(
        tmp_path / "data",
        admin_tokens=["staff-token"],
        export_max_hits_anonymous=2,
        export_max_hits_staff=5,
    ) as app:
        client = app.test_client()
        anonymous = client.get("/export.csv?mode=keyword&q=map")
        staff = client.get(
            "/export.csv?mode=keyword&q=map", headers={"Authorization": "Bearer staff-token"}
        )
        wrong = client.get(
            "/export.csv?mode=keyword&q=map", headers={"Authorization": "Bearer guess"}
        )
        rows = [
            list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
            for r in (anonymous, staff, wrong)
        ]
        assert [len(r) for r in rows] == [2, 5, 2]


def test_an_identical_export_is_served_from_the_cache(app: Flask, client: FlaskClient) -> None:
    services = services_of(app)
    searches = []
    search = services.search.search
    services.search.search = lambda *a, **k: searches.append(1) or search(*a, **k)  # type: ignore[method-assign]
    first = client.get("/export.iiif.json?q=blue")
    counted = len(searches)
    second = client.get("/export.iiif.json?q=blue")
    assert first.get_data() == second.get_data() and counted >= 1 and len(searches) == counted


def test_one_export_is_built_at_a_time(client: FlaskClient) -> None:
    from webapi.ui import export_views

    assert export_views._building.acquire(blocking=False)  # another request is building one
    try:
        busy = client.get("/export.json?q=red")
    finally:
        export_views._building.release()
    assert busy.status_code == 503 and busy.headers["Retry-After"]
    assert client.get("/export.json?q=red").status_code == 200


def test_the_iiif_collection_is_the_one_iiif_prezi3_builds() -> None:
    import json

    from iiif_prezi3 import Collection, ManifestRef

    from webapi.search.params import Hit
    from webapi.ui.export import hits_to_iiif_collection

    hits = [
        Hit(id=f"t:{i}", item_id=f"t:{i}", title=f"Map {i}", score=0.5, thumbnail_url=thumb)
        for i, thumb in enumerate([None, "http://x/1.jpg", "http://x/2.jpg"])
    ]
    reference = Collection(id="http://x/c", label={"none": ["R"]})
    for hit in hits:
        item: dict[str, object] = {"id": f"http://x/m/{hit.id}", "label": {"none": [hit.title]}}
        if hit.thumbnail_url:
            item["thumbnail"] = [{"id": hit.thumbnail_url, "type": "Image", "format": "image/jpeg"}]
        reference.add_item(ManifestRef(**item))
    ours = hits_to_iiif_collection(hits, "http://x/c", "R", lambda i: f"http://x/m/{i}")
    assert json.loads(ours) == json.loads(reference.json())


def test_a_collection_without_image_vectors_says_so(tmp_path: Path) -> None:
    app = create_app({"data_dir": tmp_path / "data", "TESTING": True})
    services = services_of(app)
    services.use_embedder(ColourEmbedder())
    record = MapRecord(id="t:1", source="t", title="Harbor chart")
    assert services.backend.write([IndexDocument(record=record)]).written == 1
    services.backend.refresh()
    try:
        client = app.test_client()
        hybrid = client.get("/?q=harbor").get_data(as_text=True)
        assert card_ids(hybrid) == ["t:1"]
        assert 'id="no-image-vectors"' in hybrid and "match your words only" in hybrid
        semantic = client.get("/?q=harbor&mode=semantic").get_data(as_text=True)
        assert "a semantic search finds nothing" in semantic
    finally:
        services.close()


def test_item_page_says_where_an_image_not_held_here_is(tmp_path: Path) -> None:
    app = create_app({"data_dir": tmp_path / "data", "TESTING": True})
    services = services_of(app)
    manifest = "https://purl.example.org/x1/iiif3/manifest"
    records = [
        MapRecord(
            id="t:1",
            source="t",
            title="Manifest only",
            image=ImageRef.remote(manifest_url=manifest),
            source_url="https://purl.example.org/x1",
        ),
        MapRecord(id="t:2", source="t", title="Catalogue only"),
    ]
    assert services.backend.write([IndexDocument(record=r) for r in records]).written == 2
    try:
        client = app.test_client()
        elsewhere = client.get("/items/t:1").get_data(as_text=True)
        assert 'id="image-elsewhere"' in elsewhere and manifest in elsewhere
        assert "This record has no image" not in elsewhere
        # more like this: said calmly, not a red problem box
        assert 'id="no-similar"' in elsewhere and "has not been embedded" in elsewhere
        assert 'class="problem"' not in elsewhere
        nothing = client.get("/items/t:2").get_data(as_text=True)
        assert 'id="no-image"' in nothing and "This record has no image" in nothing
    finally:
        services.close()


def test_collection_ids_read_as_the_names_the_library_gives(
    app: Flask, client: FlaskClient
) -> None:
    data_dir = services_of(app).settings.data_dir
    (data_dir / "collection_names.json").write_text(
        json.dumps({"stanford-zb871zd0767": "Branner Library map collection"}), encoding="utf-8"
    )
    page = client.get("/?q=red&collection=stanford-zb871zd0767").get_data(as_text=True)
    # the facet value and the chip above the results say the name; the filter keeps the id
    assert '<span class="facet-value">Branner Library map collection</span>' in page
    assert 'value="stanford-zb871zd0767"' in page
    assert "Collection:</span> Branner Library map collection" in page
    unnamed = client.get("/?q=red&collection=other-id").get_data(as_text=True)
    assert '<span class="facet-value">other-id</span>' in unnamed


def test_a_ranking_with_nothing_left_says_0_maps_not_best_0(client: FlaskClient) -> None:
    page = client.get("/?image_id=test:red-0&year_from=1000&year_to=1001").get_data(as_text=True)
    heading = html.unescape(re.sub(r"\s+", " ", page.split('id="results-heading"')[1][:400]))
    assert "Best" not in heading and "0</span> maps" in heading
