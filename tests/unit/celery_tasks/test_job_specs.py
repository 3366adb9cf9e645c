"""Typed job specs: what the staff API and the CLI build, the stores keep and the stages read."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from celery_tasks.job_specs import (
    HarvestIiifSpec,
    HarvestLocSpec,
    ImportRecordsSpec,
    ReembedSpec,
    ReindexSpec,
    parse_job_spec,
    spec_params,
)
from celery_tasks.jobs import Job


@pytest.mark.parametrize(
    ("params", "cls", "kind"),
    [
        (
            {"source": "loc", "query": "maps", "facets": ["subject:roads"]},
            HarvestLocSpec,
            "harvest",
        ),
        ({"source": "iiif", "url": "https://example.org/m.json"}, HarvestIiifSpec, "harvest"),
        ({"source": "records", "path": "/data/r.jsonl", "limit": 5}, ImportRecordsSpec, "harvest"),
        ({"source": "index", "full": True}, ReindexSpec, "reindex"),
        ({"source": "index", "ids": ["a", "b"]}, ReindexSpec, "reindex"),
        ({"source": "reembed"}, ReembedSpec, "reindex"),
    ],
)
def test_stored_params_read_back_as_their_spec(
    params: dict[str, object], cls: type, kind: str
) -> None:
    spec = parse_job_spec(params)  # the dicts jobs were stored as before specs existed
    assert isinstance(spec, cls) and spec.kind == kind
    assert parse_job_spec(spec_params(spec)) == spec  # round trip through a job store
    job = Job(id="j", kind=kind, params=spec_params(spec))
    assert job.spec == spec


@pytest.mark.parametrize(
    "params",
    [
        {"source": "ftp"},
        {"source": "iiif"},
        {"source": "loc", "facets": ["no-colon"]},
        {"source": "loc", "dates": "last year"},
        {"source": "loc", "limit": 0},
        {"source": "loc", "surprise": 1},
        {"source": "index"},
        {"source": "index", "full": True, "ids": ["a"]},
        {"source": "records"},
    ],
)
def test_what_is_not_a_job_is_refused_before_it_is_queued(params: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        parse_job_spec(params)


def test_only_loc_harvests_resume_and_reindexes_keep_their_vectors() -> None:
    assert HarvestLocSpec().resumable and not HarvestIiifSpec(url="https://x/m").resumable
    assert HarvestLocSpec().fetches_images and not HarvestLocSpec(with_images=False).fetches_images
    assert not ReindexSpec(full=True).fetches_images
