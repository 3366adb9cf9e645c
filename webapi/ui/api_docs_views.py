"""The API page: the OpenAPI document (``/api/openapi.json``) rendered by Swagger UI, whose files
come bundled in the flask-openapi3-swagger package (so the page works offline), started by our
own script (the Content Security Policy allows no inline script), which with api-docs.css mends
what axe-core finds in Swagger UI's markup (contrast, nameless controls, heading levels)."""

from __future__ import annotations

from pathlib import Path

import flask_openapi3_swagger
from flask import Blueprint, render_template

from webapi.ui.blueprint import bp

# Swagger UI's css/js/images as the package ships them, under /ui/swagger/ (not /api/: API paths
# refuse query strings they do not declare, and these URLs carry ?v=).
SWAGGER_FILES = Path(flask_openapi3_swagger.__file__).parent / "templates" / "swagger"
assets = Blueprint(
    "api_docs",
    __name__,
    static_folder=str(SWAGGER_FILES),
    static_url_path="/ui/swagger",
)


@bp.get("/api/docs")
def api_docs_page() -> str:
    """The JSON API, documented and tryable in the browser."""
    return render_template("ui/api_docs.html")
