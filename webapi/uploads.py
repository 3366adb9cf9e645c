"""Uploaded example images: stored under ``data_dir/uploads`` behind a random token that expires,
so a search by an uploaded map can be a permalink; and the resolver that turns a search's
``image_url`` / ``image_token`` / uploaded bytes into a decoded image. What is stored is the
decoded, bounded image as PNG, never the bytes sent (a decompression bomb is decoded once, at
upload, under the pixel guards), and the directory has a byte quota."""

from __future__ import annotations

import errno
import io
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image

from indexer.settings import Settings

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class UploadNotFound(Exception):
    """The image token is malformed, unknown or expired."""


class UploadStorageUnavailable(Exception):
    """The upload could not be stored: the disk is full or the data directory is read-only."""


# OS errors that are the machine's state, not the request's: answered 503, not 500.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})


class UploadQuotaExceeded(Exception):
    """The upload directory holds its quota of live uploads; try again when some expire."""


@dataclass(frozen=True)
class StoredUpload:
    """What POST /api/uploads answers."""

    token: str
    expires_at: float  # unix seconds
    width: int
    height: int


class UploadStore:
    """Validated uploads on disk; the file's mtime is its upload time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.directory = settings.data_dir / "uploads"

    def save(self, data: bytes) -> StoredUpload:
        """Validate ``data`` as an image (typed errors: too large / not an image) and store it."""
        from indexer.images import decode_upload

        image = decode_upload(data, self.settings)
        normalised = io.BytesIO()
        image.save(normalised, format="PNG")
        self.purge_expired()
        if self.stored_bytes() + normalised.tell() > self.settings.upload_quota_bytes:
            raise UploadQuotaExceeded(
                "the server holds as many uploaded images as it may; try again later"
            )
        token = secrets.token_urlsafe(24)
        path = self._path(token)
        tmp = path.with_suffix(".tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(normalised.getvalue())
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if exc.errno in STORAGE_ERRNOS:
                raise UploadStorageUnavailable(
                    f"the upload could not be stored ({exc.strerror}); try again later"
                ) from exc
            raise
        return StoredUpload(
            token, time.time() + self.settings.upload_ttl_seconds, image.width, image.height
        )

    def load(self, token: str) -> Image.Image:
        """The decoded image of a live token."""
        from indexer.images import decode_upload

        if not TOKEN_PATTERN.match(token):
            raise UploadNotFound("image_token is not a token issued by POST /api/uploads")
        path = self._path(token)
        try:
            uploaded_at = path.stat().st_mtime
        except FileNotFoundError:
            raise UploadNotFound(
                "image_token is unknown or has expired; upload the image again"
            ) from None
        if uploaded_at + self.settings.upload_ttl_seconds < time.time():
            path.unlink(missing_ok=True)
            raise UploadNotFound("image_token has expired; upload the image again")
        return decode_upload(path.read_bytes(), self.settings)

    def stored_bytes(self) -> int:
        """Bytes the stored uploads take now."""
        if not self.directory.is_dir():
            return 0
        total = 0
        for path in self.directory.glob("*.upload"):
            try:
                total += path.stat().st_size
            except FileNotFoundError:
                continue  # purged meanwhile
        return total

    def purge_expired(self) -> int:
        """Delete expired uploads; returns how many."""
        if not self.directory.is_dir():
            return 0
        deadline = time.time() - self.settings.upload_ttl_seconds
        removed = 0
        for path in self.directory.glob("*.upload"):
            try:
                if path.stat().st_mtime < deadline:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue  # another worker purged it first
        return removed

    def _path(self, token: str) -> Path:
        return self.directory / f"{token}.upload"


class ExampleImageResolver:
    """Decodes a search's example image from a URL (SSRF-guarded), an upload token or raw bytes."""

    def __init__(self, settings: Settings, uploads: UploadStore) -> None:
        self.settings = settings
        self.uploads = uploads

    def from_url(self, url: str) -> Image.Image:
        """Fetch ``url`` with the SSRF guard and size limits of ``indexer.images``."""
        from indexer.images import fetch_image

        return fetch_image(url, self.settings)

    def from_token(self, token: str) -> Image.Image:
        """The image behind an upload token."""
        return self.uploads.load(token)

    def from_bytes(self, data: bytes) -> Image.Image:
        """Decode uploaded bytes (typed errors: too large / not an image)."""
        from indexer.images import decode_upload

        return decode_upload(data, self.settings)

    def __call__(self, kind: Literal["url", "token"], value: str) -> Image.Image:
        """The search service's resolver: an example image named by URL or upload token."""
        return self.from_token(value) if kind == "token" else self.from_url(value)
