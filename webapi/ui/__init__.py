"""The browser UI: server-rendered pages (search, item, export, staff) progressively enhanced with
plain JavaScript; vendored front-end assets are built from ``frontend/`` into ``static/vendor``."""

from webapi.ui import (  # noqa: F401 (routes)
    api_docs_views,
    export_views,
    item_views,
    search_views,
    staff_views,
)
from webapi.ui.api_docs_views import assets as api_docs_assets
from webapi.ui.blueprint import bp as ui_blueprint

__all__ = ["api_docs_assets", "ui_blueprint"]
