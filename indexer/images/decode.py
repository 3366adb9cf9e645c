"""Decode image bytes into a bounded RGB Pillow image: pixel-count guard on the header before any
pixel is decoded, JPEG draft / JPEG 2000 reduce to decode only what is needed, 16-bit, CMYK and
transparency converted the way a map on paper should look."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from indexer.images.errors import ImageTooLarge, NotAnImage

PAPER_WHITE = (255, 255, 255)
# Raster formats maps come in. Anything else (EPS would run Ghostscript, PSD, ICO...) is refused
# before a plugin touches the bytes.
ALLOWED_FORMATS = ("JPEG", "PNG", "GIF", "TIFF", "WEBP", "JPEG2000", "BMP")


def _guard_pixels(image: Image.Image, max_pixels: int) -> None:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise NotAnImage("image has no pixels")
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"image is {width}x{height} = {width * height:,} pixels; the limit is {max_pixels:,}"
        )


def _reduce_on_decode(image: Image.Image, max_side: int) -> None:
    """Ask the codec for a smaller image: JPEG DCT scaling, JPEG 2000 resolution levels."""
    if image.format == "JPEG":
        # draft() keeps both sides at least the requested box: ask for the aspect-fitted size.
        width, height = image.size
        scale = min(1.0, max_side / max(width, height))
        image.draft(
            "RGB" if image.mode != "L" else "L",
            (max(1, round(width * scale)), max(1, round(height * scale))),
        )
    elif image.format == "JPEG2000":
        factor = 0
        width, height = image.size
        while max(width, height) >> (factor + 1) >= max_side and factor < 5:
            factor += 1
        if factor:
            # Jpeg2KImageFile's ``reduce`` attribute (shadowing the method) decodes at 1/2**factor.
            setattr(image, "reduce", factor)  # noqa: B010


def _high_bit_depth_to_rgb(image: Image.Image) -> Image.Image:
    """16/32-bit grey ("I;16", "I") and float ("F") scaled into 8 bits by the value range."""
    values = np.asarray(image, dtype=np.float64)
    if image.mode.startswith("I;16") or (
        image.mode == "I" and values.max(initial=0) <= 65535 and values.min(initial=0) >= 0
    ):
        scaled = values / 257.0
    else:  # "F" or an "I" outside 16-bit: stretch what is there
        low, high = float(np.nanmin(values)), float(np.nanmax(values))
        scaled = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
    return Image.fromarray(
        np.clip(np.nan_to_num(scaled), 0, 255).astype(np.uint8), mode="L"
    ).convert("RGB")


def _cmyk_to_rgb(image: Image.Image) -> Image.Image:
    profile = image.info.get("icc_profile")
    if profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError):
            pass  # a broken embedded profile: fall back to the plain conversion
    return image.convert("RGB")


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode → RGB; transparency is flattened onto white paper."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in ("I", "F") or mode.startswith("I;16"):
        return _high_bit_depth_to_rgb(image)
    if mode == "CMYK":
        return _cmyk_to_rgb(image)
    if mode == "P" and "transparency" in image.info or mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        paper = Image.new("RGB", rgba.size, PAPER_WHITE)
        paper.paste(rgba, mask=rgba.getchannel("A"))
        return paper
    return image.convert("RGB")


def decode_image(data: bytes, max_pixels: int, max_side: int) -> Image.Image:
    """Bytes → RGB image no larger than ``max_side`` on its longer side; typed errors otherwise."""
    if not data:
        raise NotAnImage("empty body")
    try:
        with warnings.catch_warnings():
            # Our explicit guard below replaces Pillow's bomb warning; its hard error still counts.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            _guard_pixels(image, max_pixels)
            _reduce_on_decode(image, max_side)
            image.load()
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(str(exc)) from exc
    except UnidentifiedImageError as exc:
        raise NotAnImage("the data is not an image format this server can read") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # truncated or corrupt data
        raise NotAnImage(f"the image is corrupt or truncated ({exc})") from exc
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    try:
        # Phone photos of a map carry their rotation in EXIF; the pixels are stored sideways.
        upright: Image.Image = ImageOps.exif_transpose(image) or image
        rgb = to_rgb(upright)
    except (OSError, ValueError) as exc:
        raise NotAnImage(f"the image could not be converted to RGB ({exc})") from exc
    if max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return rgb
