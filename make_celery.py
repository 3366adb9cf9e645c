"""Worker entry point: ``celery -A make_celery worker -Q harvest,embed,index``.

It sits above both ``webapi`` and ``celery_tasks`` (the task package never imports the web app):
it builds the Flask app from ``MAPSEARCH_*`` (the composition root, like ``mapsearch`` itself)
and, in a worker that consumes the ``embed`` queue, loads the model when each pool process
starts, so no batch pays for it (nor outlives the broker's visibility timeout because of it)."""

from typing import Any

from celery.signals import celeryd_after_setup, worker_process_init

from celery_tasks.app import celery_init_app
from celery_tasks.runtime import pipeline_context
from webapi.app import create_app

flask_app = create_app()
celery_app = celery_init_app(flask_app)
_preload_model = False


@celeryd_after_setup.connect
def _remember_queues(sender: Any, instance: Any, **_: Any) -> None:
    global _preload_model
    _preload_model = (
        "embed" in instance.app.amqp.queues.consume_from
        and pipeline_context(flask_app).settings.worker_preload_model
    )


@worker_process_init.connect
def _load_model(**_: Any) -> None:
    if _preload_model:
        with flask_app.app_context():
            pipeline_context(flask_app).container.warm_up()
