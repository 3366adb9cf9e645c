"""The Flask application factory: settings in layers (defaults → ``MAPSEARCH_*`` → test overrides),
services per app, the JSON API, and the places where the UI and staff blueprints plug in."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_openapi3 import Info, OpenAPI

from celery_tasks.flask_settings import SETTINGS_KEY
from indexer.settings import Settings, load_settings
from webapi.api import health, images, items, search, uploads
from webapi.api.admin import api as admin_api
from webapi.api.problems import Problem, openapi_validation_callback, register_problem_handlers
from webapi.api.query_args import register_strict_query_strings
from webapi.page_speed import register_page_speed
from webapi.security_headers import register_security_headers
from webapi.services import init_services
from webapi.ui import api_docs_assets, ui_blueprint

# Multipart framing and form fields around an uploaded
# image need a little room above the image limit.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def create_app(test_config: dict[str, Any] | None = None) -> OpenAPI:
    """Build an app. ``test_config``: settings overrides (lower-case keys, or ``settings`` as a
    ready ``Settings``) and Flask config (upper-case keys such as ``TESTING``)."""
    overrides = dict(test_config or {})
    flask_config = {key: overrides.pop(key) for key in list(overrides) if key.isupper()}
    settings = overrides.pop("settings", None)
    if not isinstance(settings, Settings):
        settings = load_settings(overrides)

    app = OpenAPI(
        __name__,
        info=Info(
            title="mapsearch",
            version="1",
            description="Search digitized maps by words, by example image and by both.",
        ),
        validation_error_status=400,
        validation_error_model=Problem,
        validation_error_callback=openapi_validation_callback,
        doc_ui=False,  # /api/openapi.json is served below; no UI plugin is installed
        # The staff API (webapi/api/admin.py) declares ``bearer``; the scheme must exist too.
        security_schemes={
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "A staff token from MAPSEARCH_ADMIN_TOKENS.",
            }
        },
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes + MULTIPART_OVERHEAD_BYTES
    app.config[SETTINGS_KEY] = settings
    app.config.update(flask_config)

    init_services(app, settings)
    register_problem_handlers(app)
    register_security_headers(app)
    register_page_speed(app)
    register_strict_query_strings(app)
    _register_api(app)

    app.register_blueprint(ui_blueprint)
    app.register_blueprint(api_docs_assets)
    app.register_api(admin_api)

    return app


def _register_api(app: OpenAPI) -> None:
    app.register_api(search.api)
    app.register_api(items.api)
    app.register_api(uploads.api)
    app.register_api(health.api)
    app.register_blueprint(images.blueprint)
    search.document_post_search(app)

    @app.get("/api/openapi.json", doc_ui=False)
    def openapi_document() -> Response:
        """The OpenAPI document, generated from the same models that validate requests."""
        return jsonify(with_problem_media_type(app.api_doc))


def with_problem_media_type(spec: dict[str, Any]) -> dict[str, Any]:
    """Error responses are documented as the ``application/problem+json`` they really are
    (flask-openapi3 labels every model ``application/json``, validation errors as an array)."""
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path_item in spec.get("paths", {}).values():
        for operation in path_item.values():
            for response in (operation.get("responses") or {}).values():
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
                if ref == "#/components/schemas/Problem":
                    response["content"] = problem
    return spec
