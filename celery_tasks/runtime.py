"""The per-process pipeline context of a Flask app: job store, stage store, backend and model,
each built once (a worker loads its model on the first batch and keeps it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

from celery_tasks.flask_settings import settings_of
from celery_tasks.jobs import open_job_store
from celery_tasks.stages import PipelineContext
from celery_tasks.staging import open_stage
from indexer.settings import Settings

if TYPE_CHECKING:
    from indexer.backends.base import SearchBackend
    from indexer.embedder import Embedder

EXTENSION_KEY = "mapsearch_pipeline"


def build_context(settings: Settings) -> PipelineContext:
    """A fresh context for these settings."""

    def backend() -> SearchBackend:
        from indexer.backends import open_backend

        return open_backend(settings)

    def embedder() -> Embedder:
        from indexer.embedder import get_embedder  # type: ignore[attr-defined]

        model: Embedder = get_embedder(settings)
        return model

    return PipelineContext(
        settings=settings,
        jobs=open_job_store(settings),
        stage=open_stage(settings),
        backend_factory=backend,
        embedder_factory=embedder,
    )


def pipeline_context(flask_app: Flask | None = None) -> PipelineContext:
    """The context of ``flask_app`` (default: the current app), built on first use."""
    app = flask_app if flask_app is not None else current_app
    context: PipelineContext | None = app.extensions.get(EXTENSION_KEY)
    if context is None:
        context = build_context(settings_of(app))
        app.extensions[EXTENSION_KEY] = context
    return context
