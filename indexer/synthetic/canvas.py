"""The drawing state shared by the kind painters and ornaments: image, palette, masks and scale."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    """Colours a map is drawn with before its colour scheme is applied."""

    paper: RGB
    water: RGB
    land: RGB
    ink: RGB
    faint_ink: RGB
    regions: tuple[RGB, ...]
    block: RGB
    park: RGB
    road: RGB
    accents: tuple[RGB, ...]
    fill_regions: bool  # full colour fills whole regions; hand colouring only washes their outlines


FULL_COLOUR = Palette(
    paper=(246, 240, 222),
    water=(158, 198, 228),
    land=(236, 224, 186),
    ink=(38, 34, 30),
    faint_ink=(120, 110, 100),
    regions=(
        (238, 196, 150),
        (196, 222, 160),
        (243, 206, 210),
        (214, 198, 236),
        (248, 234, 150),
        (180, 214, 214),
    ),
    block=(226, 160, 136),
    park=(150, 196, 120),
    road=(214, 72, 48),
    accents=((196, 40, 36), (30, 70, 150), (218, 170, 40), (40, 120, 60)),
    fill_regions=True,
)
HAND_COLOURED = Palette(
    paper=(243, 237, 220),
    water=(236, 232, 216),
    land=(243, 237, 220),
    ink=(62, 46, 30),
    faint_ink=(140, 120, 96),
    regions=(
        (214, 96, 84),
        (96, 160, 96),
        (222, 184, 70),
        (120, 124, 196),
        (212, 128, 170),
        (90, 170, 180),
    ),
    block=(216, 150, 120),
    park=(130, 180, 110),
    road=(180, 80, 60),
    accents=((190, 60, 50), (60, 90, 160), (200, 160, 60), (70, 130, 80)),
    fill_regions=False,
)
# Monochrome schemes are drawn with strong value contrast and then tone-mapped.
MONOCHROME = Palette(
    paper=(238, 236, 230),
    water=(190, 190, 190),
    land=(234, 232, 226),
    ink=(30, 30, 30),
    faint_ink=(120, 120, 120),
    regions=(
        (222, 220, 214),
        (200, 198, 192),
        (214, 212, 206),
        (190, 188, 182),
        (228, 226, 220),
        (208, 206, 200),
    ),
    block=(170, 168, 162),
    park=(200, 200, 190),
    road=(90, 90, 90),
    accents=((60, 60, 60), (120, 120, 120), (180, 180, 180), (90, 90, 90)),
    fill_regions=True,
)


@dataclass
class PendingLabel:
    """A label a large sheet letters only once its ornaments are known, so it can be placed where
    nothing else is (``indexer.synthetic.placement``)."""

    text: str
    size: int
    fill: RGB
    xy: tuple[float, float]  # the anchor point (the centre of a turned label)
    anchor: str = "lm"
    angle: float | None = None  # degrees anticlockwise; None for horizontal lettering
    dot: bool = False  # a town symbol precedes the text
    area: np.ndarray | None = None  # where the anchor may move to (land for towns, water ...)
    roam: bool = False  # may move anywhere in ``area``, not only near its first spot


def palette_for(colour_scheme: str) -> Palette:
    """The drawing palette for a colour scheme."""
    if colour_scheme == "full_colour":
        return FULL_COLOUR
    if colour_scheme == "hand_coloured":
        return HAND_COLOURED
    return MONOCHROME


@dataclass
class Canvas:
    """One map being drawn."""

    image: Image.Image
    palette: Palette
    rng: np.random.Generator
    attributes: dict
    title: str
    water: np.ndarray = field(default_factory=lambda: np.zeros((1, 1), dtype=bool))
    land: np.ndarray = field(default_factory=lambda: np.zeros((1, 1), dtype=bool))
    frame: tuple[int, int, int, int] = (0, 0, 0, 0)  # the map area inside the neat line
    occupied: list[tuple[float, float, float, float]] = field(default_factory=list)
    # large-format maps draw lines and lettering as finely as a 600-px map would, and letter
    # fewer names per pixel; None and 1.0 keep the default world's drawing exactly
    fine_scale: float | None = None
    lettering_density: float = 1.0
    # where things were drawn, in this image's pixels: {"kind", "box"} and {"text", "box", "angle"}
    ornament_boxes: list[dict] = field(default_factory=list)
    label_boxes: list[dict] = field(default_factory=list)
    # large sheets collect their lettering here while the painter runs and place it after the
    # ornaments, clear of everything drawn before (None: letter at once, as the default world)
    pending_labels: list[PendingLabel] | None = None

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return self.image.width

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return self.image.height

    @property
    def scale(self) -> float:
        """1.0 for a 256-px short side; line widths and font sizes grow with it."""
        if self.fine_scale is not None:
            return self.fine_scale
        return min(self.width, self.height) / 256

    @property
    def large(self) -> bool:
        """A large-format map: small ornaments and lettering on a 2,048-4,096 px sheet."""
        return self.fine_scale is not None

    @property
    def draw(self) -> ImageDraw.ImageDraw:
        """A drawing context on the current image (cheap; fetch it again after ``paste_array``)."""
        return ImageDraw.Draw(self.image)

    @property
    def early(self) -> bool:
        """Engraved-era styling (water lining, pictorial ornaments) before 1800."""
        return int(self.attributes["year"]) < 1800

    def px(self, value: float) -> int:
        """A length given for a 256-px map, scaled to this one (at least 1)."""
        return max(1, round(value * self.scale))

    def paste_array(self, pixels: np.ndarray) -> None:
        """Replace the image with an (h, w, 3) uint8 array."""
        self.image.paste(Image.fromarray(pixels, "RGB"))
