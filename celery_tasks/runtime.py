"""The per-process pipeline context of a Flask app: job store, stage store and the process
container (backend and model) that the app's web side shares."""

from __future__ import annotations

from flask import Flask, current_app

from celery_tasks.batch_store import open_stage
from celery_tasks.flask_settings import settings_of
from celery_tasks.jobs import open_job_store
from celery_tasks.stages import PipelineContext
from indexer.container import CONTAINER_KEY, ProcessContainer
from indexer.settings import Settings

EXTENSION_KEY = "mapsearch_pipeline"


def build_context(settings: Settings, container: ProcessContainer | None = None) -> PipelineContext:
    """A fresh context for these settings (with a new container unless one is given)."""
    return PipelineContext(
        settings=settings,
        jobs=open_job_store(settings),
        stage=open_stage(settings),
        container=container if container is not None else ProcessContainer(settings),
    )


def pipeline_context(flask_app: Flask | None = None) -> PipelineContext:
    """The context of ``flask_app`` (default: the current app), built on first use around the
    app's own process container."""
    app = flask_app if flask_app is not None else current_app
    context: PipelineContext | None = app.extensions.get(EXTENSION_KEY)
    if context is None:
        context = build_context(settings_of(app), app.extensions.get(CONTAINER_KEY))
        app.extensions[EXTENSION_KEY] = context
    return context
