"""``/healthz``: is the index reachable, how many documents, which model — without loading the model."""

from __future__ import annotations

from typing import Any

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel

from webapi.api.problems import Problem
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
        model_loaded=services.lazy_embedder.loaded,
    ).model_dump()
