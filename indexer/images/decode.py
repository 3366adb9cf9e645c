"""Decode image bytes into a bounded RGB Pillow image: pixel-count guard on the header before any
pixel is decoded (a lower one for formats Pillow can only decode whole), JPEG draft / JPEG 2000
reduce to decode only what is needed, 16-bit, CMYK and transparency converted the way a map on
paper should look."""

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
# Formats whose codec can decode at a fraction of the size (DCT scaling, resolution levels);
# every other format is decoded whole, so its pixel count is what the decode costs in memory.
REDUCIBLE_FORMATS = ("JPEG", "JPEG2000")
# Whole decodes are bounded by default to 24 MP (a 6000x4000 scan: 72 MB as RGB). A 12 KB
# 1-bit PNG of 10000x10000 pixels would otherwise cost 100 MB as mode "1" and 300 MB as RGB.
DEFAULT_MAX_WHOLE_DECODE_PIXELS = 24_000_000


def _guard_pixels(image: Image.Image, max_pixels: int, max_whole_decode_pixels: int) -> None:
    """Refuse from the header alone: the limits are inclusive (an image of exactly the limit is
    refused), and formats decoded whole get the lower of the two limits."""
    width, height = image.size
    if width <= 0 or height <= 0:
        raise NotAnImage("image has no pixels")
    pixels = width * height
    if pixels >= max_pixels:
        raise ImageTooLarge(
            f"image is {width}x{height} = {pixels:,} pixels; the limit is {max_pixels - 1:,}"
        )
    if image.format not in REDUCIBLE_FORMATS and pixels >= max_whole_decode_pixels:
        raise ImageTooLarge(
            f"a {image.format} image is decoded whole and this one is {width}x{height} ="
            f" {pixels:,} pixels; the limit for {image.format} is {max_whole_decode_pixels - 1:,}"
            " (send a JPEG, or a smaller image)"
        )


def _shrink_native(image: Image.Image, max_side: int) -> Image.Image:
    """Shrink a large decoded image in its own mode (1 byte a pixel for grey and 1-bit) before
    the RGB conversion, which would triple it; box-reduce keeps memory to the output size."""
    factor = max(image.size) // max_side
    if factor < 2:
        return image
    if image.mode == "1":
        image = image.convert("L")
    if image.mode not in ("L", "LA", "RGB", "RGBA", "I", "F"):
        return image
    return image.reduce(factor)


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


def decode_image(
    data: bytes,
    max_pixels: int,
    max_side: int,
    max_whole_decode_pixels: int = DEFAULT_MAX_WHOLE_DECODE_PIXELS,
) -> Image.Image:
    """Bytes → RGB image no larger than ``max_side`` on its longer side; typed errors otherwise."""
    if not data:
        raise NotAnImage("empty body")
    try:
        with warnings.catch_warnings():
            # Our explicit guard below replaces Pillow's bomb warning; its hard error still counts.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            _guard_pixels(image, max_pixels, max_whole_decode_pixels)
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
        rgb = to_rgb(_shrink_native(upright, max_side))
    except (OSError, ValueError) as exc:
        raise NotAnImage(f"the image could not be converted to RGB ({exc})") from exc
    if max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return rgb
