"""Paper wear (yellowing, mottling, folds, foxing) and stains, and the colour schemes that turn a
drawn map into grayscale, sepia or blueprint."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from indexer.synthetic.terrain import smooth_noise

YELLOWED = np.array([222, 198, 150], dtype=np.float32)
STAIN = np.array([150, 110, 60], dtype=np.float32)


def age_paper(image: Image.Image, wear: str, rng: np.random.Generator) -> Image.Image:
    """Yellow, mottle and fold a worn sheet; add tide-marked stains to a stained one."""
    if wear == "clean":
        return image
    w, h = image.size
    pixels = np.asarray(image).astype(np.float32)
    mottle = smooth_noise(rng, w, h, 5, octaves=2)
    pixels = pixels * (0.93 + 0.035 * np.clip(mottle, -2, 2))[..., None]
    pixels = 0.82 * pixels + 0.18 * YELLOWED
    # a fold: a pale crease with a shadow beside it
    if rng.random() < 0.7:
        fold = int(w * rng.uniform(0.45, 0.55))
        pixels[:, fold] = pixels[:, fold] * 0.75
        pixels[:, min(w - 1, fold + 1)] = np.minimum(255, pixels[:, min(w - 1, fold + 1)] * 1.08)
    spots = Image.new("L", (w // 4, h // 4), 0)
    draw = ImageDraw.Draw(spots)
    for _ in range(int(rng.integers(6, 20))):  # foxing
        x, y, r = rng.uniform(0, w / 4), rng.uniform(0, h / 4), rng.uniform(0.4, 1.2)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=int(rng.integers(90, 170)))
    if wear == "stained":
        for _ in range(int(rng.integers(1, 4))):
            x, y = rng.uniform(0, w / 4), rng.uniform(0, h / 4)
            rx, ry = rng.uniform(w / 24, w / 10), rng.uniform(h / 24, h / 10)
            draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=120, outline=230, width=1)
    alpha = (
        np.asarray(
            spots.filter(ImageFilter.GaussianBlur(1.2)).resize((w, h), Image.Resampling.BILINEAR)
        ).astype(np.float32)[..., None]
        / 255.0
    )
    pixels = pixels * (1 - 0.6 * alpha) + STAIN * (0.6 * alpha)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def apply_colour_scheme(image: Image.Image, scheme: str) -> Image.Image:
    """Tone-map a drawn map: grayscale has R=G=B, sepia
    is warm brown, blueprint is white on blue."""
    if scheme == "grayscale":
        return image.convert("L").convert("RGB")
    if scheme == "sepia":
        return ImageOps.colorize(image.convert("L"), black=(58, 36, 18), white=(240, 222, 184))
    if scheme == "blueprint":
        gray = ImageOps.autocontrast(image.convert("L"), cutoff=1)
        return ImageOps.colorize(
            gray, black=(236, 242, 252), white=(24, 66, 148), mid=(70, 110, 180)
        )
    return image
