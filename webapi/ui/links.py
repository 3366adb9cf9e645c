"""Absolute links for what leaves the site (exports, manifests)."""

from __future__ import annotations

from flask import request


def absolute_url(url: str | None) -> str | None:
    """``url`` made absolute against this request's host (links in files that leave the site)."""
    if url and url.startswith("/"):
        return request.host_url.rstrip("/") + url
    return url


def web_link(url: str | None) -> str | None:
    """``url`` when a browser may follow it (http, https or a path on this site), else None: links
    from harvested records or query strings never become ``javascript:`` or ``data:`` links."""
    if not url:
        return None
    lowered = url.strip().lower()
    if lowered.startswith(("http://", "https://")) or (
        lowered.startswith("/") and not lowered.startswith("//")
    ):
        return url.strip()
    return None
