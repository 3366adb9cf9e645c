"""Typed image errors (the web layer's table in ``webapi.errors`` gives each its HTTP status)."""

from __future__ import annotations


class ImageError(Exception):
    """Base of every image failure."""


class ImageTooLarge(ImageError):
    """More bytes or pixels than the settings allow."""


class NotAnImage(ImageError):
    """The bytes are not an image Pillow can decode (or the server sent HTML, JSON...)."""


class UnsafeURL(ImageError):
    """The URL's scheme, host or resolved address is refused by the SSRF guard."""


class FetchFailed(ImageError):
    """The image could not be fetched (network error, HTTP error, timeout)."""

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status
