"""Absolute links for what leaves the site (exports, manifests)."""

from __future__ import annotations

from flask import request


def absolute_url(url: str | None) -> str | None:
    """``url`` made absolute against this request's host (links in files that leave the site)."""
    if url and url.startswith("/"):
        return request.host_url.rstrip("/") + url
    return url
