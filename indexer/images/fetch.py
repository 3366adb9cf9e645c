"""Fetch image bytes over HTTP(S): SSRF-checked on every redirect hop, retried with back-off by
urllib3 on connection errors and 429/5xx, bounded in bytes and time, content type checked."""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urljoin

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from indexer.images.errors import FetchFailed, ImageTooLarge, NotAnImage, UnsafeURL
from indexer.images.guard import PublicOnlyAdapter, check_url
from indexer.settings import Settings

RETRY_STATUSES = (429, 500, 502, 503, 504)
# Servers label JPEG 2000 and some TIFFs generically; the decoder decides for those.
GENERIC_TYPES = ("application/octet-stream", "binary/octet-stream", "")
CHUNK_BYTES = 64 * 1024

_sessions = threading.local()


class _CappedRetry(Retry):
    """urllib3 Retry whose Retry-After wait is capped (a server asking for an hour must not stall a
    worker that long; the fetch fails and the record is retried later)."""

    max_retry_after: float = 60.0

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), self.max_retry_after)


def _session_key(settings: Settings) -> tuple[Any, ...]:
    return (
        settings.allow_private_urls,
        settings.image_retries,
        settings.image_backoff,
        settings.image_max_retry_after,
        settings.http_user_agent,
    )


def build_session(settings: Settings) -> requests.Session:
    """A session with the retry policy and, unless private URLs are allowed, the socket guard."""
    retry_cls = type(
        "CappedRetry", (_CappedRetry,), {"max_retry_after": settings.image_max_retry_after}
    )
    retry = retry_cls(
        total=settings.image_retries,
        connect=settings.image_retries,
        read=settings.image_retries,
        status=settings.image_retries,
        redirect=False,  # redirects are followed by hand so each hop is re-checked
        backoff_factor=settings.image_backoff,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    adapter_cls = HTTPAdapter if settings.allow_private_urls else PublicOnlyAdapter
    session = requests.Session()
    # Environment proxies would make the socket guard check the proxy, not the target.
    session.trust_env = False
    session.headers["User-Agent"] = settings.http_user_agent
    for scheme in ("http://", "https://"):
        session.mount(scheme, adapter_cls(max_retries=retry, pool_maxsize=8))
    return session


def session_for(settings: Settings) -> requests.Session:
    """One pooled session per thread and settings (connection reuse across a batch)."""
    cache: dict[tuple[Any, ...], requests.Session] = getattr(_sessions, "by_key", None) or {}
    _sessions.by_key = cache
    key = _session_key(settings)
    if key not in cache:
        cache[key] = build_session(settings)
    return cache[key]


def _read_limited(response: requests.Response, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise ImageTooLarge(f"the image is {int(declared):,} bytes; the limit is {max_bytes:,}")
    chunks: list[bytes] = []
    received = 0
    while True:
        # read1 returns after one socket read, so a server dripping bytes slower than the read
        # timeout but never finishing still meets the overall deadline.
        chunk = response.raw.read1(CHUNK_BYTES, decode_content=True)
        if not chunk:
            break
        received += len(chunk)
        if received > max_bytes:
            raise ImageTooLarge(f"the image is over the {max_bytes:,}-byte limit")
        if time.monotonic() > deadline:
            raise FetchFailed("the image download took longer than the image_timeout setting")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_content_type(response: requests.Response, accept: tuple[str, ...]) -> str:
    content_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if content_type in GENERIC_TYPES or any(content_type.startswith(prefix) for prefix in accept):
        return content_type
    raise NotAnImage(f"the URL answered with {content_type!r}, not an image")


def fetch_bytes(
    url: str, settings: Settings, accept: tuple[str, ...] = ("image/",)
) -> tuple[bytes, str]:
    """(body, content type) of ``url``; every hop is SSRF-checked; typed errors on failure."""
    session = session_for(settings)
    deadline = time.monotonic() + settings.image_timeout
    current = url
    for _hop in range(settings.image_max_redirects + 1):
        check_url(current, settings)
        try:
            response = session.get(
                current,
                stream=True,
                allow_redirects=False,
                timeout=(min(10.0, settings.image_timeout), settings.image_timeout),
            )
        except UnsafeURL:
            raise
        except requests.exceptions.RetryError as exc:
            raise FetchFailed(
                f"{current}: the server kept failing ({exc.__class__.__name__})"
            ) from exc
        except requests.RequestException as exc:
            inner = exc.__context__
            while inner is not None:  # the socket guard's refusal arrives wrapped by urllib3
                if isinstance(inner, UnsafeURL):
                    raise inner from exc
                inner = inner.__context__
            raise FetchFailed(f"{current}: {exc.__class__.__name__}") from exc
        with response:
            if response.is_redirect:
                location = response.headers.get("Location")
                if not location:
                    raise FetchFailed(f"{current}: redirect without a Location")
                current = urljoin(current, location)
                continue
            if response.status_code >= 400:
                raise FetchFailed(f"{current}: HTTP {response.status_code}", response.status_code)
            content_type = _check_content_type(response, accept)
            try:
                body = _read_limited(response, settings.image_max_bytes, deadline)
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                raise FetchFailed(
                    f"{current}: download interrupted ({exc.__class__.__name__})"
                ) from exc
            return body, content_type
    raise FetchFailed(f"{url}: more than {settings.image_max_redirects} redirects")
