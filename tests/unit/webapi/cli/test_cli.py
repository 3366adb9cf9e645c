"""The mapsearch command line: import, search, demo, serve — real index, real files, CliRunner."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo

from tests.support.indexed_app import COLOURS, draw_map
from tests.support.paths import FIXTURES
from webapi.app import create_app
from webapi.cli import cli
from webapi.services import services_of


def run(args: list[str], app: Flask | None = None) -> Result:
    if app is None:  # the command builds its own app, as on a real command line
        return CliRunner().invoke(cli, args, catch_exceptions=False)
    return CliRunner().invoke(
        cli, args, obj=ScriptInfo(create_app=lambda: app), catch_exceptions=False
    )


def assert_clean_failure(result: Result, *needles: str) -> None:
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    assert "Error:" in result.output
    for needle in needles:
        assert needle in result.output, result.output


def test_import_csv_embeds_images_and_reports_broken_rows(app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    draw_map(COLOURS["red"], 1).save(folder / "a.png")
    draw_map(COLOURS["blue"], 2).save(folder / "b.png")
    (folder / "c.png").write_bytes(b"not a png")
    (folder / "maps.csv").write_text(
        "id,title,subjects,date,image_url\n"
        "a,Red island,Islands|Roads,1750,a.png\n"
        "b,Blue island,Islands,[ca. 1780],b.png\n"
        ",No id at all,,,\n"
        "c,Corrupt scan,,1800,c.png\n"
        "d,Catalogue only,,1850,\n",
        encoding="utf-8",
    )
    result = run(["import", "csv", str(folder / "maps.csv")], app)
    assert result.exit_code == 0, result.output
    assert "4 imported, 1 skipped as broken" in result.output
    assert "missing id" in result.output
    assert (
        "4 indexed (2 with a vector: 2 embedded, 0 reused), 1 without image, 0 images not loaded "
        "(metadata only), 1 image failures" in result.output
    )
    backend = services_of(app).backend
    docs = backend.fetch(["csv:a", "csv:b", "csv:c", "csv:d"])
    assert docs["csv:b"].record.year_start == 1780 and docs["csv:b"].vector is not None
    assert docs["csv:c"].vector is None and docs["csv:d"].vector is None


def test_import_aardvark_then_search_json_is_the_api_response(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = run(
        [
            "import",
            "aardvark",
            str(FIXTURES / "aardvark" / "stanford-sample.jsonl"),
            "--no-images",
            "--data-dir",
            str(data_dir),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "aardvark: 20 imported, 0 skipped as broken" in result.output
    assert "5 without image, 15 images not loaded (metadata only)" in result.output

    args = [
        "search",
        "austria",
        "--mode",
        "keyword",
        "--facet",
        "place",
        "--size",
        "5",
        "--explain",
        "--json",
        "--data-dir",
        str(data_dir),
    ]
    cli_body = json.loads(run(args).output)
    api_body = (
        create_app({"data_dir": data_dir})
        .test_client()
        .get("/api/search?q=austria&mode=keyword&facet=place&size=5&explain=true")
        .json
    )
    cli_body.pop("took_ms")
    api_body.pop("took_ms")
    assert cli_body == api_body
    assert cli_body["total"] >= 1 and cli_body["hits"][0]["explain"]["keyword"]["rank"] == 1

    table = run(["search", "austria", "--mode", "keyword", "--data-dir", str(data_dir)])
    assert table.exit_code == 0 and "2 maps" in table.output and "Austria 1:50,000" in table.output


def test_import_of_broken_records_goes_on(tmp_path: Path) -> None:
    result = run(
        [
            "import",
            "aardvark",
            str(FIXTURES / "aardvark" / "broken.jsonl"),
            "--no-images",
            "--data-dir",
            str(tmp_path / "data"),
        ]
    )
    assert "skipped as broken" in result.output and "Traceback" not in result.output


def test_unreadable_import_exits_non_zero(tmp_path: Path) -> None:
    assert_clean_failure(
        run(["import", "csv", str(tmp_path / "missing.csv"), "--data-dir", str(tmp_path / "d")]),
        "missing.csv",
    )
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(bytes(range(256)) * 10)
    result = run(["import", "jsonl", str(binary), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert_clean_failure(run(["import", "xml", str(binary)]), "xml")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["search", "x", "--size", "0"], "--size"),
        (["search", "x", "--bbox", "1,2"], "bbox"),
        (["search", "x", "--modify", "grayscale:9"], "--modify"),
        (["search", "x", "--year-from", "1900", "--year-to", "1800"], "year_from"),
        (["search", "--image", "/no/such/file.png"], "no such file"),
        (["search", "--image", "http://127.0.0.1/a.png"], "non-public"),
        (["search", "--image", "test:nope"], "not in the index"),
        (["search", "x", "--page", "999999", "--mode", "semantic"], "page"),
    ],
)
def test_bad_search_input_is_a_message_not_a_traceback(
    app: Flask, args: list[str], needle: str
) -> None:
    assert_clean_failure(run(args, app), needle)


def test_search_filters_reach_the_service(app: Flask) -> None:
    body = json.loads(run(["search", "--no-image", "--json"], app).output)
    assert [hit["id"] for hit in body["hits"]] == ["test:noimage"]
    body = json.loads(
        run(
            [
                "search",
                "map",
                "--mode",
                "keyword",
                "--subject",
                "Sea monsters",
                "--year-to",
                "1801",
                "--sort",
                "-year",
                "--json",
            ],
            app,
        ).output
    )
    assert [hit["id"] for hit in body["hits"]] == ["test:blue-1", "test:blue-0"]


def test_search_by_local_image_file(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "query.png"
    draw_map(COLOURS["green"], 42).save(path)
    body = json.loads(
        run(
            ["search", "--image", str(path), "--mode", "semantic", "--size", "3", "--json"], app
        ).output
    )
    assert [hit["id"].split("-")[0] for hit in body["hits"]] == ["test:green"] * 3


def test_demo_builds_an_index_and_rerun_reuses_vectors(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    first = run(["demo", "--size", "4", "--no-serve", "--data-dir", str(data_dir)])
    assert first.exit_code == 0, first.output
    assert "4 indexed (4 with a vector: 4 embedded, 0 reused)" in first.output
    assert len(list((data_dir / "images").glob("demo-*.png"))) == 4
    again = run(["demo", "--size", "4", "--no-serve", "--data-dir", str(data_dir)])
    assert "4 indexed (4 with a vector: 0 embedded, 4 reused)" in again.output
    client = create_app({"data_dir": data_dir}).test_client()
    health = client.get("/healthz").json
    assert health["documents"] == 4 and health["with_vectors"] == 4
    browse = client.get("/api/search").json
    assert browse["total"] == 4 and browse["hits"][0]["thumbnail_url"].startswith("/thumbnails/")
    assert client.get(browse["hits"][0]["thumbnail_url"]).status_code == 200
    shutil.rmtree(data_dir)


def test_demo_large_builds_large_sheets_with_boxes_in_the_ground_truth(tmp_path: Path) -> None:
    from indexer.synthetic import read_ground_truth_boxes

    data_dir = tmp_path / "large"
    # seed 25's first map is a small large sheet (2,101 px) with three ornaments: a quick test
    args = ["demo", "--large", "--size", "1", "--seed", "25", "--no-serve", "--data-dir"]
    result = run([*args, str(data_dir)])
    assert result.exit_code == 0, result.output
    # the sheet is large enough for regions: they are embedded with it (docs/regions.md)
    assert re.search(
        r"1 indexed \(1 with a vector: 1 embedded, 0 reused; \d+ regions embedded for 1 maps\)",
        result.output,
    ), result.output
    boxes = read_ground_truth_boxes(data_dir)["demo:00001"]
    assert {entry["kind"] for entry in boxes["ornament_boxes"]} == {
        "coat_of_arms",
        "sea_monster",
        "ship",
    }
    item = create_app({"data_dir": data_dir}).test_client().get("/api/items/demo:00001").json
    assert max(item["image"]["width"], item["image"]["height"]) >= 2048
    shutil.rmtree(data_dir)


def test_demo_rebuilds_an_index_made_by_another_model(tmp_path: Path) -> None:
    from indexer.pipeline import index_records
    from indexer.synthetic import write_demo_collection
    from tests.support.indexed_app import ColourEmbedder

    data_dir = tmp_path / "demo"
    services = services_of(create_app({"data_dir": data_dir}))
    records = write_demo_collection(data_dir, 2, 1)
    index_records(
        records, settings=services.settings, backend=services.backend, embedder=ColourEmbedder()
    )
    services.close()
    result = run(["demo", "--size", "2", "--no-serve", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "built with model 'test-colour-v1'; rebuilding" in result.output
    assert "2 indexed (2 with a vector: 2 embedded, 0 reused)" in result.output
    health = create_app({"data_dir": data_dir}).test_client().get("/healthz").json
    assert health["documents"] == 2 and health["index_model"] != "test-colour-v1"


def test_serve_prints_the_url_and_serves_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: dict[str, object] = {}

    def fake_run_simple(host: str, port: int, app: Flask, **options: object) -> None:
        started.update(host=host, port=port, app=app)  # the real server would block the test

    monkeypatch.setattr("werkzeug.serving.run_simple", fake_run_simple)
    result = run(["serve", "--port", "8123", "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/" in result.output
    assert (
        started["port"] == 8123
        and services_of(started["app"]).settings.data_dir == tmp_path / "data"
    )  # type: ignore[arg-type]
    assert "no index at" in result.output
    assert_clean_failure(run(["serve", "--port", "99999"]), "99999")


def test_search_without_an_index_says_how_to_build_one(tmp_path: Path) -> None:
    assert_clean_failure(
        run(["search", "sea", "--data-dir", str(tmp_path / "empty")]),
        "no index at",
        "mapsearch demo",
    )
    assert not (tmp_path / "empty").exists()


def test_import_while_another_writer_holds_the_index_is_one_error_line_then_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    data_dir = tmp_path / "data"
    csv_path = tmp_path / "maps.csv"
    csv_path.write_text("id,title\na,First map\nb,Second map\n", encoding="utf-8")
    args = ["import", "csv", str(csv_path), "--no-images", "--data-dir", str(data_dir)]
    assert run(args).exit_code == 0
    monkeypatch.setenv("MAPSEARCH_SQLITE_BUSY_TIMEOUT", "0.2")
    index_file = next(data_dir.glob("index*.sqlite"))
    other = sqlite3.connect(index_file, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is writing
    try:
        csv_path.write_text("id,title\na,First map\nb,Second map\nc,Third map\n", "utf-8")
        result = CliRunner().invoke(cli, args)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert_clean_failure(result, "locked by another writer")
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    resumed = run(args)  # the same command once the other writer is done
    assert resumed.exit_code == 0, resumed.output
    assert "3 indexed" in resumed.output, resumed.output
