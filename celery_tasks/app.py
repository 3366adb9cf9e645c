"""The one place that binds Celery to a Flask app: configuration (queues, routes, delivery
guarantees) in one dict, and a task base class that runs every task inside the app context."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask
from kombu import Queue

from celery_tasks.flask_settings import settings_of
from indexer.settings import Settings

QUEUES = ("harvest", "embed", "ocr", "index")

# Routes live here, not in task decorators: a reviewer sees the topology at a glance.
TASK_ROUTES = {
    "celery_tasks.tasks.harvest_task": {"queue": "harvest"},
    "celery_tasks.tasks.embed_task": {"queue": "embed"},
    "celery_tasks.tasks.ocr_task": {"queue": "ocr"},
    "celery_tasks.tasks.index_task": {"queue": "index"},
}


def celery_config(settings: Settings) -> dict[str, Any]:
    """Everything Celery is told, derived from ``Settings`` (no other source of truth)."""
    return {
        "broker_url": settings.broker_url,
        "result_backend": settings.result_backend,
        "task_ignore_result": settings.result_backend is None,  # progress lives in the job store
        "task_queues": [Queue(name) for name in QUEUES],
        "task_default_queue": "index",
        "task_routes": TASK_ROUTES,
        # A task is acknowledged only after it ran; a worker that dies mid-task leaves it queued.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # A pool process loads the model before it reports ready; give it time on a slow disk.
        "worker_proc_alive_timeout": 300,
        # Redis redelivers an unacknowledged task (its worker died) after this many seconds.
        # The sweep that restores them runs every tenth of that (1 s to 60 s), scanning each time.
        "broker_transport_options": {
            "visibility_timeout": settings.broker_visibility_timeout,
            "unacked_restore_interval": max(1, min(60, settings.broker_visibility_timeout // 10)),
            "unacked_restore_throttle": 1,
        },
        # Publishing the next step of a chain rides out a short broker restart.
        "task_publish_retry_policy": {
            "max_retries": 20,
            "interval_start": 0.2,
            "interval_step": 0.5,
            "interval_max": 3,
        },
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        "task_serializer": "json",
        "accept_content": ["json"],
        "worker_hijack_root_logger": False,
        "task_send_sent_event": True,
        "worker_send_task_events": True,
    }


def celery_init_app(flask_app: Flask) -> Celery:
    """Create (once per Flask app) the Celery app whose tasks run in ``flask_app``'s context."""
    if "celery" in flask_app.extensions:
        existing: Celery = flask_app.extensions["celery"]
        return existing

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with flask_app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(flask_app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_config(settings_of(flask_app)))
    celery_app.set_default()
    import celery_tasks.tasks  # noqa: F401  (registers the shared tasks with this app)

    flask_app.extensions["celery"] = celery_app
    return celery_app
