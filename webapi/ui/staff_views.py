"""The staff console page; its data comes from the
token-protected ``/api/admin`` API in the browser."""

from __future__ import annotations

from flask import render_template

from webapi.ui.blueprint import bp


@bp.get("/staff")
def staff_page() -> str:
    """The staff console: sign in with a token, watch and start jobs, see the index status."""
    return render_template("ui/staff.html")
