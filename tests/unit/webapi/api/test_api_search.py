"""/api/search, /api/items, /healthz, /images and uploads against a real embedded index."""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from indexer.records import IndexDocument, MapRecord
from tests.support.indexed_app import COLOURS, draw_map
from webapi.services import services_of


def png_bytes(colour: tuple[int, int, int], seed: int = 7) -> bytes:
    buffer = io.BytesIO()
    draw_map(colour, seed).save(buffer, format="PNG")
    return buffer.getvalue()


class _ModelThatMustNotLoad:
    """Any use of the model fails the test."""

    loaded = False

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"model used: {name}")


def test_keyword_search_does_not_load_the_model(client: FlaskClient, app: Flask) -> None:
    services_of(app).use_embedder(_ModelThatMustNotLoad())  # type: ignore[arg-type]
    response = client.get("/api/search?q=london&mode=keyword&facet=place&facet=decade")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["total"] == 3
    assert {hit["id"] for hit in body["hits"]} == {"test:gray-0", "test:gray-1", "test:gray-2"}
    assert body["facets"]["place"] == [{"value": "London", "count": 3}]
    assert set(body) >= {"total", "page", "size", "hits", "facets", "query", "took_ms"}
    hit = body["hits"][0]
    assert set(hit) >= {
        "id",
        "item_id",
        "title",
        "date",
        "year_start",
        "year_end",
        "places",
        "subjects",
        "thumbnail_url",
        "source_url",
        "score",
    }
    assert "explain" not in hit
    assert re.fullmatch(r"/thumbnails/[0-9a-f]{2}/[0-9a-f]{64}-300\.webp", hit["thumbnail_url"])
    # the thumbnail really is served by the app
    image = client.get(hit["thumbnail_url"])
    assert image.status_code == 200 and image.mimetype == "image/webp"
    health = client.get("/healthz").json
    assert health["model_loaded"] is False and health["documents"] == 14


def test_semantic_text_search_ranks_by_colour(client: FlaskClient) -> None:
    body = client.get("/api/search?q=blue&mode=semantic&size=3").json
    assert [hit["id"].split("-")[0] for hit in body["hits"]] == ["test:blue"] * 3
    assert body["query"]["model"] == "test-colour-v1"


def test_repeatable_filters_and_explain(client: FlaskClient) -> None:
    body = client.get(
        "/api/search?q=map&place=London&place=Mars&year_from=1700&year_to=1760&explain=true&facet=place"
    ).json
    places = {hit["places"][0] for hit in body["hits"]}
    assert places == {"Mars"}  # London maps are dated 1850+
    assert all("explain" in hit and "fused" in hit["explain"] for hit in body["hits"])


def test_found_in_filters_and_counts_keyword_matches_and_refuses_a_search_without_words(
    client: FlaskClient,
) -> None:
    body = client.get("/api/search?q=map&mode=keyword&facet=found_in&size=100").json
    assert body["facets"]["found_in"] == [{"value": "catalogue", "count": body["total"]}]
    filtered = client.get("/api/search?q=map&found_in=catalogue&facet=found_in").json
    assert filtered["total"] == body["total"]
    assert client.get("/api/search?q=map&found_in=map").json["total"] == 0  # no map text here
    for query in ("found_in=map", "q=blue&mode=semantic&found_in=map", "q=map&found_in=title"):
        refused = client.get(f"/api/search?{query}")
        assert refused.status_code == 400, query
        assert refused.mimetype == "application/problem+json"
        assert "found_in" in refused.get_data(as_text=True), query


def test_image_id_and_similar(client: FlaskClient) -> None:
    body = client.get("/api/search?image_id=test:green-0&mode=semantic&size=3").json
    assert [hit["id"] for hit in body["hits"]][0] == "test:green-0"
    similar = client.get("/api/items/test:green-0/similar?size=2").json
    assert [hit["id"].split("-")[0] for hit in similar["hits"]] == ["test:green", "test:green"]
    assert "test:green-0" not in {hit["id"] for hit in similar["hits"]}


def test_post_json_and_multipart_image(client: FlaskClient) -> None:
    body = client.post(
        "/api/search", json={"q": "red", "mode": "semantic", "size": 2, "place": ["Mars"]}
    ).json
    assert [hit["id"].split("-")[0] for hit in body["hits"]] == ["test:red", "test:red"]
    response = client.post(
        "/api/search",
        data={
            "image": (io.BytesIO(png_bytes(COLOURS["blue"])), "query.png"),
            "mode": "semantic",
            "size": "3",
            "facet": ["place"],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.json
    assert [hit["id"].split("-")[0] for hit in response.json["hits"]] == ["test:blue"] * 3
    html_form = client.post(
        "/api/search",
        data="q=london&mode=keyword&place=London&place=Mars",
        content_type="application/x-www-form-urlencoded",
    )
    assert html_form.status_code == 200 and html_form.json["total"] == 3
    # the result set is the semantic window (every map with a vector), and facets count over it
    assert response.json["total"] == 12
    assert {b["value"]: b["count"] for b in response.json["facets"]["place"]} == {
        "Ireland": 3,
        "London": 3,
        "Mars": 3,
        "Pacific Ocean": 3,
    }


def test_a_json_body_is_read_strictly_and_a_form_as_text(client: FlaskClient) -> None:
    for wrong in ({"has_image": 0.0}, {"explain": 1}, {"size": "5"}):
        response = client.post("/api/search", json={"q": "red", **wrong})
        assert response.status_code == 400, (wrong, response.json)
        assert response.mimetype == "application/problem+json"
        assert next(iter(wrong)) in str(response.json)
    # the same values as form text are what a form can only send: read leniently
    form = client.post(
        "/api/search",
        data="q=red&has_image=true&size=5",
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 200 and len(form.json["hits"]) == 5
    good = client.post("/api/search", json={"q": "red", "has_image": True, "size": 5, "mix": 0})
    assert good.status_code == 200 and len(good.json["hits"]) == 5


def test_upload_token_is_a_permalink(client: FlaskClient) -> None:
    response = client.post(
        "/api/uploads",
        data={"image": (io.BytesIO(png_bytes(COLOURS["gray"])), "x.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    token = response.json["token"]
    body = client.get(f"/api/search?image_token={token}&mode=semantic&size=3").json
    assert [hit["id"].split("-")[0] for hit in body["hits"]] == ["test:gray"] * 3
    unknown = client.get("/api/search?image_token=AAAAAAAAAAAAAAAAAAAAAAAA&mode=semantic")
    assert unknown.status_code == 400 and unknown.mimetype == "application/problem+json"


def test_upload_stores_the_bounded_image_within_a_quota(app: Flask, client: FlaskClient) -> None:
    def upload() -> tuple[int, dict[str, object]]:
        response = client.post(
            "/api/uploads",
            data={"image": (io.BytesIO(png_bytes(COLOURS["gray"])), "x.png")},
            content_type="multipart/form-data",
        )
        return response.status_code, response.json

    status, body = upload()
    assert status == 201
    stored = services_of(app).settings.data_dir / "uploads" / f"{body['token']}.upload"
    assert stored.read_bytes().startswith(b"\x89PNG")  # the decoded image, re-encoded
    services_of(app).settings.upload_quota_bytes = stored.stat().st_size + 10
    status, body = upload()
    assert status == 507 and body["title"] == "Upload storage is full", body


def test_upload_expires(app: Flask, client: FlaskClient) -> None:
    token = client.post(
        "/api/uploads",
        data={"image": (io.BytesIO(png_bytes(COLOURS["red"])), "x.png")},
        content_type="multipart/form-data",
    ).json["token"]
    services_of(app).settings.upload_ttl_seconds = -1
    response = client.get(f"/api/search?image_token={token}")
    assert response.status_code == 400 and "expired" in response.json["detail"]


def test_item_detail_and_404(client: FlaskClient) -> None:
    item = client.get("/api/items/test:red-0").json
    assert (
        item["id"] == "test:red-0"
        and item["has_vector"] is True
        and item["model_id"] == "test-colour-v1"
    )
    assert "raw" not in item and item["thumbnail_url"].startswith("/thumbnails/")
    missing = client.get("/api/items/test:nope")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert client.get("/api/items/test:nope/similar").status_code == 404


def test_healthz(client: FlaskClient) -> None:
    body = client.get("/healthz").json
    assert body["status"] == "ok" and body["documents"] == 14 and body["with_vectors"] == 12
    assert body["index_model"] == "test-colour-v1" and body["backend"] == "embedded"


def test_readyz_says_loading_until_warm_then_ready(client: FlaskClient, app: Flask) -> None:
    container = services_of(app).container
    container._warming = object()  # type: ignore[assignment]  # hold the background warm-up back
    loading = client.get("/readyz")
    assert loading.status_code == 503 and loading.json["title"] == "Loading"
    assert loading.headers["Retry-After"] == "1"
    container.warm_up()  # opens the index, loads (here: the test's) model, embeds once
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ready"


def test_readyz_reports_a_failed_warm_up_as_a_503_problem(client: FlaskClient, app: Flask) -> None:
    class BrokenModel:
        loaded = False

        def embed_query_text(self, text: str) -> None:
            raise RuntimeError("weights missing")

    services_of(app).use_embedder(BrokenModel())  # type: ignore[arg-type]
    assert services_of(app).container.warm_up().state == "failed"
    response = client.get("/readyz")
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert "weights missing" in response.json["detail"]
    keyword = client.get("/api/search?q=london&mode=keyword")
    assert keyword.status_code == 200  # a process without its model still serves words


def test_images_refuse_path_traversal(client: FlaskClient, app: Flask) -> None:
    secret = services_of(app).settings.data_dir / "index.sqlite"
    assert secret.exists()
    for path in (
        "/images/../index.sqlite",
        "/images/%2e%2e/index.sqlite",
        "/images/..%2findex.sqlite",
        "/images//etc/passwd",
    ):
        response = client.get(path, follow_redirects=True)
        assert response.status_code == 404, path
    assert client.get("/images/missing.png").status_code == 404


def test_images_do_not_follow_symbolic_links(client: FlaskClient, app: Flask) -> None:
    images = services_of(app).settings.data_dir / "images"
    images.mkdir(exist_ok=True)
    (images / "secret.png").symlink_to(services_of(app).settings.data_dir / "index.sqlite")
    assert client.get("/images/secret.png").status_code == 404


def test_image_url_search_fetches_through_the_guard(app: Flask, client: FlaskClient) -> None:
    from tests.support.http_server import Reply, ScriptedServer

    with ScriptedServer() as server:
        server.add("/red.png", Reply(200, png_bytes(COLOURS["red"]), content_type="image/png"))
        url = server.url("/red.png")
        refused = client.get("/api/search", query_string={"image_url": url, "mode": "semantic"})
        assert (
            refused.status_code == 400 and "non-public" in refused.json["detail"]
        )  # the guard is on
        by_name = client.get(
            "/api/search",
            query_string={"image_url": url.replace("127.0.0.1", "localhost"), "mode": "semantic"},
        )
        assert by_name.status_code == 400 and "non-public" in by_name.json["detail"]
        assert "127.0.0.1" not in by_name.json["detail"]  # the resolved address is not named
        services_of(app).settings.allow_private_urls = True  # the test server lives on 127.0.0.1
        body = client.get(
            "/api/search", query_string={"image_url": url, "mode": "semantic", "size": 3}
        ).json
    assert [hit["id"].split("-")[0] for hit in body["hits"]] == ["test:red"] * 3


def test_unavailable_model_is_503_and_keyword_search_still_works(tmp_path: Path) -> None:
    from webapi.app import create_app

    app = create_app({"data_dir": tmp_path / "data", "model": str(tmp_path / "no-such-checkpoint")})
    client = app.test_client()
    services = services_of(app)
    services.backend.write(
        [IndexDocument(record=MapRecord(id="test:1", source="test", title="Harbour of Dublin"))]
    )
    assert client.get("/api/search?q=harbour&mode=keyword").json["total"] == 1
    response = client.get("/api/search?q=harbour&mode=semantic")
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert (
        "MAPSEARCH_MODEL" in response.json["detail"] and response.headers["Retry-After"].isdigit()
    )
    services.close()


def test_expired_uploads_are_purged_on_the_next_upload(app: Flask, client: FlaskClient) -> None:
    def upload() -> str:
        response = client.post(
            "/api/uploads",
            data={"image": (io.BytesIO(png_bytes(COLOURS["green"])), "x.png")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 201
        return str(response.json["token"])

    first = upload()
    uploads = services_of(app).settings.data_dir / "uploads"
    assert (uploads / f"{first}.upload").exists()
    two_days_ago = time.time() - 2 * 86400  # older than the default lifetime of a day
    os.utime(uploads / f"{first}.upload", (two_days_ago, two_days_ago))
    second = upload()
    assert not (uploads / f"{first}.upload").exists()
    assert (uploads / f"{second}.upload").exists()


def test_upload_on_a_full_disk_is_a_503_problem(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    def disk_full(self: Path, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_bytes", disk_full)  # the fault, injected
    response = client.post(
        "/api/uploads",
        data={"image": (io.BytesIO(png_bytes(COLOURS["gray"])), "x.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] and "No space left" in response.json["detail"]
    monkeypatch.undo()
    assert not list((services_of(app).settings.data_dir / "uploads").glob("*.tmp"))
    assert client.get("/api/search?q=london&mode=keyword").status_code == 200
