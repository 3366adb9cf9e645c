"""IIIF Presentation 2.1 / 3.0 harvesting from real manifests and a real collection served on
127.0.0.1: paging, nesting, de-duplication, failures, metadata mapping, one record per canvas."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from indexer.iiif.presentation import first_image_ref
from indexer.images import load_image
from indexer.records import ImageRef
from indexer.settings import Settings, load_settings
from indexer.sources.iiif import (
    IIIFError,
    IIIFReport,
    harvest_iiif,
    manifest_records,
)
from indexer.sources.iiif_values import map_metadata, strip_html, texts
from tests.support.http_server import Reply, ScriptedServer, Seen
from tests.support.paths import FIXTURES as TEST_FIXTURES

FIXTURES = TEST_FIXTURES / "iiif"
NW_HOST = "https://api.dc.library.northwestern.edu"
COLLECTION_PATH = "/api/v2/collections/267bed1b-f808-4c51-acb1-0288378819d2"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def local_settings(tmp_path: Path) -> Settings:
    return load_settings(
        {"data_dir": tmp_path / "data", "allow_private_urls": True, "image_backoff": 0.01}
    )


def test_language_maps_html_and_values() -> None:
    assert texts({"en": ["Map"], "nl": ["Kaart"]}) == ["Map"]
    assert texts({"nl": ["Kaart"]}) == ["Kaart"]
    assert texts({"none": ["1572-1618"]}) == ["1572-1618"]
    assert texts([{"@value": "Carte", "@language": "fr"}]) == ["Carte"]
    assert texts("<a href='x'>Link &amp; text</a>") == ["Link & text"]
    assert texts(None) == [] and texts(42) == ["42"]
    assert strip_html("<p>one</p><p>two</p>") == "one two"


def test_v2_loc_manifest() -> None:
    [record] = manifest_records(fixture("manifest.2.loc-87694060.json"))
    assert record.title.startswith("Map of the city of Washington")
    assert record.source_url == "https://www.loc.gov/item/87694060/"
    assert (record.year_start, record.year_end) == (1894, 1894)
    assert record.contributors == ["Lukesh, G. M."]
    assert "mortality" in record.subjects
    assert record.image is not None
    assert (
        record.image.iiif_service
        == "https://tile.loc.gov/image-services/iiif/service:gmd:gmd385:g3851:g3851e:ct004586"
    )
    assert (record.image.width, record.image.height) == (2115, 2203)
    assert record.image.manifest_url == "https://www.loc.gov/item/87694060/manifest.json"
    assert (
        record.id.startswith("iiif:")
        and record.id.endswith("/1")
        and record.item_id == record.id[:-2]
    )


def test_v2_stanford_manifest_metadata_mapping() -> None:
    [record] = manifest_records(fixture("manifest.2.stanford-tc010rc2373.json"))
    assert record.source_url == "https://purl.stanford.edu/tc010rc2373"
    assert (record.year_start, record.year_end) == (
        1895,
        1895,
    )  # "Date", not the "19th century" coverage
    assert "Palo Alto" in record.place_names and "19th century" not in record.place_names
    assert record.extent is not None and record.extent.west == pytest.approx(-122.2025)
    assert "Fire insurance maps" in record.formats and "1 map" not in record.formats
    assert record.languages == ["English"]
    assert record.rights is not None and "free of known restrictions" in record.rights


def test_v3_multi_canvas_manifest_gives_one_record_per_sheet() -> None:
    records = manifest_records(fixture("manifest.3.delft-trk-9812103.json"))
    assert len(records) == 29
    assert len({r.id for r in records}) == 29 and len({r.item_id for r in records}) == 1
    assert [r.id.rsplit("/", 1)[1] for r in records[:3]] == ["1", "2", "3"]
    first = records[0]
    assert first.contributors == ["Georg Braun", "Franz Hogenberg"]  # from a {"none": [...]} map
    assert first.call_number == "TRK 9812103"
    assert (first.year_start, first.year_end) == (1572, 1618)
    assert first.image is not None and first.image.iiif_service is not None
    assert first.image.iiif_service.startswith("https://dlc.services/iiif-img/")
    assert len({r.image.iiif_service for r in records if r.image}) == 29


def test_v3_ncsu_manifest_rights_homepage_and_full_size() -> None:
    [record] = manifest_records(
        fixture("manifest.3.ncsu-unccmc00094-002-ff0001_1-002-004_0001.json")
    )
    assert record.title == "Alternate plan #1"
    assert (
        record.source_url
        == "https://d.lib.ncsu.edu/collections/catalog/unccmc00094-002-ff0001_1-002-004_0001"
    )
    assert record.rights == "https://d.lib.ncsu.edu/collections/about#rights_and_use"
    assert record.image is not None and (record.image.width, record.image.height) == (7096, 3599)


def test_nav_date_rights_and_no_images() -> None:
    manifest = {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": "https://example.org/m/1",
        "type": "Manifest",
        "label": {"en": ["Chart of the sea"]},
        "navDate": "1785-01-01T00:00:00Z",
        "rights": "http://creativecommons.org/publicdomain/mark/1.0/",
        "items": [],
    }
    [record] = manifest_records(manifest)
    assert (
        record.year_start == 1785
        and record.rights == "http://creativecommons.org/publicdomain/mark/1.0/"
    )
    assert not record.has_image  # kept, metadata only
    tiff_only = dict(
        manifest,
        items=[
            {
                "id": "c1",
                "type": "Canvas",
                "items": [
                    {
                        "type": "AnnotationPage",
                        "items": [
                            {
                                "type": "Annotation",
                                "motivation": "painting",
                                "body": {
                                    "id": "https://example.org/master.tif",
                                    "type": "Image",
                                    "format": "image/tiff",
                                },
                            }
                        ],
                    }
                ],
            }
        ],
    )
    assert not manifest_records(tiff_only)[0].has_image  # never a TIFF master


@pytest.mark.parametrize("image_id", ["/dev/zero", "/etc/passwd", "file:///etc/passwd", "x.png"])
def test_remote_manifest_never_yields_a_local_image(image_id: str) -> None:
    # issue 15: an image ``id`` that is a path became a local file the harvest read and embedded
    canvas = {
        "id": "https://example.org/c1",
        "type": "Canvas",
        "items": [
            {
                "type": "AnnotationPage",
                "items": [
                    {
                        "type": "Annotation",
                        "motivation": "painting",
                        "body": {"id": image_id, "type": "Image", "format": "image/jpeg"},
                    }
                ],
            }
        ],
    }
    manifest = {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": "https://example.org/m/2",
        "type": "Manifest",
        "label": {"en": ["Chart"]},
        "items": [canvas],
    }
    [record] = manifest_records(manifest)
    assert record.image is None or (
        record.image.url is None and record.image.iiif_service is None
    ), record.image


def test_metadata_mapping_table() -> None:
    fields = map_metadata(
        [
            {"label": "Creator", "value": "Blaeu, Willem Janszoon"},
            {"label": {"en": ["Subjects"]}, "value": {"en": ["Sea monsters", "Ships"]}},
            {"label": "Coverage", "value": "(W 10\u00b0--E 20\u00b0/N 60\u00b0--N 40\u00b0)"},
            {"label": "Coverage", "value": "Atlantic Ocean"},
            {"label": "APA Citation Style", "value": "ignored"},
            "not a pair",
        ]
    )
    assert fields.contributors == ["Blaeu, Willem Janszoon"]
    assert fields.subjects == ["Sea monsters", "Ships"]
    assert fields.places == ["Atlantic Ocean"]
    assert fields.extent is not None and (fields.extent.west, fields.extent.north) == (-10, 60)


def _serve_northwestern(server: ScriptedServer) -> list[str]:
    """The real Northwestern collection page, rewritten to the local server, plus a page 2 that
    repeats a manifest, links back to page 1 and nests a v2 collection; manifests are the real
    fixtures with their ids rewritten; one manifest fails with an HTML 500."""
    page1_text = (
        FIXTURES / "collection.3.northwestern-267bed1b-f808-4c51-acb1-0288378819d2.json"
    ).read_text()
    page1 = json.loads(page1_text.replace(NW_HOST, server.base_url))
    manifest_urls = [item["id"] for item in page1["items"] if item["type"] == "Manifest"]
    server.add(COLLECTION_PATH + "?as=iiif", Reply.json(page1))
    page2 = {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": server.url(COLLECTION_PATH + "?as=iiif&page=2"),
        "type": "Collection",
        "label": {"none": ["Map and Atlas Collection"]},
        "items": [
            {"id": manifest_urls[0], "type": "Manifest"},  # duplicate
            {"id": page1["id"], "type": "Collection"},  # cycle back to page 1
            {"id": server.url("/v2/collection"), "type": "Collection"},
        ],
    }
    server.add(COLLECTION_PATH + "?as=iiif&page=2", Reply.json(page2))
    server.add(
        "/v2/collection",
        Reply.json(
            {
                "@context": "http://iiif.io/api/presentation/2/context.json",
                "@id": server.url("/v2/collection"),
                "@type": "sc:Collection",
                "label": "Sanborn sheets",
                "first": server.url("/v2/collection/page1"),
            }
        ),
    )
    server.add(
        "/v2/collection/page1",
        Reply.json(
            {
                "@id": server.url("/v2/collection/page1"),
                "@type": "sc:Collection",
                "manifests": [
                    {
                        "@id": server.url("/v2/stanford"),
                        "@type": "sc:Manifest",
                        "label": "Palo Alto",
                    }
                ],
                "next": server.url("/v2/collection/page2"),
            }
        ),
    )
    server.add(
        "/v2/collection/page2",
        Reply.json(
            {
                "@id": server.url("/v2/collection/page2"),
                "@type": "sc:Collection",
                "manifests": [
                    {"@id": server.url("/v2/loc"), "@type": "sc:Manifest"},
                    {"@id": server.url("/v2/stanford"), "@type": "sc:Manifest"},
                ],
            }
        ),
    )
    server.add(
        "/v2/stanford",
        Reply.json(
            dict(
                fixture("manifest.2.stanford-tc010rc2373.json"),
                **{"@id": server.url("/v2/stanford")},
            )
        ),
    )
    server.add(
        "/v2/loc",
        Reply.json(dict(fixture("manifest.2.loc-87694060.json"), **{"@id": server.url("/v2/loc")})),
    )
    ncsu = fixture("manifest.3.ncsu-unccmc00094-002-ff0001_1-002-004_0001.json")
    broken = manifest_urls[3]

    def work(seen: Seen) -> Reply:
        url = server.url(seen.path) + "?as=iiif"
        if url == broken:
            return Reply.html("<html><body>Internal error</body></html>", status=500)
        return Reply.json(dict(ncsu, id=url, label={"none": [f"Work {seen.path[-8:]}"]}))

    for url in manifest_urls:
        server.handle(url[len(server.base_url) :].split("?")[0], work)
    return manifest_urls


def test_harvest_collection_paged_nested_deduplicated(
    server: ScriptedServer, local_settings: Settings
) -> None:
    manifest_urls = _serve_northwestern(server)
    report = IIIFReport()
    progress: list[int] = []
    records = list(
        harvest_iiif(
            server.url(COLLECTION_PATH + "?as=iiif"),
            local_settings.model_copy(update={"image_retries": 0}),
            report,
            lambda r: progress.append(r.records),
        )
    )
    ids = [r.id for r in records]
    assert len(ids) == len(set(ids)) == 11  # 9 NW works + Stanford + LoC, each once
    assert report.manifests == 11 and report.failed == 1 and report.collections == 5
    assert "HTTP 500" in report.errors[0]
    assert progress[-1] == 11
    for url in manifest_urls:  # every manifest was asked for exactly once
        assert len(server.requests_to(url[len(server.base_url) :].split("?")[0])) == 1
    assert len(server.requests_to("/v2/stanford")) == 1
    nw = next(r for r in records if r.title.startswith("Work"))
    assert nw.collections == ["Map and Atlas Collection"]
    palo_alto = next(r for r in records if r.title.startswith("Palo Alto"))
    assert palo_alto.collections == ["Sanborn sheets"]


def test_harvest_single_manifest_and_refusals(
    server: ScriptedServer, local_settings: Settings, settings: Settings
) -> None:
    server.add("/m", Reply.json(fixture("manifest.3.delft-trk-9812103.json")))
    assert len(list(harvest_iiif(server.url("/m"), local_settings))) == 29
    with pytest.raises(IIIFError, match="non-public"):  # private address refused
        list(harvest_iiif(server.url("/m"), settings))
    server.add("/not-iiif", Reply.json({"hello": "world"}))
    with pytest.raises(IIIFError, match="neither a manifest nor a collection"):
        list(harvest_iiif(server.url("/not-iiif"), local_settings))
    with pytest.raises(IIIFError, match="HTTP 404"):
        list(harvest_iiif(server.url("/missing"), local_settings))


def test_manifest_url_resolves_to_first_canvas_image(
    server: ScriptedServer, local_settings: Settings
) -> None:
    manifest = fixture("manifest.2.loc-87694060.json")
    text = json.dumps(manifest).replace("https://tile.loc.gov", server.base_url)
    server.add("/manifest.json", Reply(200, text.encode(), content_type="application/json"))
    out = io.BytesIO()
    Image.new("RGB", (980, 1024), (120, 90, 40)).save(out, "JPEG")
    service_path = "/image-services/iiif/service:gmd:gmd385:g3851:g3851e:ct004586"
    server.add(
        service_path + "/full/!1024,1024/0/default.jpg",
        Reply(200, out.getvalue(), content_type="image/jpeg"),
    )
    ref = first_image_ref(json.loads(text))
    assert ref is not None and ref.iiif_service == server.url(service_path)
    image = load_image(ImageRef(manifest_url=server.url("/manifest.json")), local_settings)
    assert image.size == (980, 1024)
    again = load_image(ImageRef(manifest_url=server.url("/manifest.json")), local_settings)
    assert again.size == (980, 1024)
    assert len(server.seen) == 2  # manifest and image each fetched once, then from the disk cache
