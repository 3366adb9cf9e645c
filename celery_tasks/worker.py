"""Worker entry point: ``celery -A celery_tasks.worker worker -Q harvest,embed,index``.

It builds the Flask app from ``MAPSEARCH_*`` (the composition root, like ``mapsearch`` itself)."""

from celery_tasks.app import celery_init_app
from webapi.app import create_app

flask_app = create_app()
celery_app = celery_init_app(flask_app)
