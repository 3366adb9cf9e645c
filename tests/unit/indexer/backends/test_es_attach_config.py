"""The attach config (TOML → field map) and image references, without a cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.backends.es_attach import image_ref, load_attach_config, parse_attach_config

MINIMAL = {
    "index": {"name": "catalog"},
    "fields": {"id": "id", "title": "dct_title_s", "text": ["dct_title_s"], "image": "thumb"},
}


def test_field_map_follows_the_config() -> None:
    data = {
        **MINIMAL,
        "fields": {
            **MINIMAL["fields"],
            "text": {"dct_title_s": 4, "dct_subject_sm": 2},
            "year_start": "gbl_indexYear_im",
        },
        "facets": {"subject": "dct_subject_sm.keyword", "place": "dct_spatial_sm"},
    }
    fields = parse_attach_config(data).field_map()
    assert fields.text_fields == {"dct_title_s": 4.0, "dct_subject_sm": 2.0}
    assert fields.facet_field("subject") == "dct_subject_sm.keyword"
    assert fields.facet_field("collection") is None
    assert fields.year_start == fields.year_end == "gbl_indexYear_im"
    assert fields.vector == "mapsearch_vector" and fields.title_docvalue is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fields": {"title": "t", "text": ["t"], "image": "i"}}, r"\[fields\] id is required"),
        ({"facets": {"colour": "x"}}, "colour: unknown facet"),
        ({"fields": {**MINIMAL["fields"], "text": {"t": -1}}}, "text must be"),
    ],
)
def test_bad_configs_name_the_problem(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_attach_config({**MINIMAL, **change})


def test_toml_syntax_error_is_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[index\nname=", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_attach_config(path)


def test_image_reference_from_a_json_field() -> None:
    config = parse_attach_config(
        {
            **MINIMAL,
            "fields": {
                **MINIMAL["fields"],
                "image": "refs",
                "image_key": "http://iiif.io/api/image",
                "image_is_iiif": True,
            },
        }
    )
    ref = image_ref(
        {"refs": json.dumps({"http://iiif.io/api/image": "https://iiif.example/abc"})}, config
    )
    assert ref is not None and ref.iiif_service == "https://iiif.example/abc"
    assert image_ref({"refs": "{not json"}, config) is None
    assert image_ref({}, config) is None
