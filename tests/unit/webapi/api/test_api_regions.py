"""/api/search with regions (docs/regions.md): hits carry their best regions, ``regions=false``
drops them, and ``image_region`` searches with a box of an indexed map or of an upload; a bad
box is a 400 problem naming the parameter."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from indexer.pipeline import index_records
from indexer.records import ImageRef, MapRecord
from tests.unit.indexer.test_regions import sheet
from webapi.services import services_of


@pytest.fixture
def regions_client(app: Flask) -> FlaskClient:
    """The test collection plus one 2,400 px sheet with a red square, indexed with regions."""
    services = services_of(app)
    settings = services.settings.model_copy(update={"region_grid": "2,4@0.25"})
    images = settings.data_dir / "images"
    sheet().save(images / "large.png")
    record = MapRecord(
        id="t:large",
        source="t",
        title="Large sheet",
        image=ImageRef(url="images/large.png", width=2400, height=1600),
    )
    report = index_records(
        [record], settings=settings, backend=services.backend, embedder=services.embedder
    )
    assert report.maps_with_new_regions == 1
    return app.test_client()


def test_hits_carry_their_best_regions(regions_client: FlaskClient) -> None:
    response = regions_client.get("/api/search?q=red&mode=semantic&size=20&explain=true")
    assert response.status_code == 200
    hits = {hit["id"]: hit for hit in response.json["hits"]}
    large = hits["t:large"]
    assert 1 <= len(large["regions"]) <= 3
    x, y, w, h = large["regions"][0]["box"]
    assert x <= 1900 and x + w >= 2020 and y <= 200 and y + h >= 320
    assert large["regions"][0]["iiif_region_url"] is None  # a local file has no Image service
    assert large["explain"]["regions"]["won"] == "region"
    assert all(hit["regions"] == [] for doc_id, hit in hits.items() if doc_id != "t:large")
    off = regions_client.get("/api/search?q=red&mode=semantic&size=20&regions=false")
    assert all(hit["regions"] == [] for hit in off.json["hits"])


def test_a_box_of_an_indexed_map_is_an_example(regions_client: FlaskClient) -> None:
    red = regions_client.get(
        "/api/search?image_id=t:large&image_region=1900,200,120,120&mode=semantic&size=3"
    )
    assert red.status_code == 200, red.json
    assert red.json["hits"][0]["id"].startswith("test:red")  # the red square finds red maps
    assert red.json["query"]["image_region"] == "1900,200,120,120"
    paper = regions_client.get(
        "/api/search?image_id=t:large&image_region=2100,1300,200,200&mode=semantic&size=3"
    )
    assert paper.status_code == 200
    assert not paper.json["hits"][0]["id"].startswith("test:red")


@pytest.mark.parametrize(
    ("box", "says"),
    [
        ("2300,0,200,50", "outside"),
        ("0,1500,10,101", "outside"),
        ("0,0,0,10", "at least 1"),
        ("10,10", "four integers"),
        ("a,b,c,d", "four integers"),
        ("-5,0,10,10", "inside"),
    ],
)
def test_a_bad_box_is_a_400_problem(regions_client: FlaskClient, box: str, says: str) -> None:
    response = regions_client.get(f"/api/search?image_id=t:large&image_region={box}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert says in str(response.json) and "image_region" in str(response.json)


def test_a_box_without_an_example_is_a_400_problem(regions_client: FlaskClient) -> None:
    response = regions_client.get("/api/search?q=red&image_region=0,0,10,10")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_an_upload_takes_a_box(regions_client: FlaskClient) -> None:
    picture = Image.new("RGB", (200, 100), (128, 128, 128))
    picture.paste((220, 20, 20), (100, 0, 200, 100))
    data = io.BytesIO()
    picture.save(data, "PNG")
    fields = {"mode": "semantic", "size": "1", "image_region": "120,10,60,60"}
    red = regions_client.post(
        "/api/search",
        data={**fields, "image": (io.BytesIO(data.getvalue()), "map.png")},
        content_type="multipart/form-data",
    )
    assert red.status_code == 200, red.json
    outside = regions_client.post(
        "/api/search",
        data={
            **fields,
            "image_region": "150,10,60,60",
            "image": (io.BytesIO(data.getvalue()), "m.png"),
        },
        content_type="multipart/form-data",
    )
    assert outside.status_code == 400 and outside.mimetype == "application/problem+json"
