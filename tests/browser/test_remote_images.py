"""Records whose image only their IIIF manifest names (a metadata-only import): the browser reads
the manifest from the library and shows the image on the result card and in the item viewer;
a manifest that cannot be read says so instead of a grey "No image"."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from indexer.pipeline import index_records
from indexer.records import ImageRef, MapRecord
from tests.browser.conftest import served
from tests.support.http_server import Reply, ScriptedServer
from webapi.app import create_app
from webapi.services import services_of

pytestmark = pytest.mark.browser
CORS = {"Access-Control-Allow-Origin": "*"}


def jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (180, 140, 90)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def library() -> Iterator[ScriptedServer]:
    """A library's IIIF server: a v3 manifest with an Image service, a v2 one without."""
    with ScriptedServer() as server:
        service = server.url("/iiif/map1")
        server.add(
            "/manifests/map1.json",
            Reply.json(
                {
                    "@context": "http://iiif.io/api/presentation/3/context.json",
                    "id": server.url("/manifests/map1.json"),
                    "type": "Manifest",
                    "items": [
                        {
                            "type": "Canvas",
                            "items": [
                                {
                                    "type": "AnnotationPage",
                                    "items": [
                                        {
                                            "type": "Annotation",
                                            "body": {
                                                "id": f"{service}/full/max/0/default.jpg",
                                                "type": "Image",
                                                "service": [
                                                    {"id": service, "type": "ImageService3"}
                                                ],
                                            },
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ),
        )
        server.routes["/manifests/map1.json"][0].headers.update(CORS)  # type: ignore[union-attr]
        for size in ("300", "600"):
            server.add(
                f"/iiif/map1/full/!{size},{size}/0/default.jpg",
                Reply(200, jpeg(300, 240), dict(CORS), "image/jpeg"),
            )
        server.add(
            "/manifests/plain.json",
            Reply(
                200,
                (
                    '{"@context": "http://iiif.io/api/presentation/2/context.json", "sequences":'
                    ' [{"canvases": [{"images": [{"resource": {"@id": "'
                    + server.url("/images/plain.jpg")
                    + '"}}]}]}]}'
                ).encode(),
                dict(CORS),
                "application/json",
            ),
        )
        server.add("/images/plain.jpg", Reply(200, jpeg(400, 300), dict(CORS), "image/jpeg"))
        yield server


@pytest.fixture
def remote_app_url(
    tmp_path_factory: pytest.TempPathFactory, library: ScriptedServer
) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("remote") / "data"
    app = create_app({"data_dir": data_dir, "TESTING": True})
    records = [
        MapRecord(
            id=f"lib:{name}",
            source="lib",
            title=f"Map {name}",
            image=ImageRef(manifest_url=library.url(f"/manifests/{name}.json")),
        )
        for name in ("map1", "plain", "gone")
    ]
    services = services_of(app)
    index_records(
        records,
        settings=services.settings,
        backend=services.backend,
        embedder=None,
        with_images=False,
    )
    try:
        with served(app, "remote-images-server") as url:
            yield url
    finally:
        services.close()


def test_cards_show_the_image_their_manifest_names(page: Page, remote_app_url: str) -> None:
    page.goto(f"{remote_app_url}/?sort=title")
    card = page.locator('.card[data-id="lib:map1"]')
    image = card.locator("img[data-from-manifest]")
    expect(image).to_have_attribute("src", re.compile(r"/iiif/map1/full/!300,300/0/default\.jpg$"))
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0  # the library's JPEG really loaded
    expect(page.locator('.card[data-id="lib:plain"] img[data-from-manifest]')).to_be_visible()
    gone = page.locator('.card[data-id="lib:gone"] .no-image')
    expect(gone).to_have_text("Image not available here")


def test_the_item_viewer_opens_the_manifest_image(page: Page, remote_app_url: str) -> None:
    page.goto(f"{remote_app_url}/items/lib:plain")
    expect(page.locator("#viewer")).to_have_attribute("data-ready", "true", timeout=30_000)
    page.goto(f"{remote_app_url}/items/lib:gone")
    expect(page.locator("#viewer")).to_have_attribute("data-ready", "failed")
    expect(page.locator("#image-elsewhere")).to_be_visible()
