"""Staff endpoints under ``/api/admin``: start harvests and reindexes, watch and cancel jobs, see
the index status. Every request needs ``Authorization: Bearer <token>`` with a token from
``MAPSEARCH_ADMIN_TOKENS`` (401 without one, 403 for a wrong one)."""

from __future__ import annotations

from typing import Any, Literal

from flask import Response, current_app, request
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field, field_validator

from celery_tasks.job_specs import (
    MAX_REINDEX_IDS,
    HarvestIiifSpec,
    HarvestLocSpec,
    JobSpec,
    ReindexSpec,
    date_range,
    facet_pairs,
)
from celery_tasks.runner import cancel_job, read_job, start_job
from celery_tasks.runtime import pipeline_context
from webapi.api.problems import ApiProblem, Problem, problem_response
from webapi.services import services_of
from webapi.staff_auth import bearer_token, is_staff_token

api = APIBlueprint(
    "admin_api",
    __name__,
    url_prefix="/api/admin",
    abp_tags=[Tag(name="admin")],
    abp_security=[{"bearer": []}],
)


@api.before_request
def _require_staff_token() -> Response | None:
    """Constant-time comparison against every configured token; no tokens = API closed."""
    token = bearer_token(request)
    if token is None:
        return problem_response(
            401,
            "Unauthorized",
            "A staff token is required: Authorization: Bearer <token>.",
            slug="unauthorized",
            headers={"WWW-Authenticate": 'Bearer realm="mapsearch-admin"'},
        )
    matched = is_staff_token(token, services_of().settings.admin_tokens)
    if not matched:
        return problem_response(
            403, "Forbidden", "This token is not a staff token.", slug="forbidden"
        )
    return None


class HarvestBody(BaseModel):
    """A harvest: the Library of Congress JSON API, or a IIIF manifest/collection URL."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["loc", "iiif"]
    collection: str | None = Field(default=None, max_length=200, description="LoC collection slug.")
    query: str | None = Field(default=None, max_length=500, description="LoC search terms (q).")
    facets: list[str] = Field(
        default_factory=list, max_length=20, description="LoC facets, NAME:VALUE."
    )
    dates: str | None = Field(default=None, description="LoC date range FROM/TO, e.g. 1700/1799.")
    url: str | None = Field(
        default=None, max_length=2000, description="IIIF manifest or collection URL."
    )
    limit: int | None = Field(default=None, ge=1, le=10_000_000)
    with_images: bool = True

    @field_validator("facets")
    @classmethod
    def _facets_are_pairs(cls, facets: list[str]) -> list[str]:
        return facet_pairs(facets)

    @field_validator("dates")
    @classmethod
    def _dates_are_a_range(cls, dates: str | None) -> str | None:
        return date_range(dates)


class ReindexBody(BaseModel):
    """A reindex of some documents (``ids``) or of everything (no ids)."""

    model_config = ConfigDict(extra="forbid")

    ids: list[str] | None = Field(default=None, min_length=1, max_length=MAX_REINDEX_IDS)
    map_text: bool = Field(
        default=False, description="Also read the words printed on each map (OCR; vectors kept)."
    )


class JobPath(BaseModel):
    """A job id."""

    job_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class JobsQuery(BaseModel):
    """How many recent jobs."""

    limit: int = Field(default=50, ge=1, le=500)


def _job_or_404(job_id: str) -> dict[str, Any]:
    """The job as JSON; JobNotFound is a 404 by the error table (``webapi.errors``)."""
    return read_job(current_app._get_current_object(), job_id).to_dict()  # type: ignore[attr-defined]


def _start(spec: JobSpec) -> tuple[dict[str, Any], int, dict[str, str]]:
    # A SourceError (bad harvest parameters) is a 400 by the error table.
    job = start_job(current_app._get_current_object(), spec)  # type: ignore[attr-defined]
    return job.to_dict(), 202, {"Location": f"/api/admin/jobs/{job.id}"}


@api.post(
    "/harvest",
    summary="Start a harvest job",
    responses={202: None, 400: Problem, 401: Problem, 403: Problem},
)
def start_harvest(body: HarvestBody) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Queue a harvest (or run it in the background without a broker); 202 with the job."""
    if body.source == "iiif" and not body.url:
        raise ApiProblem(400, "Invalid job", "a IIIF harvest needs 'url'", slug="invalid-job")
    if body.source == "loc" and body.url:
        raise ApiProblem(
            400,
            "Invalid job",
            "'url' is for IIIF harvests; use collection/query/facets for LoC",
            slug="invalid-job",
        )
    fields = body.model_dump(exclude_none=True, exclude={"source", "url"})
    if body.source == "iiif":
        assert body.url is not None
        return _start(HarvestIiifSpec(url=body.url, limit=body.limit, with_images=body.with_images))
    return _start(HarvestLocSpec(**fields))


@api.post(
    "/reindex",
    summary="Reindex some or all documents",
    responses={202: None, 400: Problem, 401: Problem, 403: Problem},
)
def start_reindex(body: ReindexBody) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Re-derive documents from stored records; vectors kept unless the model or image changed."""
    if body.ids:
        return _start(ReindexSpec(ids=list(dict.fromkeys(body.ids)), map_text=body.map_text))
    return _start(ReindexSpec(full=True, map_text=body.map_text))


@api.get("/jobs", summary="Recent jobs", responses={200: None, 401: Problem, 403: Problem})
def list_jobs(query: JobsQuery) -> dict[str, Any]:
    """Most recent first."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    jobs = pipeline_context(app).jobs.recent(query.limit)
    return {"jobs": [read_job(app, job.id).to_dict() for job in jobs]}


@api.get(
    "/jobs/<job_id>",
    summary="One job's progress",
    responses={200: None, 404: Problem, 401: Problem, 403: Problem},
)
def show_job(path: JobPath) -> dict[str, Any]:
    """State, done/failed/total, rate, ETA and sample errors."""
    return _job_or_404(path.job_id)


@api.post(
    "/jobs/<job_id>/cancel",
    summary="Cancel a job",
    responses={200: None, 404: Problem, 401: Problem, 403: Problem},
)
def cancel(path: JobPath) -> dict[str, Any]:
    """Stop a job: batches not yet written are skipped; what is indexed stays indexed."""
    _job_or_404(path.job_id)
    return cancel_job(current_app._get_current_object(), path.job_id).to_dict()  # type: ignore[attr-defined]


@api.get(
    "/status",
    summary="Index status",
    responses={200: None, 401: Problem, 403: Problem, 503: Problem},
)
def status() -> dict[str, Any]:
    """Alias → physical index, document counts, model id, mapping version; pipeline mode."""
    services = services_of()
    info = services.backend.info()
    return {
        "backend": info.backend,
        "alias": info.name,
        "physical_index": info.physical,
        "documents": info.documents,
        "with_vectors": info.with_vectors,
        "model_id": info.model_id,
        "dims": info.dims,
        "mapping_version": info.mapping_version,
        "configured_model": services.settings.model,
        "pipeline": "celery" if services.settings.broker_url else "in-process",
    }
