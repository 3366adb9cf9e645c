"""The UI blueprint: templates, static assets and the page routes registered on it by the
``*_views`` modules."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ui", __name__, template_folder="templates", static_folder="static", static_url_path="/ui/static")
