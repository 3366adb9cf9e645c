"""``mapsearch harvest records`` in-process, ``mapsearch jobs`` and ``worker`` argument checks."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from celery_tasks.job_specs import parse_job_spec
from indexer.records import MapRecord
from webapi.cli import cli


def _runner(tmp_path: Path) -> CliRunner:
    return CliRunner(
        env={
            "MAPSEARCH_DATA_DIR": str(tmp_path / "data"),
            "MAPSEARCH_PIPELINE_BATCH_SIZE": "4",
            "MAPSEARCH_BROKER_URL": None,
        }
    )


def _records_file(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "records.jsonl"
    path.write_text(
        "\n".join(
            MapRecord(id=f"cli:{i}", source="cli", title=f"Chart {i}").model_dump_json()
            for i in range(count)
        )
    )
    return path


def test_harvest_records_in_process_then_jobs(tmp_path: Path) -> None:
    runner = _runner(tmp_path)
    result = runner.invoke(
        cli, ["harvest", "records", str(_records_file(tmp_path, 10)), "--no-images"]
    )
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output and "done 10/10" in result.output

    listed = runner.invoke(cli, ["jobs", "list", "--json"])
    jobs = json.loads(listed.output)
    assert len(jobs) == 1 and jobs[0]["done"] == 10 and jobs[0]["batches_total"] == 3
    shown = runner.invoke(cli, ["jobs", "show", jobs[0]["id"]])
    assert shown.exit_code == 0 and jobs[0]["id"] in shown.output
    assert "done 10/10" in runner.invoke(cli, ["jobs"]).output


def test_limit_stops_the_harvest(tmp_path: Path) -> None:
    runner = _runner(tmp_path)
    result = runner.invoke(
        cli, ["harvest", "records", str(_records_file(tmp_path, 10)), "--no-images", "--limit", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "done 5/5" in result.output


def test_unknown_job_and_bad_arguments_exit_nonzero(tmp_path: Path) -> None:
    runner = _runner(tmp_path)
    missing = runner.invoke(cli, ["jobs", "show", "nope"])
    assert missing.exit_code != 0 and "no job 'nope'" in missing.output
    assert runner.invoke(cli, ["jobs", "cancel", "nope"]).exit_code != 0
    bad_facet = runner.invoke(cli, ["harvest", "loc", "--facet", "nocolon"])
    assert bad_facet.exit_code == 2 and "NAME:VALUE" in bad_facet.output
    bad_dates = runner.invoke(cli, ["harvest", "loc", "--dates", "1800-1900"])
    assert bad_dates.exit_code == 2
    no_broker = runner.invoke(cli, ["worker"])
    assert no_broker.exit_code == 2 and "MAPSEARCH_BROKER_URL" in no_broker.output


def test_cancel_stops_the_remaining_batches(tmp_path: Path) -> None:
    """Cancelled after the first batch: later batches are skipped, what was written stays."""
    from celery_tasks.runner import cancel_job, start_job
    from indexer.backends import open_backend
    from indexer.settings import load_settings
    from webapi.app import create_app

    app = create_app({"data_dir": tmp_path / "data", "pipeline_batch_size": 4})
    seen: list[str] = []

    def progress(job: object) -> None:
        if not seen:
            cancel_job(app, job.id)  # type: ignore[attr-defined]
        seen.append(job.state)  # type: ignore[attr-defined]

    job = start_job(
        app,
        parse_job_spec(
            {"source": "records", "path": str(_records_file(tmp_path, 12)), "with_images": False}
        ),
        inline=True,
        progress=progress,
    )
    assert job.state == "cancelled" and job.cancel_requested
    assert job.done == 4 and job.message == "cancelled by staff"
    backend = open_backend(load_settings({"data_dir": tmp_path / "data"}))
    try:
        assert backend.info().documents == 4
    finally:
        backend.close()
