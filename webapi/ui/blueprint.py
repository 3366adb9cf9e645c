"""The UI blueprint: templates, static assets and the page routes registered on it by the
``*_views`` modules."""

from __future__ import annotations

from flask import Blueprint

from webapi.ui.links import web_link

bp = Blueprint(
    "ui",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/ui/static",
)
bp.add_app_template_filter(web_link, "web_link")
