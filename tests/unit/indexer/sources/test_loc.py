"""Library of Congress harvester against a real HTTP server on 127.0.0.1 serving responses
shaped like the API's (the item record is the one from the API documentation): drifting fields,
catalogue-only and multi-sheet items, throttling (429 + Retry-After, 403 blocks, HTML pages),
the shared token bucket, date splitting past the result cap, and resuming from the cursor."""

from __future__ import annotations

import copy
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from indexer.settings import Settings, load_settings
from indexer.sources.cursor import FileCursorStore, RedisCursorStore
from indexer.sources.loc import HarvestProgress, LocBlocked, harvest_loc, retry_after_seconds
from indexer.sources.loc_records import loc_records, needs_item_record, strings
from indexer.sources.ratelimit import Limit, LocalRateLimiter, RedisRateLimiter
from tests.support.http_server import Reply, ScriptedServer, Seen
from tests.support.paths import FIXTURES as TEST_FIXTURES
from tests.support.services import require_service

FIXTURES = TEST_FIXTURES / "loc"
DOCS_ITEM: dict[str, Any] = json.loads((FIXTURES / "item-98688726.json").read_text())["item"]
IIIF = "//tile.loc.gov/image-services/iiif/service:gmd:gmd3:g3300:g3300:ct000{n}"


def catalog_only(lccn: str = "08030295") -> dict[str, Any]:
    return {
        "id": f"http://lccn.loc.gov/{lccn}",
        "url": f"//lccn.loc.gov/{lccn}",
        "title": "Map of the State of Kansas",
        "date": "1908",
        "subject": "kansas",  # a string where other years give a list
        "language": "english",
        "original_format": ["map"],
        "online_format": [],
        "image_url": [],
        "partof": ["catalog"],
    }


def multi_sheet_result() -> dict[str, Any]:
    return {
        "id": "https://www.loc.gov/item/2003627032/",
        "url": "https://www.loc.gov/item/2003627032/",
        "title": "Atlas of the city of Boston",
        "date": "1874",
        "digitized": True,
        "online_format": ["image"],
        "image_url": [IIIF.format(n=1) + "/full/pct:6.25/0/default.jpg#h=400&w=300"],
        "resources": [{"files": 3, "url": "https://www.loc.gov/resource/g3764b.la000001/"}],
        "subject": [{"boston": "https://www.loc.gov/search/?fa=subject:boston"}],
        "location": [{"boston": "https://www.loc.gov/search/?fa=location:boston"}],
        "location_city": ["boston"],
        "location_state": ["massachusetts"],
        "location_country": ["united states"],
    }


def multi_sheet_item() -> dict[str, Any]:
    pages = []
    for n in range(1, 4):
        service = "https:" + IIIF.format(n=n)
        pages.append(
            [
                {
                    "mimetype": "image/tiff",
                    "url": f"https://tile.loc.gov/storage-services/master/gmd/ct000{n}.tif",
                    "width": 8000,
                    "height": 6000,
                },
                {
                    "mimetype": "image/jpeg",
                    "url": f"{service}/full/pct:12.5/0/default.jpg",
                    "width": 1000,
                    "height": 750,
                },
                {
                    "mimetype": "image/jp2",
                    "info": f"{service}/info.json",
                    "width": 8000,
                    "height": 6000,
                },
            ]
        )
    return {
        "item": {
            "library_of_congress_control_number": "2003627032",
            "title": "Atlas of the city of Boston",
            "contributor_names": ["Hopkins, G. M."],
            "call_number": "G1234.B6 1874 .H6",
            "notes": [
                "Scale ca. 1:2,400.",
                "(W 71\u00b010'--W 70\u00b055'/N 42\u00b024'--N 42\u00b014')",
            ],
            "timestamp": "2020-05-01T12:00:00Z",
        },
        "resources": [{"files": pages, "url": "https://www.loc.gov/resource/g3764b.la000001/"}],
    }


def image_result(n: int, year: int) -> dict[str, Any]:
    return {
        "id": f"http://www.loc.gov/item/map{year}x{n:04d}/",
        "title": f"Map {n} of {year}",
        "date": str(year),
        "digitized": True,
        "image_url": [IIIF.format(n=n) + "/full/pct:25/0/default.jpg#h=1000&w=800"],
        "language": [{"english": "https://www.loc.gov/search/?fa=language:english"}],
    }


def loc_settings(tmp_path: Path, server: ScriptedServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "loc_base_url": server.base_url,
        "loc_backoff": 0.05,
        "loc_search_per_10s": 10_000,
        "loc_search_per_min": 60_000,
        "loc_item_per_10s": 10_000,
        "loc_item_per_min": 60_000,
        "loc_page_size": 25,
    }
    values.update(overrides)
    return load_settings(values)


def page(results: list[dict[str, Any]], total: int, has_next: bool) -> dict[str, Any]:
    return {
        "results": results,
        "pagination": {
            "of": total,
            "next": "https://www.loc.gov/maps/?sp=next" if has_next else None,
        },
    }


# --- parsing ------------------------------------------------------------------------------


def test_documented_item_parses() -> None:
    [record] = loc_records(DOCS_ITEM)
    assert record.id == "loc:98688726/1" and record.item_id == "loc:98688726"
    assert record.title.startswith("Map showing the New Orleans, Mobile & Chattanooga Railroad")
    assert record.image is not None
    assert (
        record.image.iiif_service
        == "https://tile.loc.gov/image-services/iiif/service:gmd:gmd370:g3701:g3701p:rr004750"
    )
    assert (record.image.width, record.image.height) == (10240, 6640)  # from pct:25 → 2560 x 1660
    assert (
        record.thumbnail_url == "https://cdn.loc.gov/service/gmd/gmd370/g3701/g3701p/rr004750.gif"
    )
    assert "Railroads--United States--Maps" in record.subjects
    assert record.contributors == [
        "G.W. & C.B. Colton & Co.",
        "New Orleans, Mobile, and Chattanooga Railroad.",
    ]
    assert record.languages == ["English"]  # from [{"english": "facet url"}]
    assert record.collections == [
        "railroad maps, 1828-1900",
        "transportation and communication",
        "geography and map division",
    ]
    assert (record.year_start, record.year_end) == (1865, 1865)
    assert record.call_number == "G3701.P3 1865 .G15"
    assert (
        record.rights is not None
        and "<h2>" not in record.rights
        and record.rights.startswith("Rights and Access")
    )
    assert record.source_url == "https://www.loc.gov/item/98688726/"
    assert record.revision > 0 and record.raw["search_result"]["id"] == DOCS_ITEM["id"]


def test_field_drift() -> None:
    assert strings("maps") == ["maps"]
    assert strings(["maps", "atlases"]) == ["maps", "atlases"]
    assert strings([{"maps": "https://www.loc.gov/search/?fa=subject:maps"}]) == ["maps"]
    assert strings([{"title": "railroad maps", "url": "x", "count": 3}]) == ["railroad maps"]
    assert strings(None) == [] and strings(1865) == ["1865"]


def test_catalog_only_record_is_metadata_only() -> None:
    result = catalog_only()
    assert not needs_item_record(result)
    [record] = loc_records(result)
    assert record.id == "loc:08030295/1" and not record.has_image
    assert (
        record.subjects == ["kansas"]
        and record.languages == ["English"]
        and record.collections == []
    )
    assert record.source_url == "https://lccn.loc.gov/08030295"


def test_catalog_record_without_lccn_is_kept_under_its_catalogue_bbid() -> None:
    # 2026 format: no LCCN, the id is a catalog.loc.gov Pwebrecon URL, no image (issue 15).
    result = json.loads((FIXTURES / "catalog-only-bbid-17508778.json").read_text())
    assert not needs_item_record(result)
    [record] = loc_records(result)
    assert record.id == "loc:bbid-17508778/1" and record.item_id == "loc:bbid-17508778"
    assert not record.has_image and record.title == "Map of the city of Milwaukee, Wisconsin."
    assert record.source_url == result["id"] and record.call_number == "G4124.M5 1885 .R6"
    assert loc_records(copy.deepcopy(result))[0].id == record.id  # stable across harvests


def test_multi_sheet_item_gives_one_record_per_image() -> None:
    result = multi_sheet_result()
    assert needs_item_record(result)
    records = loc_records(result, multi_sheet_item())
    assert [r.id for r in records] == ["loc:2003627032/1", "loc:2003627032/2", "loc:2003627032/3"]
    assert {r.item_id for r in records} == {"loc:2003627032"}
    assert records[1].image is not None
    assert (
        records[1].image.iiif_service
        == "https://tile.loc.gov/image-services/iiif/service:gmd:gmd3:g3300:g3300:ct0002"
    )
    assert (records[1].image.width, records[1].image.height) == (8000, 6000)
    assert records[0].places[0].city == "boston" and records[0].places[0].state == "massachusetts"
    assert (
        records[0].contributors == ["Hopkins, G. M."]
        and records[0].call_number == "G1234.B6 1874 .H6"
    )
    assert records[0].extent is not None and records[0].extent.north == pytest.approx(42.4)


def test_flat_file_list_is_one_page() -> None:
    item = multi_sheet_item()
    item["resources"][0]["files"] = item["resources"][0]["files"][0]
    records = loc_records(multi_sheet_result(), item)
    assert [r.id for r in records] == ["loc:2003627032/1"]
    assert records[0].image is not None and records[0].image.iiif_service is not None


def test_retry_after_forms() -> None:
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


# --- rate limiting ------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _max_in_window(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


def test_local_bucket_never_exceeds_any_limit() -> None:
    clock = FakeClock()
    limiter = LocalRateLimiter(
        {"search": [Limit(20, 10), Limit(80, 60)]}, clock=clock, sleep=clock.sleep
    )
    times = []
    for _ in range(200):
        limiter.acquire("search")
        times.append(clock.now)
    assert _max_in_window(times, 10) <= 20
    assert _max_in_window(times, 60) <= 80
    assert times[-1] < 200 * 60 / 79 + 1  # and not much slower than the limit
    before = clock.now
    limiter.pause(30)
    limiter.acquire("search")
    assert clock.now - before >= 30


def _redis_url() -> str | None:
    url = os.environ.get("MAPSEARCH_TEST_REDIS_URL")
    if not url:
        return None
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return None
    return url


@pytest.mark.redis
def test_redis_bucket_is_shared_by_workers() -> None:
    url = _redis_url()
    require_service("redis", url is not None, "bash scripts/services/redis.sh start")
    import redis

    key = f"mapsearch:test:ratelimit:{time.time_ns()}"
    limits = {"search": [Limit(6, 1.0)]}  # 5 tokens/s
    times: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        limiter = RedisRateLimiter(
            redis.Redis.from_url(str(url)), key, limits
        )  # own connection, as a process would
        for _ in range(6):
            limiter.acquire("search")
            with lock:
                times.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(times) == 12
    assert _max_in_window(sorted(times), 0.9) <= 6  # a little slack for thread scheduling
    assert max(times) - min(times) >= 1.8  # 11 refills at 5/s
    other = RedisRateLimiter(redis.Redis.from_url(str(url)), key, limits)
    RedisRateLimiter(redis.Redis.from_url(str(url)), key, limits).pause(0.6)
    assert other.acquire("search") >= 0.5  # a pause set by one worker holds the others

    store = RedisCursorStore(redis.Redis.from_url(str(url)), prefix=key + ":cursor:")
    store.save("job", {"page": 3})
    assert store.load("job") == {"page": 3}
    store.clear("job")
    assert store.load("job") is None


# --- harvesting ---------------------------------------------------------------------------


def _serve_two_pages(server: ScriptedServer) -> None:
    page1 = page([copy.deepcopy(DOCS_ITEM), catalog_only(), multi_sheet_result()], 4, True)
    page2 = page([image_result(1, 1880)], 4, False)

    def maps(seen: Seen) -> Reply:
        return Reply.json(page1 if seen.query["sp"] == ["1"] else page2)

    server.handle("/maps/", maps)
    server.add("/item/2003627032/", Reply.json(multi_sheet_item()))


def test_harvest_pages_items_and_metadata_only(server: ScriptedServer, tmp_path: Path) -> None:
    _serve_two_pages(server)
    settings = loc_settings(tmp_path, server)
    seen_progress: list[int] = []
    report = HarvestProgress()
    batches = list(
        harvest_loc(
            settings,
            {"query": "railroad", "facets": ["location:boston"]},
            batch_size=2,
            progress=lambda p: seen_progress.append(p.records),
            report=report,
        )
    )
    records = [r for batch in batches for r in batch]
    assert [len(b) for b in batches] == [2, 2, 1, 1]
    assert [r.id for r in records] == [
        "loc:98688726/1",
        "loc:08030295/1",
        "loc:2003627032/1",
        "loc:2003627032/2",
        "loc:2003627032/3",
        "loc:map1880x0001/1",
    ]
    assert (
        report.items == 4
        and report.item_fetches == 1
        and report.without_image == 1
        and report.total == 4
    )
    assert seen_progress[-1] == 6
    first = server.requests_to("/maps/")[0].query
    assert (
        first["fo"] == ["json"]
        and first["c"] == ["25"]
        and first["sp"] == ["1"]
        and first["at"] == ["results,pagination"]
    )
    assert first["q"] == ["railroad"] and first["fa"] == ["location:boston"]
    assert server.requests_to("/item/2003627032/")[0].query["fo"] == ["json"]
    assert not (settings.data_dir / "harvest").exists() or not list(
        (settings.data_dir / "harvest").iterdir()
    )  # cleared when done


def test_waits_through_throttling_and_blocks(server: ScriptedServer, tmp_path: Path) -> None:
    server.add(
        "/maps/",
        Reply(429, b"Too Many Requests", {"Retry-After": "1"}, "text/plain"),
        Reply(403, b"Forbidden", content_type="text/html"),
        Reply(403, b"Forbidden", content_type="text/html"),
        Reply.html("<html><body>Please slow down</body></html>"),
        Reply(503, b"unavailable", content_type="text/plain"),
        Reply.json(page([image_result(1, 1900)], 1, False)),
    )
    report = HarvestProgress()
    started = time.monotonic()
    records = [
        r for batch in harvest_loc(loc_settings(tmp_path, server), {}, report=report) for r in batch
    ]
    assert [r.id for r in records] == ["loc:map1900x0001/1"]
    assert report.throttled == 5
    seen = server.requests_to("/maps/")
    assert len(seen) == 6
    assert seen[1].at - seen[0].at >= 0.95  # Retry-After honoured
    assert (
        seen[3].at - seen[2].at >= 0.09
    )  # exponential back-off through the block (0.05, 0.1, ...)
    assert time.monotonic() - started < 10


def test_gives_up_when_blocked_too_long(server: ScriptedServer, tmp_path: Path) -> None:
    server.add("/maps/", Reply(403, b"Forbidden", {"Retry-After": "3600"}, "text/html"))
    with pytest.raises(LocBlocked, match="loc_block_wait_max"):
        list(harvest_loc(loc_settings(tmp_path, server, loc_block_wait_max=1.0), {}))


def test_splits_dates_past_the_result_cap(server: ScriptedServer, tmp_path: Path) -> None:
    per_year = 30
    years = range(1850, 1860)

    def maps(seen: Seen) -> Reply:
        low, high = (
            (int(y) for y in seen.query["dates"][0].split("/"))
            if "dates" in seen.query
            else (1000, 3000)
        )
        matching = [
            image_result(n, year) for year in years if low <= year <= high for n in range(per_year)
        ]
        number, size = int(seen.query["sp"][0]), int(seen.query["c"][0])
        chunk = matching[(number - 1) * size : number * size]
        return Reply.json(page(chunk, len(matching), number * size < len(matching)))

    server.handle("/maps/", maps)
    settings = loc_settings(tmp_path, server, loc_max_results=100)
    records = [r for batch in harvest_loc(settings, {"dates": "1840/1869"}) for r in batch]
    assert len(records) == len({r.id for r in records}) == per_year * len(years)
    for seen in server.requests_to("/maps/"):
        assert int(seen.query["sp"][0]) * 25 <= 100  # never pages past the cap


def test_resumes_from_the_saved_cursor(server: ScriptedServer, tmp_path: Path) -> None:
    _serve_two_pages(server)
    settings = loc_settings(tmp_path, server)
    harvest = harvest_loc(settings, {"query": "railroad"}, cursor_key="job-1", batch_size=10)
    first_page = next(harvest)
    assert len(first_page) == 5
    second_page = next(harvest)  # the cursor moved to page 2 before this batch was made
    harvest.close()  # the worker dies here
    cursor = FileCursorStore(settings.data_dir / "harvest").load("job-1")
    assert cursor is not None and cursor["current"]["page"] == 2

    report = HarvestProgress()
    rest = [
        r
        for batch in harvest_loc(settings, {"query": "railroad"}, cursor_key="job-1", report=report)
        for r in batch
    ]
    assert report.resumed_from_page == 2
    assert [r.id for r in rest] == [r.id for r in second_page]
    assert (
        len(server.requests_to("/maps/")) == 3
    )  # page 1 once, page 2 twice (the unacknowledged page)
    assert FileCursorStore(settings.data_dir / "harvest").load("job-1") is None


def test_limit_is_per_run_and_a_cut_page_continues(server: ScriptedServer, tmp_path: Path) -> None:
    _serve_two_pages(server)
    settings = loc_settings(tmp_path, server)
    first_run = [
        r.id for b in harvest_loc(settings, {"query": "x", "limit": 4}, cursor_key="lim") for r in b
    ]
    assert first_run == ["loc:98688726/1", "loc:08030295/1", "loc:2003627032/1", "loc:2003627032/2"]
    second_run = [
        r.id for b in harvest_loc(settings, {"query": "x", "limit": 4}, cursor_key="lim") for r in b
    ]
    assert second_run == [
        "loc:2003627032/3",
        "loc:map1880x0001/1",
    ]  # the cut page goes on where it stopped


@pytest.mark.redis
def test_harvest_on_redis_shares_bucket_and_cursor(server: ScriptedServer, tmp_path: Path) -> None:
    url = _redis_url()
    require_service("redis", url is not None, "bash scripts/services/redis.sh start")
    import redis

    _serve_two_pages(server)
    settings = loc_settings(tmp_path, server, broker_url=url)
    key = f"test-{time.time_ns()}"
    harvest = harvest_loc(settings, {"query": "railroad"}, cursor_key=key, batch_size=10)
    next(harvest)
    next(harvest)
    harvest.close()
    client = redis.Redis.from_url(str(url))
    saved = client.get("mapsearch:harvest-cursor:" + key)
    assert saved is not None and json.loads(saved)["current"]["page"] == 2
    assert client.exists(f"mapsearch:ratelimit:127.0.0.1:{server.base_url.rsplit(':', 1)[1]}")
    rest = [r.id for b in harvest_loc(settings, {"query": "railroad"}, cursor_key=key) for r in b]
    assert rest == ["loc:map1880x0001/1"]
    assert client.get("mapsearch:harvest-cursor:" + key) is None
