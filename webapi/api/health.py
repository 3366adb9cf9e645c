"""``/healthz``: is the index reachable, how many documents, which model (without loading the
model); ``/readyz``: has this process warmed up (index open, model loaded) and can take traffic."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel

from webapi.api.problems import Problem, problem_response
from webapi.services import services_of

api = APIBlueprint("health_api", __name__, abp_tags=[Tag(name="health")])


class Health(BaseModel):
    """What a load balancer or a person checking the service sees."""

    status: str
    backend: str
    documents: int
    with_vectors: int
    index_model: str | None
    configured_model: str
    model_loaded: bool


@api.get("/healthz", summary="Liveness and index status", responses={200: Health, 503: Problem})
def healthz() -> dict[str, Any]:
    """Backend reachable (else 503 with Retry-After), document counts, model ids."""
    services = services_of()
    info = services.backend.info()
    return Health(
        status="ok",
        backend=info.backend,
        documents=info.documents,
        with_vectors=info.with_vectors,
        index_model=info.model_id,
        configured_model=services.settings.model,
        model_loaded=bool(getattr(services.embedder, "loaded", True)),
    ).model_dump()


class Ready(BaseModel):
    """A serving process that has opened its index and loaded its model."""

    status: str
    seconds: float | None


@api.get(
    "/readyz",
    summary="Readiness: warmed up and taking traffic",
    responses={200: Ready, 503: Problem},
)
def readyz() -> dict[str, Any] | Response:
    """200 once the process has opened its index and loaded its model; 503 with Retry-After
    while it is still loading, or 503 with the reason when warming up failed."""
    container = services_of().container
    container.warm_up_in_background()
    readiness = container.readiness
    if readiness.state == "loading":
        return problem_response(
            503, "Loading", readiness.detail, slug="loading", headers={"Retry-After": "1"}
        )
    if readiness.state == "failed":
        return problem_response(503, "Warm-up failed", readiness.detail, slug="failed")
    return Ready(status="ready", seconds=readiness.seconds).model_dump()
