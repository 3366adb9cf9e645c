"""Reading IIIF Presentation 2.1 and 3.0 documents: node ids and types, canvases, and the images
painted on them. Below both image loading (a manifest link resolves to its first image) and the
IIIF harvester."""

from __future__ import annotations

from typing import Any

from indexer.iiif.image_api import service_base
from indexer.records import ImageRef

# Without an image service we never download these: they are masters, not derivatives.
MASTER_FORMATS = ("image/tiff", "image/tif", "image/jp2")


def url_of(value: Any) -> str | None:
    """The URL of a link value: a string, {"id"/"@id"}, or the first of a list of those."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("id") or value.get("@id")
    if isinstance(value, str) and value.strip():
        url = value.strip()
        return "https:" + url if url.startswith("//") else url
    return None


def node_id(node: Any) -> str | None:
    """The ``id`` (v3) or ``@id`` (v2) of a node, or the node itself when it is a URL."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        value = node.get("id") or node.get("@id")
        return value if isinstance(value, str) else None
    return None


def node_type(node: dict[str, Any]) -> str:
    """The lower-cased type of a node without its prefix (v2 ``sc:Manifest`` → ``manifest``)."""
    kind = node.get("type") or node.get("@type") or ""
    kind = kind[0] if isinstance(kind, list) and kind else kind
    return str(kind).split(":")[-1].lower()  # "sc:Manifest" → "manifest"


def as_list(value: Any) -> list[Any]:
    """A value that may be one item or a list, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def image_service(resource: dict[str, Any]) -> str | None:
    """The base URL of a resource's IIIF Image API service, if it has one."""
    for service in as_list(resource.get("service")):
        if not isinstance(service, dict):
            continue
        kind = str(service.get("type") or service.get("@type") or "")
        profile = " ".join(str(p) for p in as_list(service.get("profile")) if isinstance(p, str))
        context = str(service.get("@context") or "")
        if (
            kind.startswith("ImageService")
            or "iiif.io/api/image" in profile + context
            or profile.startswith("level")
        ):
            url = url_of(service)
            if url:
                return service_base(url)
    return None


def choice_default(body: Any) -> Any:
    """An ``oa:Choice`` / v3 ``Choice`` resolves to its default (first) item."""
    if isinstance(body, dict) and node_type(body) == "choice":
        return body.get("default") or next(
            iter(as_list(body.get("item") or body.get("items"))), None
        )
    return body


def image_ref(resource: Any, canvas: dict[str, Any], manifest_url: str) -> ImageRef | None:
    """An image resource as an ImageRef (masters without a service are refused: None)."""
    resource = choice_default(resource)
    if not isinstance(resource, dict):
        return None
    service = image_service(resource)
    # Full-image size: the service's, else the canvas's; the body is often a small derivative.
    service_node = next((s for s in as_list(resource.get("service")) if isinstance(s, dict)), {})
    width = service_node.get("width") or canvas.get("width") or resource.get("width")
    height = service_node.get("height") or canvas.get("height") or resource.get("height")
    direct = url_of(resource)
    image_format = str(resource.get("format") or "").lower()
    if not service and (
        image_format in MASTER_FORMATS or (direct or "").lower().endswith((".tif", ".tiff", ".jp2"))
    ):
        direct = None
    if not service and not direct:
        return None
    return ImageRef.remote(
        iiif_service=service,
        url=None if service else direct,
        width=width if isinstance(width, int) else None,
        height=height if isinstance(height, int) else None,
        manifest_url=manifest_url,
    )


def canvases(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The canvases of a v2 (first sequence) or v3 manifest, in order."""
    if isinstance(manifest.get("sequences"), list):
        sequence = next((s for s in manifest["sequences"] if isinstance(s, dict)), {})
        return [c for c in as_list(sequence.get("canvases")) if isinstance(c, dict)]
    return [
        c
        for c in as_list(manifest.get("items"))
        if isinstance(c, dict) and node_type(c) == "canvas"
    ]


def canvas_images(canvas: dict[str, Any], manifest_url: str) -> list[ImageRef]:
    """The painted images of a canvas (usually one)."""
    refs: list[ImageRef] = []
    for annotation in as_list(canvas.get("images")):  # v2
        if isinstance(annotation, dict):
            ref = image_ref(annotation.get("resource"), canvas, manifest_url)
            if ref:
                refs.append(ref)
    for page in as_list(canvas.get("items")):  # v3 annotation pages
        for annotation in as_list(page.get("items") if isinstance(page, dict) else None):
            if isinstance(annotation, dict) and annotation.get("motivation") in (
                None,
                "painting",
                "sc:painting",
            ):
                for body in as_list(annotation.get("body")):
                    ref = image_ref(body, canvas, manifest_url)
                    if ref:
                        refs.append(ref)
    return refs


def first_image_ref(manifest: Any) -> ImageRef | None:
    """The first canvas image of a manifest (what an Aardvark record's manifest link shows)."""
    if not isinstance(manifest, dict):
        return None
    manifest_url = node_id(manifest) or ""
    for canvas in canvases(manifest):
        refs = canvas_images(canvas, manifest_url)
        if refs:
            return refs[0]
    return None
