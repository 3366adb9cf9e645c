"""Typed image errors; each carries the HTTP status the API answers with."""

from __future__ import annotations


class ImageError(Exception):
    """Base of every image failure."""

    status = 400


class ImageTooLarge(ImageError):
    """More bytes or pixels than the settings allow."""

    status = 413


class NotAnImage(ImageError):
    """The bytes are not an image Pillow can decode (or the server sent HTML, JSON...)."""

    status = 415


class UnsafeURL(ImageError):
    """The URL's scheme, host or resolved address is refused by the SSRF guard."""

    status = 400


class FetchFailed(ImageError):
    """The image could not be fetched (network error, HTTP error, timeout)."""

    status = 400

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status
