"""Security headers: every response says ``nosniff``; every HTML page also carries a Content
Security Policy without ``unsafe-inline`` (the pages load their scripts and styles from
``/static``), refuses to be framed (``/staff`` holds the admin token) and limits the referrer."""

from __future__ import annotations

from flask import Flask, Response

# OpenSeadragon 6.1.1 adds one <style> element of its own ("@media (hover: none) ..."); its hash
# allows exactly that text (recompute it when the vendored viewer changes: the browser tests
# fail on any CSP violation and print the hash the browser wants).
OPENSEADRAGON_STYLE_HASH = "'sha256-9xTiqzfwFaL2SGb1rmr8gysEwVVjIvqWAgmZgqFqpEE='"
# Images and IIIF info.json come from any library's server over http(s) (thumbnails, the deep
# zoom viewer); scripts, styles, forms and frames stay on this origin.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        f"style-src 'self' {OPENSEADRAGON_STYLE_HASH}",
        "img-src 'self' data: blob: https: http:",
        "connect-src 'self' https: http:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HTML_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    """Set the headers on one response (HTML pages get the page policy)."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        for name, value in HTML_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


def register_security_headers(app: Flask) -> None:
    """Apply ``add_security_headers`` to every response of ``app``, errors included."""
    app.after_request(add_security_headers)
