"""Attach to an existing catalogue index with GeoBlacklight field names on a real cluster: only
vector + model id are written, reruns resume, and the backend serves hybrid search over it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch
from PIL import Image

from indexer.backends import es_attach
from indexer.backends.base import BackendError, BackendQuery, Filters
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.settings import Settings, load_settings
from tests.support.es import ES_URL, fresh_prefix, remove_prefix
from tests.support.http_server import Reply, ScriptedServer

pytestmark = pytest.mark.elasticsearch

THUMB = "http://schema.org/thumbnailUrl"
# colour of each catalogue map's image; the fake model embeds an image as its mean RGB
COLOURS = {
    "gbl-1": (250, 10, 10),
    "gbl-2": (240, 30, 20),
    "gbl-3": (10, 10, 250),
    "gbl-4": (10, 240, 10),
}


class ColourEmbedder:
    """A 3-d 'model': the normalised mean colour of an image."""

    model_id = "colour-3d"
    dims = 3

    def __init__(self) -> None:
        self.calls = 0

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        self.calls += len(images)
        vectors = np.array(
            [np.asarray(i.convert("RGB"), np.float32).reshape(-1, 3).mean(0) for i in images],
            np.float32,
        )
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_query_text(self, text: str) -> np.ndarray:
        raise NotImplementedError


def catalogue_docs(image_base: str) -> list[dict[str, object]]:
    def doc(
        doc_id: str,
        title: str,
        subjects: list[str],
        places: list[str],
        years: list[int],
        image: bool = True,
    ) -> dict[str, object]:
        references = {"http://schema.org/url": f"https://library.example/{doc_id}"}
        if image:
            references[THUMB] = f"{image_base}/images/{doc_id}.png"
        return {
            "id": doc_id,
            "dct_title_s": title,
            "dct_subject_sm": subjects,
            "dct_spatial_sm": places,
            "gbl_indexYear_im": years,
            "dct_description_sm": [f"A catalogued map: {title}"],
            "dct_references_s": json.dumps(references),
            "gbl_mdVersion_s": "Aardvark",
        }

    return [
        doc("gbl-1", "Red coast of California", ["Coasts"], ["California"], [1851]),
        doc("gbl-2", "Redwood survey", ["Forests", "Surveys"], ["California"], [1902, 1903]),
        doc("gbl-3", "Blue lakes of Minnesota", ["Lakes"], ["Minnesota"], [1880]),
        doc("gbl-4", "Green valley survey", ["Surveys"], ["Vermont"], [1790]),
        doc("gbl-5", "Survey notes without a scan", ["Surveys"], ["Vermont"], [1795], image=False),
    ]


CONFIG_TOML = """
[index]
name = "{index}"

[fields]
id = "id"
title = "dct_title_s"
title_sort = "dct_title_s.sort"
text = {{ dct_title_s = 4, dct_subject_sm = 2, dct_spatial_sm = 2, dct_description_sm = 1 }}
image = "dct_references_s"
image_key = "http://schema.org/thumbnailUrl"
year_start = "gbl_indexYear_im"

[facets]
subject = "dct_subject_sm.keyword"
place = "dct_spatial_sm.keyword"

[vector]
field = "mapsearch_vector"
model_field = "mapsearch_model_id"
"""


@pytest.fixture
def catalogue(
    client: Elasticsearch, tmp_path: Path
) -> Iterator[tuple[es_attach.AttachConfig, Settings, Path]]:
    index = fresh_prefix("catalogue") + "-blacklight"
    text_with_keyword = {"type": "text", "fields": {"keyword": {"type": "keyword"}}}
    client.indices.create(
        index=index,
        mappings={
            "dynamic": "strict",
            "properties": {
                "id": {"type": "keyword"},
                "dct_title_s": {"type": "text", "fields": {"sort": {"type": "keyword"}}},
                "dct_subject_sm": text_with_keyword,
                "dct_spatial_sm": text_with_keyword,
                "dct_description_sm": {"type": "text"},
                "gbl_indexYear_im": {"type": "integer"},
                "dct_references_s": {"type": "keyword", "index": False},
                "gbl_mdVersion_s": {"type": "keyword"},
            },
        },
    )
    data_dir = tmp_path / "data"
    (data_dir / "images").mkdir(parents=True)
    for doc_id, colour in COLOURS.items():
        Image.new("RGB", (40, 30), colour).save(data_dir / "images" / f"{doc_id}.png")
    # A catalogue index is remote content: its images come over http(s), here from 127.0.0.1
    # (allowed by allow_private_urls), read from disk at request time.
    with ScriptedServer() as images:
        for doc_id in COLOURS:
            path = f"/images/{doc_id}.png"
            images.handle(
                path,
                lambda _seen, path=path: Reply(
                    200, (data_dir / path.lstrip("/")).read_bytes(), content_type="image/png"
                ),
            )
        for doc in catalogue_docs(images.base_url):
            client.index(index=index, id=str(doc["id"]), document=doc)
        client.indices.refresh(index=index)
        config_path = tmp_path / "attach.toml"
        config_path.write_text(CONFIG_TOML.format(index=index), encoding="utf-8")
        yield (
            es_attach.load_attach_config(config_path),
            load_settings({"data_dir": data_dir, "allow_private_urls": True}),
            config_path,
        )
    remove_prefix(client, index.rsplit("-", 1)[0])


def _without_vectors(client: Elasticsearch, index: str) -> dict[str, dict[str, object]]:
    hits = client.search(index=index, size=100)["hits"]["hits"]
    return {
        h["_id"]: {k: v for k, v in h["_source"].items() if not k.startswith("mapsearch_")}
        for h in hits
    }


def test_attach_writes_only_vector_and_model_then_resumes(
    client: Elasticsearch, catalogue: tuple[es_attach.AttachConfig, Settings, Path]
) -> None:
    config, settings, _ = catalogue
    before = _without_vectors(client, config.index)
    embedder = ColourEmbedder()
    report = es_attach.attach(client, config, embedder, settings)
    assert (report.embedded, report.without_image, report.failed, report.already_done) == (
        4,
        1,
        0,
        0,
    )
    assert _without_vectors(client, config.index) == before  # every catalogue field untouched
    stored = (
        ElasticsearchBackend(client, "unused", attached=config).fetch(["gbl-1"])["gbl-1"].record.raw
    )
    assert stored["mapsearch_model_id"] == "colour-3d"
    assert np.allclose(
        stored["mapsearch_vector"],
        embedder.embed_images([Image.new("RGB", (2, 2), COLOURS["gbl-1"])])[0],
        atol=1e-6,
    )
    mapping = client.indices.get_mapping(index=config.index)[config.index]["mappings"]["properties"]
    assert mapping["mapsearch_vector"]["index_options"]["type"] == "int8_hnsw"
    # a second run skips what is done: only the image-less record is looked at again
    again = ColourEmbedder()
    rerun = es_attach.attach(client, config, again, settings)
    assert (rerun.embedded, rerun.already_done, again.calls) == (0, 4, 0)


def test_broken_image_is_reported_and_the_run_goes_on(
    client: Elasticsearch, catalogue: tuple[es_attach.AttachConfig, Settings, Path]
) -> None:
    config, settings, _ = catalogue
    (Path(settings.data_dir) / "images" / "gbl-3.png").write_bytes(b"not a png")
    report = es_attach.attach(client, config, ColourEmbedder(), settings)
    assert report.embedded == 3 and report.failed == 1
    assert report.errors[0].startswith("gbl-3: image:")


def test_hybrid_search_over_the_attached_index(
    client: Elasticsearch, catalogue: tuple[es_attach.AttachConfig, Settings, Path]
) -> None:
    config, settings, _ = catalogue
    es_attach.attach(client, config, ColourEmbedder(), settings)
    backend = ElasticsearchBackend(client, "unused", attached=config)
    red = np.array([1.0, 0.05, 0.05], np.float32) / np.linalg.norm([1.0, 0.05, 0.05])
    result = backend.search(
        BackendQuery(
            text="survey", vector=red, num_candidates=2, facets=("subject", "place", "decade")
        )
    )
    assert [h.id for h in result.semantic] == ["gbl-1", "gbl-2"]
    assert {h.id for h in result.keyword} <= {"gbl-2", "gbl-4", "gbl-5"} and len(
        result.keyword
    ) == 2
    assert result.total == 4  # survey matches gbl-2, gbl-4, gbl-5 ∪ red top 2 (gbl-1, gbl-2)
    assert dict(result.facets["subject"])["Surveys"] == 3
    assert dict(result.facets["place"]) == {"California": 2, "Vermont": 2}
    assert dict(result.facets["decade"])["1900"] == 1
    dated = backend.search(BackendQuery(vector=red, filters=Filters(year_from=1800, year_to=1860)))
    assert [h.id for h in dated.semantic] == ["gbl-1"]
    browse = backend.search(
        BackendQuery(browse_sort="title", filters=Filters(terms={"place": ("Vermont",)}))
    )
    assert [h.title for h in browse.browse] == [
        "Green valley survey",
        "Survey notes without a scan",
    ]
    info = backend.info()
    assert (info.documents, info.with_vectors, info.model_id, info.dims) == (5, 4, "colour-3d", 3)
    document = backend.fetch(["gbl-2"])["gbl-2"]
    assert (document.record.title, document.record.year_start, document.record.year_end) == (
        "Redwood survey",
        1902,
        1903,
    )
    assert backend.get_vector("gbl-2") is not None
    with pytest.raises(BackendError, match="catalogue"):
        backend.write([document])


def test_attach_cli_reports_and_rejects_bad_config(
    catalogue: tuple[es_attach.AttachConfig, Settings, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from webapi.cli import cli

    config, settings, config_path = catalogue
    monkeypatch.setattr(es_attach, "default_embedder", lambda _settings: ColourEmbedder())
    monkeypatch.setenv("MAPSEARCH_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MAPSEARCH_ALLOW_PRIVATE_URLS", "true")
    result = CliRunner().invoke(cli, ["attach", "--es-url", ES_URL, "--config", str(config_path)])
    assert result.exit_code == 0, result.output
    assert "4 embedded" in result.output and "1 without image" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[index]\nname = "x"\n[fields]\ntitle = "t"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["attach", "--es-url", ES_URL, "--config", str(bad)])
    assert result.exit_code == 1 and "[fields] id is required" in result.output
