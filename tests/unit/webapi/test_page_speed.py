"""Page weight on the wire: compressed text responses, versioned static files cached for good,
thumbnails made at index time served with immutable caching, exports still streamed."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator

import brotli
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.indexed_app import indexed_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with indexed_app(tmp_path_factory.mktemp("speed") / "data") as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_html_json_css_and_js_are_compressed(client: FlaskClient) -> None:
    page = client.get("/?q=red", headers={"Accept-Encoding": "br, gzip"})
    assert page.headers["Content-Encoding"] == "br" and "Accept-Encoding" in page.headers["Vary"]
    assert b"<h1" in brotli.decompress(page.data)
    api = client.get("/api/search?q=red", headers={"Accept-Encoding": "gzip"})
    assert api.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(api.data).startswith(b"{")
    css_url = re.search(r'href="(/ui/static/ui\.css\?v=[0-9a-f]+)"', page_text(client)).group(1)
    css = client.get(css_url, headers={"Accept-Encoding": "gzip"})
    assert css.headers["Content-Encoding"] == "gzip" and b"--ink" in gzip.decompress(css.data)
    plain = client.get("/?q=red")  # a client that asks for no encoding gets none
    assert "Content-Encoding" not in plain.headers


def page_text(client: FlaskClient) -> str:
    return client.get("/").get_data(as_text=True)


def test_versioned_static_files_are_immutable(client: FlaskClient) -> None:
    urls = re.findall(r'(?:src|href)="(/ui/static/[^"]+)"', page_text(client))
    assert urls and all(re.search(r"\?v=[0-9a-f]{12}$", url) for url in urls), urls
    cached = client.get(urls[0])
    assert cached.status_code == 200
    assert "immutable" in cached.headers["Cache-Control"]
    assert "max-age=31536000" in cached.headers["Cache-Control"]
    # an old version's URL gets today's file, but not for good
    stale = client.get(urls[0].split("?")[0] + "?v=000000000000")
    assert stale.status_code == 200 and "immutable" not in stale.headers.get("Cache-Control", "")


def test_thumbnails_are_served_small_and_immutable(client: FlaskClient, app: Flask) -> None:
    body = client.get("/api/search?q=red&size=1").get_json()
    url = body["hits"][0]["thumbnail_url"]
    assert re.fullmatch(r"/thumbnails/[0-9a-f]{2}/[0-9a-f]{64}-300\.webp", url)
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/webp"
    assert "immutable" in response.headers["Cache-Control"]
    page = page_text_for(client, "/?q=red")
    assert f'src="{url}"' in page and "-600.webp 600w" in page  # srcset for dense screens
    assert client.get("/thumbnails/../index.sqlite").status_code == 404
    assert client.get("/thumbnails/00/missing-300.webp").status_code == 404


def page_text_for(client: FlaskClient, path: str) -> str:
    return client.get(path).get_data(as_text=True)


def test_exports_still_stream_uncompressed(client: FlaskClient) -> None:
    export = client.get("/export.csv?q=red", headers={"Accept-Encoding": "gzip"})
    assert export.status_code == 200 and export.is_streamed
    assert "Content-Encoding" not in export.headers
