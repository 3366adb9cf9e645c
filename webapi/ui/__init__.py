"""The browser UI: server-rendered pages (search, item, export, staff) progressively enhanced with
plain JavaScript; vendored front-end assets are built from ``frontend/`` into ``static/vendor``."""

from webapi.ui import export_views, item_views, search_views, staff_views  # noqa: F401 (routes)
from webapi.ui.blueprint import bp as ui_blueprint

__all__ = ["ui_blueprint"]
