"""The browser UI: server-rendered pages (search, item, export, staff) progressively enhanced with
plain JavaScript; vendored front-end assets are built from ``frontend/`` into ``static/vendor``."""

from webapi.ui.views import bp as ui_blueprint

__all__ = ["ui_blueprint"]
