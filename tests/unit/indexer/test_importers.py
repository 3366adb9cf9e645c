"""CSV, JSONL and Aardvark importers on real Stanford Aardvark records and on broken input."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from indexer.importers import ImportReport, read_records
from indexer.importers.aardvark import aardvark_to_record
from indexer.importers.fields import language_names
from indexer.importers.tabular import dumps_row
from tests.support.paths import FIXTURES as TEST_FIXTURES

FIXTURES = TEST_FIXTURES / "aardvark"


def test_real_aardvark_records_all_parse() -> None:
    report = ImportReport("aardvark")
    records = list(read_records("aardvark", FIXTURES / "stanford-sample.jsonl", report))
    assert report.ok == 20 and report.broken == 0 and len(records) == 20
    by_id = {r.id: r for r in records}

    austria = by_id["aardvark:stanford-bb014tx0752"]
    assert austria.title == "Austria 1:50,000"
    assert austria.other_titles == ["Series M771", "Index to maps of Austria 1:50,000"]
    assert austria.extent is not None
    assert (
        austria.extent.west,
        austria.extent.south,
        austria.extent.east,
        austria.extent.north,
    ) == (9.0, 46.0, 17.5, 49.5)
    assert austria.year_start == 1970 and austria.date == "[1970?-]"
    assert austria.languages == ["English", "German", "Italian"]
    assert austria.place_names == ["Austria"]
    assert austria.source_url == "https://purl.stanford.edu/bb014tx0752"
    assert austria.image is not None
    assert austria.image.manifest_url == "https://purl.stanford.edu/bb014tx0752/iiif3/manifest"
    assert austria.has_image
    assert austria.revision > 0
    assert austria.raw["id"] == "stanford-bb014tx0752"

    between = by_id["aardvark:stanford-bc434xz5831"]
    assert (between.year_start, between.year_end) == (1890, 1910)
    # gbl_indexYear_im is curated and wins over dct_issued_s ("2009" vs 1997)
    assert by_id["aardvark:stanford-bb614bm4524"].year_start == 1997
    assert by_id["aardvark:stanford-bb257py1326"].year_end == 1976
    assert by_id["aardvark:stanford-cd179bd2506"].year_start == 1918  # "c1918"

    with_thumb = by_id["aardvark:stanford-cp962wc2338"]
    assert with_thumb.thumbnail_url is not None and "/full/!400,400/" in with_thumb.thumbnail_url
    # "Maps" and "Maps." are one subject; "Western Australia" and "Western Australia." one place
    assert with_thumb.subjects == ["Maps"] and with_thumb.place_names == ["Western Australia"]

    metadata_only = by_id["aardvark:stanford-bb614bm4524"]
    assert not metadata_only.has_image  # kept for keyword search, not dropped
    assert report.without_image == sum(1 for r in records if not r.has_image) > 0


def test_gzip_and_folder_inputs(tmp_path: Path) -> None:
    gz = tmp_path / "sample.jsonl.gz"
    gz.write_bytes(gzip.compress((FIXTURES / "stanford-sample.jsonl").read_bytes()))
    assert len(list(read_records("aardvark", gz))) == 20

    folder = tmp_path / "ogm"
    (folder / "a").mkdir(parents=True)
    lines = (FIXTURES / "stanford-sample.jsonl").read_text().splitlines()
    (folder / "a" / "one.json").write_text(lines[0])
    (folder / "two.json").write_text("[" + lines[1] + "," + lines[2] + "]")
    (folder / "bad.json").write_text("{")
    report = ImportReport("aardvark")
    assert len(list(read_records("aardvark", folder, report))) == 3
    assert report.broken == 1 and report.errors[0].startswith("bad.json")


def test_broken_aardvark_records_are_reported_and_skipped() -> None:
    report = ImportReport("aardvark")
    records = list(read_records("aardvark", FIXTURES / "broken.jsonl", report))
    ids = [r.id for r in records]
    assert ids == [
        "aardvark:stanford-bb014tx0752",
        "aardvark:bad-envelope",
        "aardvark:string-instead-of-list",
    ]
    assert report.ok == 3 and report.broken == 7
    errors = "\n".join(report.errors)
    assert "line 2: invalid JSON" in errors
    assert "line 3: missing id" in errors
    assert "line 5: dct_title_s must be text" in errors
    assert "line 7: expected a JSON object" in errors
    assert "line 8: dct_references_s is not valid JSON" in errors
    assert "line 9: id must be a string" in errors
    assert "line 11: dct_subject_sm" in errors
    assert records[1].extent is None
    assert report.warnings == 1 and report.warning_samples[0].startswith(
        "line 4: unreadable geometry"
    )
    lenient = records[2]
    assert lenient.subjects == ["Railroads"] and lenient.place_names == ["Austria"]


CSV_TEXT = """\ufeffid,title,date,subjects,places,languages,bbox,image_url,iiif_service,year_start,source
m1,Map of Boston,[ca. 1780],Harbors|Sea monsters,Boston|Massachusetts,eng,"-71.2,42.2,-70.9,42.5",images/m1.png,,,
m2,Catalog only,1850-60,,,,,,,,
m3,Broken year,1850,,,,,,,not-a-year,
m4,Bad bbox,1850,,,,"1,2,3",,,,
,No id,1850,,,,,,,,
rumsey:77,Own prefix,,,,,,,https://example.org/iiif/77,,
m5,Too many,1850,,,,,,,,,extra
"""  # noqa: E501 (CSV rows as a catalogue exports them)


def test_csv_import(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "m1.png").write_bytes(b"png")
    path = tmp_path / "maps.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    report = ImportReport("csv")
    records = {r.id: r for r in read_records("csv", path, report)}
    assert set(records) == {"csv:m1", "csv:m2", "csv:m4", "rumsey:77"}
    m1 = records["csv:m1"]
    assert m1.subjects == ["Harbors", "Sea monsters"]
    assert m1.place_names == ["Boston", "Massachusetts"]
    assert m1.languages == ["English"]
    assert (m1.year_start, m1.year_end) == (1780, 1780)
    assert m1.extent is not None and m1.extent.north == 42.5
    assert m1.image is not None and m1.image.url == str((tmp_path / "images" / "m1.png").resolve())
    assert records["csv:m2"].year_end == 1860 and not records["csv:m2"].has_image
    assert records["rumsey:77"].image is not None
    assert records["rumsey:77"].image.iiif_service == "https://example.org/iiif/77"
    assert records["csv:m4"].extent is None
    assert report.ok == 4 and report.broken == 3 and report.warnings == 1
    errors = "\n".join(report.errors)
    assert "line 4: year_start must be an integer" in errors
    assert "line 6: missing id" in errors
    assert "line 8: 1 more cell(s)" in errors


def test_csv_without_id_column_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "maps.csv"
    path.write_text("title,date\nA,1850\n")
    report = ImportReport("csv")
    assert list(read_records("csv", path, report)) == []
    assert report.errors == ["line 1: the header has no 'id' column"]


def test_jsonl_import_and_round_trip(tmp_path: Path) -> None:
    rows = [
        {
            "id": "a",
            "title": "Sea chart",
            "subjects": ["Nautical charts"],
            "places": [{"name": "Lisbon", "country": "Portugal"}],
            "bbox": [-10, 38, -9, 39],
            "iiif_service": "https://example.org/iiif/a",
            "width": 4000,
            "height": 3000,
            "date": "1700",
        },
        {
            "id": "b",
            "title": "Text only",
            "subjects": "Roads",
            "year_start": 1901,
            "year_end": "1903",
        },
        {"id": "c", "title": {"bad": "type"}},
        {"title": "no id"},
    ]
    path = tmp_path / "maps.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    report = ImportReport("jsonl")
    records = list(read_records("jsonl", path, report, id_prefix="mylib"))
    assert [r.id for r in records] == ["mylib:a", "mylib:b"]
    assert records[0].places[0].country == "Portugal"
    assert records[0].image is not None and records[0].image.width == 4000
    assert (records[1].year_start, records[1].year_end) == (1901, 1903)
    assert records[1].subjects == ["Roads"]
    assert report.broken == 3 and any(e.startswith("line 5: invalid JSON") for e in report.errors)

    again = tmp_path / "again.jsonl"
    again.write_text("\n".join(dumps_row(r) for r in records) + "\n")
    reread = list(read_records("jsonl", again))
    assert [r.model_dump(exclude={"raw"}) for r in reread] == [
        r.model_dump(exclude={"raw"}) for r in records
    ]


def test_unknown_kind_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown import format"):
        read_records("xml", tmp_path)
    with pytest.raises(FileNotFoundError):
        read_records("csv", tmp_path / "nope.csv")


def test_gzip_csv(tmp_path: Path) -> None:
    path = tmp_path / "maps.csv.gz"
    path.write_bytes(gzip.compress(b"id,title\nx1,A map\n"))
    assert [r.title for r in read_records("csv", path)] == ["A map"]
    shutil.rmtree(tmp_path)


@pytest.mark.parametrize(
    ("fields", "shown", "years"),
    [
        # the curated index year wins; the display names the same year in the record's words
        (
            {"gbl_indexYear_im": [1929], "dct_issued_s": "2021", "dct_temporal_sm": ["1929"]},
            "1929",
            (1929, 1929),
        ),
        ({"gbl_indexYear_im": [1890, 1910], "dct_issued_s": "2019"}, "1890–1910", (1890, 1910)),
        # the temporal coverage beats the digital object's issue date ...
        ({"dct_issued_s": "2021", "dct_temporal_sm": ["1929"]}, "1929", (1929, 1929)),
        # ... unless the issue date lies inside it and is more precise
        ({"dct_issued_s": "1885", "dct_temporal_sm": ["19th century"]}, "1885", (1885, 1885)),
        ({"dct_issued_s": "[ca. 1780]"}, "[ca. 1780]", (1780, 1780)),
        ({"gbl_dateRange_drsim": ["[1840 TO 1860]"]}, "1840–1860", (1840, 1860)),
        ({}, None, (None, None)),
    ],
)
def test_aardvark_shows_the_date_the_filters_use(
    fields: dict[str, object], shown: str | None, years: tuple[int | None, int | None]
) -> None:
    record, _ = aardvark_to_record({"id": "x", "dct_title_s": "A map", **fields})
    assert record.date == shown and (record.year_start, record.year_end) == years


def test_junk_language_values_never_become_facet_values() -> None:
    assert language_names(["A", "eng", "Sp", "rum", "fr", "S", "nob", "Latin"]) == [
        "English",
        "Romanian",
        "French",
        "Norwegian Bokmål",
        "Latin",
    ]
