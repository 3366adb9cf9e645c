"""Worker memory for decompression bombs (issue 15): a 12 KB 1-bit PNG of 10000x10000 pixels,
and a 20-megapixel one under the whole-decode limit, posted to a real app's /api/uploads and
its token resolved the way each search by it resolves it. Prints JSON; ``--max-delta-mb`` makes it
exit 1 over the bound.
Usage: ``python bench/image_bomb.py [--max-delta-mb 100]``."""

from __future__ import annotations

import argparse
import io
import json
import resource
import struct
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def one_bit_png(width: int, height: int) -> bytes:
    """A complete, valid 1-bit greyscale PNG of the given size, all black; compressed as a
    stream so writing it costs no more than one row of memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + kind + data + crc

    row = b"\x00" + b"\x00" * ((width + 7) // 8)  # filter byte "none", then the packed bits
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


def max_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(png: bytes, data_dir: Path) -> dict[str, Any]:
    """Post ``png`` to /api/uploads and resolve its token twice (what every search by the token
    does; the search itself is left out so loading the model does not hide the figure)."""
    from webapi.app import create_app
    from webapi.services import services_of

    app = create_app({"data_dir": data_dir, "TESTING": True})
    client = app.test_client()
    client.get("/healthz")  # warm imports and the first request outside the measurement
    before = max_rss_mb()
    upload = client.post(
        "/api/uploads",
        data={"image": (io.BytesIO(png), "map.png")},
        content_type="multipart/form-data",
    )
    resolved: list[list[int]] = []
    stored = 0
    if upload.status_code == 201:
        token = upload.get_json()["token"]
        stored = next((data_dir / "uploads").glob("*.upload")).stat().st_size
        with app.app_context():
            for _ in range(2):
                resolved.append(list(services_of(app).image_resolver("token", token).size))
    return {
        "png_bytes": len(png),
        "upload_status": upload.status_code,
        "stored_upload_bytes": stored,
        "token_image_sizes": resolved,
        "peak_rss_delta_mb": round(max_rss_mb() - before, 1),
    }


def main() -> int:
    """Run both cases in this process, the bomb first (peak memory only grows)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--width", type=int, default=10_000)
    parser.add_argument("--height", type=int, default=10_000)
    parser.add_argument("--max-delta-mb", type=float, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(one_bit_png(args.width, args.height), Path(tmp) / "data")
    print(json.dumps(result))
    if args.max_delta_mb is not None and result["peak_rss_delta_mb"] > args.max_delta_mb:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
