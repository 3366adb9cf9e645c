"""Who is staff: a request whose ``Authorization: Bearer`` token is one of
``MAPSEARCH_ADMIN_TOKENS``, compared in constant time (the staff API requires it; exports give
staff a higher cap)."""

from __future__ import annotations

import hmac

from flask import Request


def bearer_token(request: Request) -> str | None:
    """The request's bearer token, if it sends one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def is_staff_token(token: str, tokens: list[str]) -> bool:
    """True when ``token`` is a staff token; no early exit, so timing reveals nothing."""
    matched = False
    for candidate in tokens:
        matched |= hmac.compare_digest(candidate.encode(), token.encode())
    return matched
