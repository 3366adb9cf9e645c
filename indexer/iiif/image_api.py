"""Build IIIF Image API (2 and 3) request URLs for a bounded-size derivative of a whole image."""

from __future__ import annotations

import re
from typing import Any

# The region/size/rotation/quality.format tail of an image request, to find a service's base.
_IMAGE_REQUEST_TAIL = re.compile(
    r"/(full|square|\d+,\d+,\d+,\d+|pct:[\d.,]+)/(full|max|\^?!?\d*,\d*|\^?pct:[\d.]+|\^?max)/!?\d+(\.\d+)?/\w+\.\w+$"
)


def service_base(url: str) -> str:
    """The service base of an image request URL or info.json URL (the URL itself otherwise)."""
    url = url.split("#", 1)[0].rstrip("/")
    if url.startswith("//"):
        url = "https:" + url
    if url.endswith("/info.json"):
        return url[: -len("/info.json")]
    return _IMAGE_REQUEST_TAIL.sub("", url)


def bounded_size_url(service: str, max_side: int) -> str:
    """Whole image scaled to fit ``max_side`` (never upscaled); valid for Image API 2 and 3."""
    return f"{service_base(service)}/full/!{max_side},{max_side}/0/default.jpg"


def info_version(info: dict[str, Any]) -> int:
    """2 or 3, from an info.json's ``@context`` / ``type``."""
    context = info.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if (
        any(isinstance(c, str) and "/image/3/" in c for c in contexts)
        or info.get("type") == "ImageService3"
    ):
        return 3
    return 2


def info_level(info: dict[str, Any]) -> int:
    """Compliance level 0, 1 or 2 declared by an info.json (0 when unclear: the safe choice)."""
    profile = info.get("profile")
    items = profile if isinstance(profile, list) else [profile]
    for item in items:
        if isinstance(item, str):
            match = re.search(r"level([012])", item)
            if match:
                return int(match.group(1))
    return 0


def _pick_size(sizes: list[tuple[int, int]], max_side: int) -> tuple[int, int]:
    """The largest listed size within ``max_side``, unless that is under a quarter of it (too
    small to embed well); then the smallest size above it."""
    within = [s for s in sizes if max(s) <= max_side]
    above = [s for s in sizes if max(s) > max_side]
    if within and (max(max(s) for s in within) * 4 >= max_side or not above):
        return max(within, key=max)
    return min(above, key=max)


def sized_url_from_info(
    info: dict[str, Any], max_side: int, fallback_service: str | None = None
) -> str:
    """A bounded-size request URL honouring the server's level, ``sizes`` and ``maxWidth``."""
    service = info.get("id") or info.get("@id") or fallback_service
    if not isinstance(service, str) or not service:
        raise ValueError("info.json names no service id")
    base = service_base(service)
    version = info_version(info)
    sizes = [
        (int(s["width"]), int(s["height"]))
        for s in info.get("sizes") or []
        if isinstance(s, dict)
        and isinstance(s.get("width"), int)
        and isinstance(s.get("height"), int)
    ]
    if info_level(info) == 0:
        width = info.get("width")
        height = info.get("height")
        if sizes:
            width_px, height_px = _pick_size(sizes, max_side)
            size = f"{width_px},{height_px}" if version == 3 else f"{width_px},"
            return f"{base}/full/{size}/0/default.jpg"
        if isinstance(width, int) and isinstance(height, int) and max(width, height) <= max_side:
            return f"{base}/full/{'max' if version == 3 else 'full'}/0/default.jpg"
        raise ValueError("level 0 image service without sizes offers no bounded derivative")
    limit = max_side
    for key in ("maxWidth", "maxHeight"):
        value = info.get(key)
        if isinstance(value, int) and value > 0:
            limit = min(limit, value)
    return f"{base}/full/!{limit},{limit}/0/default.jpg"
