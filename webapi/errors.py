"""The one error table: each typed error of the layers below (and of the web layer itself) with
the HTTP status, problem title and type slug that the JSON API, the HTML pages and the command
line all answer it with. A new error is one row here; nothing else decides a status."""

from __future__ import annotations

from dataclasses import dataclass

from celery_tasks.jobs import JobAlreadyActive, JobNotFound
from celery_tasks.runner import JobQueueFull
from celery_tasks.sources import SourceError
from indexer.backends.base import (
    BackendError,
    IndexNotWritable,
    LifecycleError,
    LifecycleLocked,
    ModelMismatchError,
)
from indexer.backends.es_queries import UnsupportedFilter
from indexer.images.errors import FetchFailed, ImageError, ImageTooLarge, NotAnImage, UnsafeURL
from indexer.model_specs import ModelUnavailableError
from webapi.search.errors import (
    EmbedderUnavailable,
    InvalidSearch,
    NotFound,
    PageOutOfWindow,
    SearchError,
)
from webapi.uploads import UploadNotFound, UploadQuotaExceeded, UploadStorageUnavailable


@dataclass(frozen=True)
class ErrorKind:
    """How one kind of error is answered: HTTP status, problem title and type slug; 503s tell
    the client when to retry."""

    status: int
    title: str
    slug: str

    @property
    def retry_after(self) -> bool:
        """A 503 is temporary: answer with Retry-After."""
        return self.status == 503


# Ordered: the first row whose class the error is an instance of wins (subclasses first).
ERROR_TABLE: tuple[tuple[type[BaseException], ErrorKind], ...] = (
    (ModelMismatchError, ErrorKind(409, "Model mismatch", "model-mismatch")),
    (IndexNotWritable, ErrorKind(503, "Index not writable", "index-not-writable")),
    (BackendError, ErrorKind(503, "Search backend unavailable", "backend-unavailable")),
    (LifecycleLocked, ErrorKind(409, "Index operation in progress", "index-operation-running")),
    (LifecycleError, ErrorKind(409, "Index operation refused", "index-operation-refused")),
    (ModelUnavailableError, ErrorKind(503, "Model unavailable", "model-unavailable")),
    (EmbedderUnavailable, ErrorKind(503, "Model unavailable", "model-unavailable")),
    (PageOutOfWindow, ErrorKind(400, "Page out of the result window", "page-out-of-window")),
    (NotFound, ErrorKind(404, "Not found", "not-found")),
    (InvalidSearch, ErrorKind(400, "Bad search request", "bad-search-request")),
    (SearchError, ErrorKind(400, "Bad search request", "bad-search-request")),
    (UnsupportedFilter, ErrorKind(400, "Filter not available on this index", "unsupported-filter")),
    (ImageTooLarge, ErrorKind(413, "Image too large", "image-too-large")),
    (NotAnImage, ErrorKind(415, "Not an image", "not-an-image")),
    (UnsafeURL, ErrorKind(400, "Image URL refused", "image-url-refused")),
    (FetchFailed, ErrorKind(400, "Image could not be fetched", "image-fetch-failed")),
    (ImageError, ErrorKind(400, "Image refused", "image-refused")),
    (UploadNotFound, ErrorKind(400, "Unknown or expired image token", "unknown-image-token")),
    (UploadQuotaExceeded, ErrorKind(507, "Upload storage is full", "upload-storage-full")),
    (UploadStorageUnavailable, ErrorKind(503, "Upload storage unavailable", "upload-storage-down")),
    (JobNotFound, ErrorKind(404, "Not Found", "job-not-found")),
    (JobAlreadyActive, ErrorKind(409, "Job already running", "job-already-running")),
    (JobQueueFull, ErrorKind(429, "Too many jobs", "too-many-jobs")),
    (SourceError, ErrorKind(400, "Invalid job", "invalid-job")),
)


def error_kind(exc: BaseException) -> ErrorKind | None:
    """The table's row for ``exc``, or None for an error that is not ours (a real 500)."""
    for cls, kind in ERROR_TABLE:
        if isinstance(exc, cls):
            return kind
    return None


def error_detail(exc: BaseException, kind: ErrorKind) -> str:
    """The human message: the error's own text (SearchError keeps it in ``detail``)."""
    detail = getattr(exc, "detail", None)
    if isinstance(detail, str) and detail:
        return detail
    return str(exc) or kind.title


def status_of(exc: BaseException) -> int:
    """The HTTP status ``exc`` is answered with (500 for an error that is not ours)."""
    kind = error_kind(exc)
    return kind.status if kind is not None else 500
