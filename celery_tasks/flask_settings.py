"""Where a Flask app keeps the ``Settings`` it was built with (``webapi.app.create_app`` stores
them; the Celery binding and the pipeline context read them)."""

from __future__ import annotations

from flask import Flask

from indexer.settings import Settings

SETTINGS_KEY = "MAPSEARCH_SETTINGS"


def settings_of(flask_app: Flask) -> Settings:
    """The settings the Flask app was built with."""
    settings: Settings = flask_app.config[SETTINGS_KEY]
    return settings
