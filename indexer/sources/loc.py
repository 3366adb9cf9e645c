"""Library of Congress JSON API harvester: search pages (``fo=json``, ``c``, ``sp``, ``at``),
item records where a search result is not enough, the published rate limits through one shared
token bucket, back-off through throttling and temporary blocks, a persisted cursor, and result
sets over 100,000 reached by splitting the date range."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from indexer.error_samples import keep_sample
from indexer.records import MapRecord
from indexer.settings import Settings
from indexer.sources.cursor import CursorStore, FileCursorStore, RedisCursorStore
from indexer.sources.loc_records import first, loc_records, needs_item_record, strings
from indexer.sources.ratelimit import Limit, LocalRateLimiter, RateLimiter, RedisRateLimiter

log = logging.getLogger(__name__)
SEARCH, ITEM = "search", "item"
MAX_SERVER_ERRORS = 5
FIRST_YEAR = (
    1000  # an undated search split by dates starts here; undated records are not in any range
)


class LocError(RuntimeError):
    """The API answered in a way retrying will not fix (bad request, gone)."""


class LocBlocked(LocError):
    """Throttling or a block lasted longer than ``loc_block_wait_max``."""


@dataclass
class HarvestProgress:
    """What a harvest has done so far (reported after every page)."""

    pages: int = 0
    items: int = 0
    records: int = 0
    item_fetches: int = 0
    without_image: int = 0
    total: int | None = None
    date_range: str | None = None
    throttled: int = 0
    waited_s: float = 0.0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    resumed_from_page: int | None = None

    def error(self, message: str) -> None:
        """Count a skipped result and keep a sample."""
        self.skipped += 1
        keep_sample(self.errors, message)


ProgressCallback = Callable[[HarvestProgress], None]


def loc_limits(settings: Settings) -> dict[str, list[Limit]]:
    """The published limits: search 20/10 s and 80/min, item 10/10 s and 200/min (settings)."""
    return {
        SEARCH: [Limit(settings.loc_search_per_10s, 10), Limit(settings.loc_search_per_min, 60)],
        ITEM: [Limit(settings.loc_item_per_10s, 10), Limit(settings.loc_item_per_min, 60)],
    }


_local_limiters: dict[tuple[Any, ...], LocalRateLimiter] = {}
_local_lock = threading.Lock()


def _redis_client(settings: Settings) -> Any:
    import redis

    return redis.Redis.from_url(str(settings.broker_url))


def _uses_redis(settings: Settings) -> bool:
    return bool(
        settings.broker_url
        and str(settings.broker_url).startswith(("redis://", "rediss://", "unix://"))
    )


def make_rate_limiter(settings: Settings) -> RateLimiter:
    """The Redis bucket every worker shares when the pipeline runs on Redis; else one bucket per
    process (shared by its threads)."""
    limits = loc_limits(settings)
    if _uses_redis(settings):
        return RedisRateLimiter(
            _redis_client(settings),
            f"mapsearch:ratelimit:{urlsplit(settings.loc_base_url).netloc}",
            limits,
        )
    key = (settings.loc_base_url, *(limit for kind in limits.values() for limit in kind))
    with _local_lock:
        if key not in _local_limiters:
            _local_limiters[key] = LocalRateLimiter(limits)
        return _local_limiters[key]


def make_cursor_store(settings: Settings) -> CursorStore:
    """Redis when the pipeline runs on Redis (any worker may resume), else files in data_dir."""
    if _uses_redis(settings):
        return RedisCursorStore(_redis_client(settings))
    return FileCursorStore(settings.data_dir / "harvest")


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds of a ``Retry-After`` header (delta seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class LocClient:
    """JSON GETs against the LoC API that wait for the bucket and through throttling."""

    def __init__(self, settings: Settings, limiter: RateLimiter, progress: HarvestProgress) -> None:
        self.settings = settings
        self.limiter = limiter
        self.progress = progress
        self.session = requests.Session()
        self.session.headers["User-Agent"] = settings.http_user_agent
        # urllib3 retries dropped connections; HTTP statuses come back to ``get_json``, which
        # must coordinate waits with every worker through the shared bucket.
        retry = Retry(
            total=3,
            connect=3,
            read=2,
            status=0,
            backoff_factor=min(settings.loc_backoff, 2.0),
            allowed_methods={"GET"},
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def get_json(self, url: str, params: dict[str, Any], kind: str) -> dict[str, Any] | None:
        """The JSON object at ``url``; None for a missing item; LocBlocked / LocError otherwise."""
        backoff = self.settings.loc_backoff
        throttled_for = 0.0
        server_errors = 0
        while True:
            self.progress.waited_s += self.limiter.acquire(kind)
            wait: float | None
            try:
                response = self.session.get(url, params=params, timeout=self.settings.loc_timeout)
            except requests.RequestException as exc:
                server_errors += 1
                if server_errors > MAX_SERVER_ERRORS:
                    raise LocError(
                        f"{url}: {exc.__class__.__name__} after {server_errors} tries"
                    ) from exc
                wait, reason = backoff, exc.__class__.__name__
            else:
                status = response.status_code
                content_type = response.headers.get("Content-Type", "").lower()
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                if status == 200 and "html" not in content_type:
                    try:
                        data = response.json()
                    except ValueError:
                        data = None
                    if isinstance(data, dict):
                        return data
                    wait, reason = backoff, "a non-JSON answer"
                elif status == 200:  # the site's HTML "slow down" page instead of JSON
                    wait, reason = backoff, "HTML instead of JSON"
                elif status == 404 and kind == ITEM:
                    return None
                elif status in (429, 503, 403):
                    wait, reason = (
                        (retry_after if retry_after is not None else backoff),
                        f"HTTP {status}",
                    )
                elif status >= 500:
                    server_errors += 1
                    if server_errors > MAX_SERVER_ERRORS:
                        raise LocError(f"{url}: HTTP {status} after {server_errors} tries")
                    wait, reason = backoff, f"HTTP {status}"
                else:
                    raise LocError(f"{url}: HTTP {status}")
            if throttled_for + wait > self.settings.loc_block_wait_max:
                raise LocBlocked(
                    f"{url}: still refused ({reason}) after waiting {throttled_for:.0f} s; "
                    f"raise loc_block_wait_max ({self.settings.loc_block_wait_max:.0f} s) or try "
                    "later"
                )
            log.warning("LoC answered %s; every worker waits %.1f s", reason, wait)
            self.progress.throttled += 1
            throttled_for += wait
            # Everyone sharing the bucket waits, not only this worker.
            self.limiter.pause(wait)
            backoff = min(backoff * 2, self.settings.loc_backoff_max)


def search_url(settings: Settings, params: dict[str, Any]) -> str:
    """``/collections/<slug>/``, ``/<format>/`` (maps by default) or ``/search/``."""
    base = settings.loc_base_url.rstrip("/")
    if params.get("collection"):
        return f"{base}/collections/{quote(str(params['collection']).strip('/'))}/"
    fmt = params.get("format", "maps")
    return f"{base}/{quote(str(fmt))}/" if fmt else f"{base}/search/"


def search_query(
    settings: Settings, params: dict[str, Any], date_range: list[int] | None, page: int
) -> dict[str, Any]:
    """Query parameters of one search page."""
    query: dict[str, Any] = {
        "fo": "json",
        "c": settings.loc_page_size,
        "sp": page,
        "at": "results,pagination",
    }
    if params.get("query"):
        query["q"] = params["query"]
    facets = params.get("facets") or []
    if isinstance(facets, str):
        facets = [facets]
    if facets:
        query["fa"] = "|".join(str(f) for f in facets)
    if date_range is not None:
        query["dates"] = f"{date_range[0]}/{date_range[1]}"
    return query


def parse_dates(value: Any) -> list[int] | None:
    """``"1850/1900"`` (or ``1850-1900``) → [1850, 1900]; None when absent."""
    if not value:
        return None
    text = str(value).replace("-", "/")
    parts = [p for p in text.split("/") if p.strip()]
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"dates must be FROM/TO years, got {value!r}")
    start, end = int(parts[0]), int(parts[1])
    return [min(start, end), max(start, end)]


def _fingerprint(params: dict[str, Any]) -> str:
    keys = ("collection", "query", "facets", "dates", "format")
    return json.dumps({k: params.get(k) for k in keys}, sort_keys=True, default=str)


def _item_url(settings: Settings, result: dict[str, Any]) -> str:
    """The item endpoint on our configured base (recorded results carry www.loc.gov URLs)."""
    url = first(result.get("id")) or first(result.get("url")) or ""
    return settings.loc_base_url.rstrip("/") + urlsplit(url if "//" in url else "//x" + url).path


def _is_collection_entry(result: dict[str, Any]) -> bool:
    return "collection" in [s.lower() for s in strings(result.get("original_format"))]


def harvest_loc(
    settings: Settings,
    params: dict[str, Any],
    cursor_key: str | None = None,
    batch_size: int | None = None,
    progress: ProgressCallback | None = None,
    limiter: RateLimiter | None = None,
    cursor_store: CursorStore | None = None,
    report: HarvestProgress | None = None,
) -> Iterator[list[MapRecord]]:
    """Batches of MapRecords from a LoC search (``params``: collection, query, facets
    ["name:value"], dates "FROM/TO", format, limit). Resumes from the saved cursor of
    ``cursor_key``; a finished harvest clears it."""
    batch_size = batch_size or settings.pipeline_batch_size
    limiter = limiter or make_rate_limiter(settings)
    store = cursor_store or make_cursor_store(settings)
    fingerprint = _fingerprint(params)
    key = cursor_key or "loc-" + hashlib.sha1(fingerprint.encode()).hexdigest()[:16]
    state = store.load(key)
    stats = report if report is not None else HarvestProgress()
    if state is None or state.get("fingerprint") != fingerprint:
        state = {
            "fingerprint": fingerprint,
            "pending": [parse_dates(params.get("dates"))],
            "current": None,
            "records": 0,
        }
    elif state.get("current"):
        stats.resumed_from_page = int(state["current"]["page"])
    stats.records = int(state.get("records", 0))
    client = LocClient(settings, limiter, stats)
    limit = int(params["limit"]) if params.get("limit") is not None else None
    produced = 0  # this run's records: ``limit`` is per run, a resumed harvest continues
    max_page = max(1, settings.loc_max_results // settings.loc_page_size)
    url = search_url(settings, params)

    while True:
        if limit is not None and produced >= limit:
            break
        current = state.get("current")
        if current is None:
            if not state["pending"]:
                break
            current = {"range": state["pending"].pop(0), "page": 1, "checked": False}
            state["current"] = current
            store.save(key, state)
        date_range = current["range"]
        stats.date_range = f"{date_range[0]}/{date_range[1]}" if date_range else None
        data = client.get_json(
            url, search_query(settings, params, date_range, int(current["page"])), SEARCH
        )
        if data is None:  # get_json answers None only for a missing item, never a search
            raise LocError(f"{url}: no search results page")
        raw_pagination = data.get("pagination")
        pagination: dict[str, Any] = raw_pagination if isinstance(raw_pagination, dict) else {}
        raw_total = pagination.get("of")
        total = (
            int(raw_total)
            if isinstance(raw_total, int | str) and str(raw_total).isdigit()
            else None
        )
        if not current["checked"]:
            if total is not None and total > settings.loc_max_results:
                low, high = date_range or [FIRST_YEAR, datetime.now(UTC).year]
                if high > low:
                    middle = (low + high) // 2
                    log.info("LoC: %s results in %s-%s; splitting at %s", total, low, high, middle)
                    state["pending"] = [[low, middle], [middle + 1, high], *state["pending"]]
                    state["current"] = None
                    store.save(key, state)
                    continue
                stats.error(
                    f"{low}: {total} results in one year; only the first "
                    f"{settings.loc_max_results} are reachable"
                )
            current["checked"] = True
            stats.total = (stats.total or 0) + (total or 0)
        results = [r for r in data.get("results") or [] if isinstance(r, dict)]
        records: list[MapRecord] = []
        for result in results:
            if _is_collection_entry(result):
                continue
            item_response = None
            try:
                if needs_item_record(result):
                    stats.item_fetches += 1
                    item_response = client.get_json(
                        _item_url(settings, result), {"fo": "json"}, ITEM
                    )
                made = loc_records(result, item_response)
            except LocBlocked:
                raise
            except (LocError, ValueError) as exc:
                stats.error(f"{first(result.get('id')) or '?'}: {exc}")
                continue
            stats.items += 1
            records.extend(made)
        # Records of this page a limited earlier run already gave; the page is redone from there.
        already = int(current.get("skip", 0))
        records = records[already:]
        cut = limit is not None and len(records) > limit - produced
        if limit is not None:
            records = records[: max(0, limit - produced)]
        stats.pages += 1
        for start in range(0, len(records), batch_size):
            batch = records[start : start + batch_size]
            stats.records += len(batch)
            produced += len(batch)
            stats.without_image += sum(1 for r in batch if not r.has_image)
            yield batch
        has_next = bool(pagination.get("next")) and results and int(current["page"]) < max_page
        if cut:
            current["skip"] = already + len(records)
        elif has_next:
            current["page"] = int(current["page"]) + 1
            current["skip"] = 0
        else:
            state["current"] = None
        state["records"] = stats.records
        store.save(key, state)
        if progress is not None:
            progress(stats)
    if limit is None or produced < limit:
        store.clear(key)
    else:
        store.save(key, state)
    if progress is not None:
        progress(stats)


def harvest_loc_records(
    settings: Settings, params: dict[str, Any], **options: Any
) -> Iterator[MapRecord]:
    """The same harvest as a flat iterator of records (for the CLI)."""
    for batch in harvest_loc(settings, params, **options):
        yield from batch


__all__ = ["HarvestProgress", "LocBlocked", "LocError", "harvest_loc", "harvest_loc_records"]
