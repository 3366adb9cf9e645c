"""A transient failure retried inside a stage shows on the job as it happens: a retry count and a
message naming the stage, the attempt and the error."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from celery_tasks.runtime import pipeline_context
from celery_tasks.tasks import _run
from webapi.app import create_app


def test_a_retried_stage_is_visible_on_its_job(tmp_path: Path) -> None:
    app = create_app(
        {"data_dir": tmp_path / "data", "task_retry_backoff": 0.01, "task_retry_backoff_max": 0.02}
    )
    with app.app_context():
        jobs = pipeline_context().jobs
        job = jobs.create("reindex", {"source": "index", "full": True})
        seen: list[tuple[int, str]] = []
        attempts = iter([ConnectionError("index node went away"), None])

        def work() -> str:
            failure = next(attempts)
            if failure is not None:
                raise failure
            now = jobs.get(job.id)
            seen.append((now.retries, now.message))  # what staff saw while it was retried
            return "written"

        task = SimpleNamespace(name="celery_tasks.tasks.index_task")
        assert _run(task, job.id, work, give_up=lambda message: None) == "written"  # type: ignore[arg-type]
    [(retries, message)] = seen
    assert retries == 1
    assert message.startswith("retrying index_task (1 of ")
    assert "ConnectionError: index node went away" in message
