"""A LoC harvest cut into several tasks (time budget exhausted) resumes from its cursor: every
record is registered once, the total is exact, and each continuation makes progress."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery_tasks import stages
from celery_tasks.runtime import build_context
from indexer.settings import load_settings
from tests.support.http_server import Reply, ScriptedServer, Seen


def _result(n: int) -> dict[str, Any]:
    return {
        "id": f"http://www.loc.gov/item/cont{n:04d}/",
        "title": f"Map {n}",
        "date": "1901",
        "digitized": True,
        "image_url": [
            f"//tile.loc.gov/image-services/iiif/service:gmd:c{n}/full/pct:25/0/default.jpg"
        ],
    }


def test_budgeted_harvest_continues_from_the_cursor(tmp_path: Path) -> None:
    pages = {"1": [_result(n) for n in range(5)], "2": [_result(n) for n in range(5, 8)]}

    def search(seen: Seen) -> Reply:
        page = seen.query["sp"][0]
        return Reply.json(
            {
                "results": pages[page],
                "pagination": {"of": 8, "next": "more" if page == "1" else None},
            }
        )

    with ScriptedServer() as server:
        server.handle("/maps/", search)
        settings = load_settings(
            {
                "data_dir": tmp_path / "data",
                "loc_base_url": server.base_url,
                "loc_page_size": 5,
                "pipeline_batch_size": 2,
                "loc_backoff": 0.01,
            }
        )
        ctx = build_context(settings)
        job = ctx.jobs.create("harvest", {"source": "loc", "query": "maps", "with_images": False})
        submitted: list[str] = []
        rounds = 0
        while not stages.harvest(
            ctx, job.id, lambda _job, batch: submitted.append(batch), budget_s=0
        ):
            rounds += 1
            assert rounds < 20, "a continuation made no progress"
        state = ctx.jobs.get(job.id)

    assert rounds >= 3  # really cut into several tasks
    assert state.harvest_complete and state.total == 8
    assert state.batches_total == len(set(submitted)) == 5  # 2+2+1 on page 1, 2+1 on page 2
    ids = sorted(
        i for batch in ctx.jobs.batch_ids(job.id) for i in ctx.jobs.batch_record_ids(job.id, batch)
    )
    assert ids == sorted(f"loc:cont{n:04d}/1" for n in range(8))
