"""Image fetching and decoding against a real HTTP server on 127.0.0.1: limits, retries,
redirects, SSRF guard, cache, IIIF derivatives, and the colour conversions maps need."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from indexer.backends.embedded import EmbeddedBackend
from indexer.iiif.image_api import bounded_size_url, service_base, sized_url_from_info
from indexer.images import (
    FetchFailed,
    ImageTooLarge,
    NotAnImage,
    UnsafeURL,
    decode_upload,
    fetch_image,
    load_image,
    resolve_manifest,
)
from indexer.images.cache import ImageCache
from indexer.images.decode import decode_image
from indexer.images.fetch import build_session
from indexer.images.guard import check_url, host_allowed, is_public_address
from indexer.pipeline import index_records
from indexer.records import ImageRef, MapRecord
from indexer.settings import Settings, load_settings
from tests.support.http_server import Reply, ScriptedServer
from tests.support.indexed_app import ColourEmbedder
from tests.support.paths import FIXTURES, REPO
from webapi.errors import status_of

IIIF_FIXTURES = FIXTURES / "iiif"


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def jpeg(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    return encode(Image.new("RGB", (width, height), color), "JPEG", quality=95)


@pytest.fixture
def local_settings(tmp_path: Path) -> Settings:
    """Private URLs allowed (the test server is on 127.0.0.1), quick retries."""
    return load_settings(
        {
            "data_dir": tmp_path / "data",
            "allow_private_urls": True,
            "image_backoff": 0.01,
            "image_timeout": 10.0,
        }
    )


# --- decoding -----------------------------------------------------------------------------


def test_decode_bounds_size_and_keeps_aspect(settings: Settings) -> None:
    image = decode_image(jpeg(4000, 1000), settings.max_image_pixels, 512)
    assert image.mode == "RGB" and image.size == (512, 128)


def test_jpeg_draft_decodes_at_reduced_scale() -> None:
    data = jpeg(4096, 2048)
    opened = Image.open(io.BytesIO(data))
    opened.draft("RGB", (512, 256))
    assert opened.size == (512, 256)  # DCT scaling 1/8: the full raster is never decoded
    assert decode_image(data, 10**9, 512).size == (512, 256)


def test_jpeg2000_reduce() -> None:
    data = encode(Image.new("RGB", (2048, 1024), (10, 120, 200)), "JPEG2000")
    image = decode_image(data, 10**9, 256)
    assert image.size == (256, 128)
    assert image.getpixel((10, 10)) == pytest.approx((10, 120, 200), abs=3)


def test_sixteen_bit_grey_scaled_not_clipped() -> None:
    values = np.array([[0, 32768, 65535]], dtype=np.uint16)
    data = encode(Image.fromarray(values), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    image = decode_image(data, 10**6, 1024)
    assert [image.getpixel((x, 0))[0] for x in range(3)] == [0, 127, 255]


def test_float_image_stretched() -> None:
    data = encode(Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32), mode="F"), "TIFF")
    image = decode_image(data, 10**6, 1024)
    assert [image.getpixel((x, 0))[0] for x in range(3)] == [0, 127, 255]


def test_cmyk_jpeg_converted_to_rgb() -> None:
    data = encode(Image.new("CMYK", (32, 32), (255, 0, 0, 0)), "JPEG", quality=100)  # pure cyan
    image = decode_image(data, 10**6, 1024)
    red, green, blue = image.getpixel((16, 16))
    assert red < 40 and green > 200 and blue > 200


def test_transparency_flattened_on_white() -> None:
    data = encode(Image.new("RGBA", (8, 8), (0, 0, 0, 0)), "PNG")
    assert decode_image(data, 10**6, 1024).getpixel((4, 4)) == (255, 255, 255)
    palette = Image.new("P", (8, 8), 0)
    palette.putpalette([0, 0, 0] * 256)
    data = encode(palette, "PNG", transparency=0)
    assert decode_image(data, 10**6, 1024).getpixel((4, 4)) == (255, 255, 255)


def test_pixel_guard_runs_on_the_header_before_decoding() -> None:
    data = encode(Image.new("L", (3000, 3000), 128), "PNG")
    truncated = data[:200]  # header intact, pixels missing: a decode would fail differently
    with pytest.raises(ImageTooLarge, match="9,000,000 pixels"):
        decode_image(truncated, 1_000_000, 1024)
    with pytest.raises(NotAnImage, match="corrupt or truncated"):
        decode_image(truncated, 10**8, 1024)


def test_pixel_limits_are_inclusive_and_whole_decodes_have_the_lower_one() -> None:
    grey = encode(Image.new("L", (1000, 1000), 128), "PNG")
    with pytest.raises(ImageTooLarge):
        decode_image(grey, 1_000_000, 512)  # exactly the limit is refused
    assert decode_image(grey, 1_000_001, 512).size == (512, 512)
    with pytest.raises(ImageTooLarge, match="PNG image is decoded whole"):
        decode_image(grey, 10**8, 512, max_whole_decode_pixels=1_000_000)
    # JPEG decodes at a fraction of its size (draft), so only the overall limit applies to it
    assert decode_image(jpeg(1000, 1000), 10**8, 512, max_whole_decode_pixels=1000).size == (
        512,
        512,
    )


def test_one_bit_image_is_shrunk_before_the_rgb_conversion() -> None:
    sys.path.insert(0, str(REPO / "bench"))
    from image_bomb import one_bit_png

    image = decode_image(one_bit_png(4000, 2000), 10**8, 500)
    assert image.mode == "RGB" and image.size == (500, 250)
    assert image.getpixel((10, 10)) == (0, 0, 0)


@pytest.mark.parametrize(("width", "height", "status"), [(10_000, 10_000, 413), (5000, 4000, 201)])
def test_png_bomb_costs_a_worker_at_most_100_mb(width: int, height: int, status: int) -> None:
    # A fresh process, so the peak-memory figure is this upload's (issue 15: was +612 MB).
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "image_bomb.py"), "--width", str(width)]
        + ["--height", str(height), "--max-delta-mb", "100"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    figures = json.loads(run.stdout)
    assert figures["upload_status"] == status, figures
    if status == 201:
        # the token keeps the bounded decoded image, not the bytes sent
        assert figures["token_image_sizes"] == [[1024, 819], [1024, 819]]


@pytest.mark.parametrize(
    "data", [b"", b"hello", b"<html><body>Error</body></html>", b"\x89PNG\r\n\x1a\nxx"]
)
def test_not_an_image(data: bytes) -> None:
    with pytest.raises(NotAnImage):
        decode_image(data, 10**6, 1024)


def test_exif_orientation_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = encode(Image.new("RGB", (40, 20), (0, 90, 0)), "JPEG", exif=exif.tobytes())
    assert decode_image(data, 10**6, 1024).size == (20, 40)


def test_only_raster_map_formats_are_decoded() -> None:
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    with pytest.raises(NotAnImage):
        decode_image(eps, 10**6, 1024)
    for fmt in ("PNG", "GIF", "TIFF", "WEBP", "BMP"):
        assert decode_image(
            encode(Image.new("RGB", (20, 10), (9, 9, 9)), fmt), 10**6, 1024
        ).size == (20, 10)


def test_decode_upload_limits(settings: Settings) -> None:
    assert decode_upload(jpeg(), settings).size == (64, 48)
    small = settings.model_copy(update={"max_upload_bytes": 100})
    with pytest.raises(ImageTooLarge) as raised:
        decode_upload(jpeg(), small)
    assert status_of(raised.value) == 413
    with pytest.raises(NotAnImage) as not_image:
        decode_upload(b"GIF89a but not really", settings)
    assert status_of(not_image.value) == 415


# --- fetching -----------------------------------------------------------------------------


def test_fetch_and_cache(server: ScriptedServer, local_settings: Settings) -> None:
    server.add("/map.jpg", Reply(200, jpeg(), content_type="image/jpeg"))
    first = fetch_image(server.url("/map.jpg"), local_settings)
    second = fetch_image(server.url("/map.jpg"), local_settings)
    assert first.size == second.size == (64, 48)
    assert len(server.requests_to("/map.jpg")) == 1  # the second came from the disk cache
    cache = ImageCache(local_settings.data_dir / "cache" / "images", 1)
    assert cache.get(server.url("/map.jpg")) == jpeg()


def test_image_cache_keeps_the_recently_used_within_its_cap(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path / "cache", max_mb=1)
    blob = bytes(40_000)  # stored as files; about 25 of them fill the 1 MB cap

    def url(n: int) -> str:
        return f"https://example.org/{n}.jpg"

    for n in range(20):
        cache.put(url(n), blob)
    assert cache.get(url(0)) == blob  # 0 is now more recently used than 1..19
    for n in range(20, 30):
        cache.put(url(n), blob)
    assert cache.volume() <= 1024 * 1024
    assert cache.get(url(1)) is None  # the least recently used went first
    assert cache.get(url(0)) == cache.get(url(29)) == blob


def test_retries_on_503_and_honours_retry_after(
    server: ScriptedServer, local_settings: Settings
) -> None:
    server.add(
        "/busy.jpg",
        Reply(503, b"busy", content_type="text/plain"),
        Reply(429, b"slow down", {"Retry-After": "1"}, "text/plain"),
        Reply(200, jpeg(), content_type="image/jpeg"),
    )
    started = time.monotonic()
    assert fetch_image(server.url("/busy.jpg"), local_settings).size == (64, 48)
    seen = server.requests_to("/busy.jpg")
    assert len(seen) == 3
    assert seen[2].at - seen[1].at >= 0.9  # waited for Retry-After
    assert time.monotonic() - started < 8


def test_gives_up_after_retries(server: ScriptedServer, local_settings: Settings) -> None:
    server.add("/down.jpg", Reply(503, b"down", content_type="text/plain"))
    with pytest.raises(FetchFailed, match="HTTP 503"):
        fetch_image(server.url("/down.jpg"), local_settings.model_copy(update={"image_retries": 2}))
    assert len(server.requests_to("/down.jpg")) == 3


def test_http_errors_and_wrong_content(server: ScriptedServer, local_settings: Settings) -> None:
    server.add("/html", Reply.html("<html>not found</html>"))
    server.add("/corrupt.jpg", Reply(200, jpeg()[:300], content_type="image/jpeg"))
    with pytest.raises(FetchFailed) as missing:
        fetch_image(server.url("/nope.jpg"), local_settings)
    assert missing.value.http_status == 404
    with pytest.raises(NotAnImage, match="text/html"):
        fetch_image(server.url("/html"), local_settings)
    with pytest.raises(NotAnImage):
        fetch_image(server.url("/corrupt.jpg"), local_settings)
    assert not (local_settings.data_dir / "cache").exists()  # failures are never cached


def test_slow_drip_meets_the_overall_deadline(
    server: ScriptedServer, local_settings: Settings
) -> None:
    server.add("/slow.jpg", Reply(200, jpeg(), content_type="image/jpeg", drip_seconds=0.05))
    started = time.monotonic()
    with pytest.raises(FetchFailed, match="image_timeout"):
        fetch_image(
            server.url("/slow.jpg"), local_settings.model_copy(update={"image_timeout": 1.0})
        )
    assert time.monotonic() - started < 3  # each byte arrives well within the read timeout


def test_byte_limit(server: ScriptedServer, local_settings: Settings) -> None:
    server.add("/big.jpg", Reply(200, jpeg(512, 512), content_type="image/jpeg"))
    with pytest.raises(ImageTooLarge):
        fetch_image(
            server.url("/big.jpg"), local_settings.model_copy(update={"image_max_bytes": 1000})
        )


def test_redirects_are_followed_and_rechecked(
    server: ScriptedServer, local_settings: Settings
) -> None:
    server.add("/map.jpg", Reply(200, jpeg(), content_type="image/jpeg"))
    server.add("/moved", Reply(302, b"", {"Location": "/map.jpg"}))
    server.add(
        "/away",
        Reply(302, b"", {"Location": server.url("/map.jpg").replace("127.0.0.1", "localhost")}),
    )
    server.add("/loop", Reply(302, b"", {"Location": "/loop"}))
    only_ip = local_settings.model_copy(update={"url_allowlist": ["127.0.0.1"]})
    assert fetch_image(server.url("/moved"), only_ip).size == (64, 48)
    with pytest.raises(UnsafeURL, match="allowlist"):
        fetch_image(server.url("/away"), only_ip)
    with pytest.raises(FetchFailed, match="redirects"):
        fetch_image(server.url("/loop"), only_ip)


# --- SSRF guard ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x.jpg",
        "http://localhost/x.jpg",
        "http://[::1]/x.jpg",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/x.jpg",
        "http://192.168.0.1/x.jpg",
        "http://0.0.0.0/x.jpg",
        "http://[::ffff:127.0.0.1]/x.jpg",
        "file:///etc/passwd",
        "ftp://example.org/x.jpg",
        "gopher://example.org/",
        "http://user:secret@example.org/x.jpg",
        "http:///x.jpg",
        "/etc/passwd",
    ],
)
def test_unsafe_urls_refused(url: str, settings: Settings) -> None:
    with pytest.raises(UnsafeURL):
        check_url(url, settings)
    with pytest.raises(UnsafeURL):
        fetch_image(url, settings)


def test_public_addresses_and_allowlist() -> None:
    assert is_public_address("8.8.8.8") and is_public_address("2606:4700::1111")
    assert not is_public_address("172.16.0.1") and not is_public_address("fe80::1")
    assert host_allowed("tile.loc.gov", ["loc.gov"]) and host_allowed("loc.gov", ["loc.gov"])
    assert not host_allowed("evilloc.gov", ["loc.gov"]) and host_allowed("any.org", [])


def test_socket_guard_refuses_private_peer(server: ScriptedServer, settings: Settings) -> None:
    """Even past the name check (DNS rebinding), the connected socket's peer is checked."""
    server.add("/map.jpg", Reply(200, jpeg(), content_type="image/jpeg"))
    session = build_session(settings)  # allow_private_urls is False
    with pytest.raises(UnsafeURL, match="non-public"):
        session.get(server.url("/map.jpg"), timeout=5)
    assert requests.get(server.url("/map.jpg"), timeout=5).status_code == 200


# --- IIIF and records ---------------------------------------------------------------------


def test_iiif_urls() -> None:
    loc = (
        "//tile.loc.gov/image-services/iiif/service:gmd:gmd370:g3701:g3701p:rr004750"
        "/full/pct:12.5/0/default.jpg#h=830&w=1280"
    )
    assert (
        service_base(loc)
        == "https://tile.loc.gov/image-services/iiif/service:gmd:gmd370:g3701:g3701p:rr004750"
    )
    assert service_base("https://x.org/iiif/a/info.json") == "https://x.org/iiif/a"
    assert service_base("https://x.org/iiif/a/full/max/0/default.jpg") == "https://x.org/iiif/a"
    assert (
        bounded_size_url("https://x.org/iiif/a/", 1024)
        == "https://x.org/iiif/a/full/!1024,1024/0/default.jpg"
    )

    v2 = json.loads((IIIF_FIXTURES / "image.2.stanford-tc010rc2373-PaloAlto3.json").read_text())
    assert (
        sized_url_from_info(v2, 1024)
        == "https://stacks.stanford.edu/image/iiif/tc010rc2373/PaloAlto3/full/!1024,1024/0/default.jpg"
    )
    v3 = json.loads((IIIF_FIXTURES / "image.3.uvacreate-mmph-wae681.json").read_text())
    base = "https://uvacreate.gitlab.io/freedom-of-the-streets/iiif-level0-maps/iiif/mmph_wae681"
    assert sized_url_from_info(v3, 1024) == f"{base}/full/1000,743/0/default.jpg"
    assert sized_url_from_info(v3, 100) == f"{base}/full/63,47/0/default.jpg"
    assert sized_url_from_info(v3, 400) == f"{base}/full/250,186/0/default.jpg"
    level0_v2 = dict(v2, profile="http://iiif.io/api/image/2/level0.json")
    assert sized_url_from_info(level0_v2, 1024).endswith("/full/839,/0/default.jpg")
    with pytest.raises(ValueError):
        sized_url_from_info(
            {
                "id": base,
                "type": "ImageService3",
                "profile": "level0",
                "width": 9000,
                "height": 9000,
            },
            1024,
        )


def test_level0_service_falls_back_to_info_sizes(
    server: ScriptedServer, local_settings: Settings
) -> None:
    info = json.loads((IIIF_FIXTURES / "image.3.uvacreate-mmph-wae681.json").read_text())
    info["id"] = server.url("/iiif/wae681")
    server.add("/iiif/wae681/info.json", Reply.json(info))
    server.add(
        "/iiif/wae681/full/1000,743/0/default.jpg",
        Reply(200, jpeg(1000, 743), content_type="image/jpeg"),
    )
    image = load_image(ImageRef(iiif_service=server.url("/iiif/wae681")), local_settings)
    assert image.size == (1000, 743)
    assert [s.path for s in server.seen] == [
        "/iiif/wae681/full/!1024,1024/0/default.jpg",  # 404 from a level-0 server
        "/iiif/wae681/info.json",
        "/iiif/wae681/full/1000,743/0/default.jpg",
    ]


def test_info_json_url_means_the_image(server: ScriptedServer, local_settings: Settings) -> None:
    server.add(
        "/iiif/m1/full/!1024,1024/0/default.jpg", Reply(200, jpeg(), content_type="image/jpeg")
    )
    assert fetch_image(server.url("/iiif/m1/info.json"), local_settings).size == (64, 48)


def test_load_local_and_protocol_relative(tmp_path: Path, local_settings: Settings) -> None:
    images = local_settings.data_dir / "images"
    images.mkdir(parents=True)
    (images / "m1.png").write_bytes(encode(Image.new("RGB", (30, 20), (1, 2, 3)), "PNG"))
    assert load_image(
        ImageRef(url="images/m1.png"), local_settings, local_settings.data_dir
    ).size == (30, 20)
    assert load_image(ImageRef(url=str(images / "m1.png")), local_settings).size == (30, 20)
    with pytest.raises(UnsafeURL):
        load_image(ImageRef(url="../../etc/passwd"), local_settings, local_settings.data_dir)
    with pytest.raises(FetchFailed):
        load_image(ImageRef(url="images/missing.png"), local_settings, local_settings.data_dir)
    with pytest.raises(UnsafeURL):
        load_image(ImageRef(url="file:///etc/passwd"), local_settings)
    with pytest.raises(UnsafeURL, match="outside the configured image folders"):
        load_image(ImageRef(url="/etc/hostname"), local_settings)


def test_local_images_only_inside_configured_folders_and_never_through_links(
    tmp_path: Path, local_settings: Settings
) -> None:
    images = local_settings.data_dir / "images"
    images.mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "scan.png").write_bytes(encode(Image.new("RGB", (8, 6), (1, 2, 3)), "PNG"))
    (images / "link.png").symlink_to(outside / "scan.png")
    (images / "linked-folder").symlink_to(outside, target_is_directory=True)
    for url in ("images/link.png", "images/linked-folder/scan.png"):
        with pytest.raises(UnsafeURL, match="symbolic link"):
            load_image(ImageRef(url=url), local_settings)
    with pytest.raises(UnsafeURL, match="outside"):
        load_image(ImageRef(url=str(outside / "scan.png")), local_settings)
    configured = local_settings.model_copy(update={"local_image_roots": [outside]})
    assert load_image(ImageRef(url=str(outside / "scan.png")), configured).size == (8, 6)


def test_remote_image_refs_are_http_only() -> None:
    assert ImageRef.remote(url="/dev/zero") is None
    assert ImageRef.remote(url="file:///etc/passwd", manifest_url="ftp://x/m") is None
    ref = ImageRef.remote(url="//tile.example.org/a.jpg", iiif_service="/srv/iiif")
    assert ref is not None and ref.url == "https://tile.example.org/a.jpg"
    assert ref.iiif_service is None
    with pytest.raises(FetchFailed):
        load_image(ImageRef(), local_settings)


def test_a_manifest_only_record_keeps_the_image_its_manifest_names(
    server: ScriptedServer, local_settings: Settings
) -> None:
    manifest_url = server.url("/manifest.json")
    server.add("/map.jpg", Reply(200, jpeg(), content_type="image/jpeg"))
    canvas = {
        "id": f"{manifest_url}/canvas/1",
        "type": "Canvas",
        "width": 64,
        "height": 48,
        "items": [
            {
                "type": "AnnotationPage",
                "items": [
                    {
                        "type": "Annotation",
                        "motivation": "painting",
                        "body": {
                            "id": server.url("/map.jpg"),
                            "type": "Image",
                            "format": "image/jpeg",
                        },
                    }
                ],
            }
        ],
    }
    manifest = {"id": manifest_url, "type": "Manifest", "items": [canvas]}
    server.add("/manifest.json", Reply.json(manifest))
    ref = ImageRef.remote(manifest_url=manifest_url)
    assert ref is not None
    resolved = resolve_manifest(ref, local_settings)
    assert (resolved.url, resolved.manifest_url, resolved.width) == (
        server.url("/map.jpg"),
        manifest_url,
        64,
    )
    # indexed through the pipeline, the stored record names the image: thumbnails can show it
    record = MapRecord(id="m:1", source="m", title="From a manifest", image=ref)
    backend = EmbeddedBackend.open(local_settings)
    try:
        report = index_records(
            [record], settings=local_settings, backend=backend, embedder=ColourEmbedder()
        )
        assert report.with_vector == 1
        stored = backend.fetch(["m:1"])["m:1"]
        assert stored.record.image is not None and stored.record.image.url == server.url("/map.jpg")
    finally:
        backend.close()
    no_image = {"id": manifest_url, "type": "Manifest", "items": []}
    server.add("/empty.json", Reply.json(no_image))
    empty = ImageRef.remote(manifest_url=server.url("/empty.json"))
    assert empty is not None
    with pytest.raises(FetchFailed, match="no image"):
        resolve_manifest(empty, local_settings)
