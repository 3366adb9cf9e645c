"""Map ornaments drawn as vector shapes: sea monsters, ships, compass roses, cartouches, coats of
arms. Each takes a centre and a size in pixels so placement stays with the caller."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import numpy as np

from indexer.synthetic.canvas import Canvas
from indexer.synthetic.lettering import drawable, letter, text_width
from indexer.synthetic.terrain import sample_points

MONSTER_GREENS = ((92, 138, 96), (118, 150, 88), (80, 120, 130))
HERALDIC = (
    (180, 30, 30),
    (30, 60, 150),
    (220, 180, 50),
    (40, 120, 60),
    (240, 240, 240),
    (30, 30, 30),
)


def sea_monster(canvas: Canvas, cx: float, cy: float, size: float) -> None:
    """A sea serpent: an outlined, scaly body looping through the waves, a horned head with open
    jaws, a forked tail and a water spout, about ``size`` px long."""
    draw, rng, ink = canvas.draw, canvas.rng, canvas.palette.ink
    body = MONSTER_GREENS[int(rng.integers(len(MONSTER_GREENS)))]
    belly = (226, 206, 140)
    facing = 1 if rng.random() < 0.5 else -1
    thick = max(3.0, size * 0.1)
    amplitude = size * 0.16
    loops = 2.5
    points = []
    for k in range(41):
        t = k / 40
        x = cx + facing * (t - 0.5) * size * 0.8
        y = cy - amplitude * abs(math.sin(t * loops * math.pi)) * (0.6 + 0.4 * t)
        points.append((x, y))
    # body: an ink outline, then the colour, then a paler belly stripe; waves hide the troughs
    draw.line(points, fill=ink, width=round(thick + 2), joint="curve")
    draw.line(points, fill=body, width=round(thick), joint="curve")
    draw.line(
        [(x, y + thick * 0.25) for x, y in points], fill=belly, width=max(1, round(thick / 4))
    )
    for x, y in points[2::4]:  # scales / spines along the back
        draw.polygon(
            [
                (x - thick * 0.3, y - thick * 0.45),
                (x, y - thick * 1.0),
                (x + thick * 0.3, y - thick * 0.45),
            ],
            fill=ink,
        )
    # tail: a forked fin at the start of the body
    tx, ty = points[0]
    draw.polygon(
        [
            (tx, ty),
            (tx - facing * thick * 1.6, ty - thick * 1.4),
            (tx - facing * thick * 0.8, ty),
            (tx - facing * thick * 1.6, ty + thick * 1.0),
        ],
        fill=body,
        outline=ink,
    )
    # head: big, horned, jaws open, at the end of the body and raised
    hx, hy = points[-1]
    hy -= thick * 1.2
    head = thick * 1.3
    draw.line([points[-1], (hx, hy)], fill=ink, width=round(thick + 2))
    draw.line([points[-1], (hx, hy)], fill=body, width=round(thick))
    draw.ellipse(
        (hx - head, hy - head * 0.8, hx + head, hy + head * 0.8),
        fill=body,
        outline=ink,
        width=max(1, round(thick / 5)),
    )
    jaw = hx + facing * head * 2.2
    draw.polygon(
        [
            (hx + facing * head * 0.6, hy - head * 0.3),
            (jaw, hy - head * 0.9),
            (jaw - facing * head * 0.3, hy - head * 0.1),
        ],
        fill=body,
        outline=ink,
    )
    draw.polygon(
        [
            (hx + facing * head * 0.6, hy + head * 0.2),
            (jaw, hy + head * 0.8),
            (jaw - facing * head * 0.3, hy + head * 0.1),
        ],
        fill=body,
        outline=ink,
    )
    draw.polygon(
        [
            (hx + facing * head * 0.7, hy - head * 0.05),
            (jaw - facing * head * 0.35, hy - head * 0.35),
            (jaw - facing * head * 0.35, hy + head * 0.35),
        ],
        fill=(200, 50, 40),
    )
    for side in (-0.5, 0.2):  # horns
        draw.polygon(
            [
                (hx + side * head, hy - head * 0.6),
                (hx + (side - 0.5 * facing) * head, hy - head * 1.9),
                (hx + (side + 0.4) * head, hy - head * 0.7),
            ],
            fill=ink,
        )
    eye = max(1.0, head * 0.22)
    draw.ellipse(
        (
            hx + facing * head * 0.2 - eye,
            hy - head * 0.3 - eye,
            hx + facing * head * 0.2 + eye,
            hy - head * 0.3 + eye,
        ),
        fill=(250, 240, 200),
        outline=ink,
    )
    if rng.random() < 0.6:  # a water spout fanning up from the head
        for spread in (-0.9, 0.0, 0.9):
            draw.line(
                [(hx, hy - head * 0.8), (hx + spread * head, hy - head * 2.6)],
                fill=ink,
                width=max(1, round(thick / 5)),
            )
            drop = max(1.0, thick / 6)
            draw.ellipse(
                (
                    hx + spread * head * 1.2 - drop,
                    hy - head * 2.9 - drop,
                    hx + spread * head * 1.2 + drop,
                    hy - head * 2.9 + drop,
                ),
                fill=ink,
            )
    # waves along the waterline
    wave = thick * 0.9
    for k in range(9):
        wx = cx + facing * (k / 8 - 0.5) * size * 0.9
        draw.arc(
            (wx - wave, cy - wave * 0.2, wx + wave, cy + wave * 0.9),
            200,
            340,
            fill=ink,
            width=max(1, round(thick / 5)),
        )


def ship(canvas: Canvas, cx: float, cy: float, size: float) -> None:
    """A sailing ship: hull, two or three masts with square sails, a pennant."""
    draw, rng, ink = canvas.draw, canvas.rng, canvas.palette.ink
    hull = (120, 76, 40) if canvas.palette.fill_regions else canvas.palette.faint_ink
    sail = (250, 246, 232)
    facing = 1 if rng.random() < 0.5 else -1
    half = size / 2
    line = max(1, round(size / 30))
    draw.polygon(
        [
            (cx - half, cy - size * 0.12),
            (cx + half, cy - size * 0.12),
            (cx + half * 0.72, cy + size * 0.12),
            (cx - half * 0.72, cy + size * 0.12),
        ],
        fill=hull,
        outline=ink,
    )
    masts = 3 if rng.random() < 0.6 else 2
    for m in range(masts):
        mx = cx + (m - (masts - 1) / 2) * size * 0.3
        top = cy - size * (0.75 if m == masts // 2 else 0.6)
        draw.line([(mx, cy - size * 0.12), (mx, top)], fill=ink, width=line)
        for tier in range(2):
            y0 = top + size * 0.06 + tier * size * 0.24
            w = size * (0.11 + 0.03 * tier)
            draw.polygon(
                [
                    (mx - w, y0),
                    (mx + w, y0),
                    (mx + w * 1.1 + facing * size * 0.03, y0 + size * 0.2),
                    (mx - w * 0.9 + facing * size * 0.03, y0 + size * 0.2),
                ],
                fill=sail,
                outline=ink,
            )
        draw.polygon(
            [(mx, top), (mx + facing * size * 0.14, top + size * 0.03), (mx, top + size * 0.06)],
            fill=canvas.palette.accents[0],
        )
    draw.line(
        [(cx - half * 1.1, cy + size * 0.14), (cx + half * 1.1, cy + size * 0.14)],
        fill=ink,
        width=line,
    )


def compass_rose(canvas: Canvas, cx: float, cy: float, radius: float) -> None:
    """A sixteen-point compass rose with alternating
    light and dark point halves and a north mark."""
    draw, ink = canvas.draw, canvas.palette.ink
    accents = canvas.palette.accents
    line = max(1, round(radius / 30))
    draw.ellipse(
        (cx - radius * 0.72, cy - radius * 0.72, cx + radius * 0.72, cy + radius * 0.72),
        outline=ink,
        width=line,
    )
    draw.ellipse(
        (cx - radius * 0.66, cy - radius * 0.66, cx + radius * 0.66, cy + radius * 0.66),
        outline=ink,
        width=1,
    )
    for ring, (length, width_frac, colour) in enumerate(
        ((0.62, 0.08, accents[2]), (0.8, 0.11, accents[1]), (1.0, 0.14, accents[0]))
    ):
        points = 8 if ring == 0 else 4
        offset = math.pi / 8 if ring == 0 else (math.pi / 4 if ring == 1 else 0.0)
        for k in range(points):
            angle = offset + k * 2 * math.pi / points - math.pi / 2
            tip = (cx + math.cos(angle) * radius * length, cy + math.sin(angle) * radius * length)
            left = (
                cx + math.cos(angle - math.pi / 2) * radius * width_frac,
                cy + math.sin(angle - math.pi / 2) * radius * width_frac,
            )
            right = (
                cx + math.cos(angle + math.pi / 2) * radius * width_frac,
                cy + math.sin(angle + math.pi / 2) * radius * width_frac,
            )
            draw.polygon([(cx, cy), left, tip], fill=colour, outline=ink)
            draw.polygon([(cx, cy), right, tip], fill=canvas.palette.paper, outline=ink)
    # fleur-de-lis stand-in: a small crowned triangle above north
    ny = cy - radius * 1.02
    draw.polygon(
        [(cx, ny - radius * 0.2), (cx - radius * 0.09, ny), (cx + radius * 0.09, ny)], fill=ink
    )
    draw.ellipse(
        (cx - radius * 0.06, cy - radius * 0.06, cx + radius * 0.06, cy + radius * 0.06), fill=ink
    )


def cartouche(canvas: Canvas, box: tuple[float, float, float, float], lines: list[str]) -> None:
    """An ornate title frame: filled panel, double
    border, scroll curls at the corners, lettering."""
    draw, ink, pal = canvas.draw, canvas.palette.ink, canvas.palette
    x0, y0, x1, y1 = box
    trim = pal.accents[2] if pal.fill_regions else pal.regions[2]
    pad = (y1 - y0) * 0.12
    draw.rounded_rectangle(
        box, radius=pad * 1.5, fill=pal.paper, outline=ink, width=max(1, round(pad / 3))
    )
    draw.rounded_rectangle(
        (x0 + pad, y0 + pad, x1 - pad, y1 - pad),
        radius=pad,
        outline=trim,
        width=max(1, round(pad / 2)),
    )
    curl = pad * 1.4
    for cx, cy in ((x0, y0), (x1, y0), (x0, y1), (x1, y1)):
        draw.ellipse((cx - curl, cy - curl, cx + curl, cy + curl), fill=trim, outline=ink)
        draw.arc(
            (cx - curl * 0.6, cy - curl * 0.6, cx + curl * 0.6, cy + curl * 0.6), 0, 270, fill=ink
        )
    # a swag across the top and a pendant below, the usual baroque frame
    mid = (x0 + x1) / 2
    draw.chord(
        (mid - (x1 - x0) * 0.18, y0 - pad * 2.2, mid + (x1 - x0) * 0.18, y0 + pad * 1.4),
        180,
        360,
        fill=trim,
        outline=ink,
    )
    draw.polygon(
        [(mid - pad * 2, y1), (mid + pad * 2, y1), (mid, y1 + pad * 2.5)], fill=trim, outline=ink
    )
    inner_w = (x1 - x0) - 4 * pad
    available = (y1 - y0) - 4 * pad
    size = max(7, int(min(available / max(1, len(lines)) * 0.8, 16 * canvas.scale)))
    y = y0 + 2 * pad + size * 0.55
    for text in map(drawable, lines):
        while size > 6 and text_width(text, size) > inner_w:
            size -= 1
        letter(canvas, (mid, y), text, size, ink, anchor="mm")
        y += size * 1.25


def coat_of_arms(canvas: Canvas, cx: float, cy: float, size: float) -> None:
    """A heraldic shield (divided in two tinctures or with a cross) under a crown."""
    draw, rng, ink = canvas.draw, canvas.rng, canvas.palette.ink
    first, second = (HERALDIC[int(i)] for i in rng.choice(len(HERALDIC), size=2, replace=False))
    w, h = size * 0.8, size
    top = cy - h * 0.4
    shield = [
        (cx - w / 2, top),
        (cx + w / 2, top),
        (cx + w / 2, top + h * 0.5),
        (cx + w * 0.3, top + h * 0.78),
        (cx, top + h * 0.92),
        (cx - w * 0.3, top + h * 0.78),
        (cx - w / 2, top + h * 0.5),
    ]
    draw.polygon(shield, fill=first, outline=ink)
    division = int(rng.integers(4))
    if division == 0:  # per pale
        draw.polygon(
            [
                (cx, top),
                (cx + w / 2, top),
                (cx + w / 2, top + h * 0.5),
                (cx + w * 0.3, top + h * 0.78),
                (cx, top + h * 0.92),
            ],
            fill=second,
            outline=ink,
        )
    elif division == 1:  # per fess
        draw.polygon(
            [
                (cx - w / 2, top + h * 0.4),
                (cx + w / 2, top + h * 0.4),
                (cx + w / 2, top + h * 0.5),
                (cx + w * 0.3, top + h * 0.78),
                (cx, top + h * 0.92),
                (cx - w * 0.3, top + h * 0.78),
                (cx - w / 2, top + h * 0.5),
            ],
            fill=second,
            outline=ink,
        )
    elif division == 2:  # a cross
        draw.rectangle((cx - w * 0.09, top, cx + w * 0.09, top + h * 0.9), fill=second)
        draw.rectangle((cx - w / 2, top + h * 0.28, cx + w / 2, top + h * 0.44), fill=second)
    else:  # a chevron
        draw.polygon(
            [
                (cx - w / 2, top + h * 0.6),
                (cx, top + h * 0.2),
                (cx + w / 2, top + h * 0.6),
                (cx + w / 2, top + h * 0.75),
                (cx, top + h * 0.38),
                (cx - w / 2, top + h * 0.75),
            ],
            fill=second,
            outline=ink,
        )
    draw.polygon(shield, outline=ink, width=max(1, round(size / 25)))
    crown_y = top - h * 0.04
    gold = HERALDIC[2]
    draw.polygon(
        [
            (cx - w * 0.4, crown_y),
            (cx + w * 0.4, crown_y),
            (cx + w * 0.45, crown_y - h * 0.22),
            (cx + w * 0.2, crown_y - h * 0.1),
            (cx, crown_y - h * 0.26),
            (cx - w * 0.2, crown_y - h * 0.1),
            (cx - w * 0.45, crown_y - h * 0.22),
        ],
        fill=gold,
        outline=ink,
    )


# An ornament's size is drawn uniformly from (low, high) times a unit: the frame's shorter side on
# default maps; the image's longer side on large sheets, where the drawn ornament then spans about
# 1.5-4.5% of it.
DEFAULT_SIZES = {
    "compass_rose": (0.1, 0.15),
    "coat_of_arms": (0.14, 0.2),
    "ship": (0.12, 0.18),
    "sea_monster": (0.45, 0.6),
}
LARGE_SIZES = {
    "compass_rose": (0.008, 0.019),
    "coat_of_arms": (0.014, 0.034),
    "ship": (0.015, 0.037),
    "sea_monster": (0.014, 0.03),
}
LARGE_CARTOUCHE_WIDTH = 0.036  # of the longer side; curls and pendant add about a sixth


def _ink_box(before: np.ndarray, after: np.ndarray, left: int, top: int) -> list[int] | None:
    """[x, y, w, h] of the pixels that changed between two crops taken at (left, top)."""
    changed = np.any(before != after, axis=2)
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    if rows.size == 0:
        return None
    return [
        left + int(cols[0]),
        top + int(rows[0]),
        int(cols[-1] - cols[0]) + 1,
        int(rows[-1] - rows[0]) + 1,
    ]


def _recorded(
    canvas: Canvas, kind: str, cx: float, cy: float, reach: float, paint: Callable[[], None]
) -> None:
    """Run ``paint`` and record the box of what it drew within ``reach`` px of (cx, cy)."""
    window = (
        max(0, int(cx - reach)),
        max(0, int(cy - reach)),
        min(canvas.width, int(cx + reach) + 1),
        min(canvas.height, int(cy + reach) + 1),
    )
    before = np.asarray(canvas.image.crop(window))
    paint()
    box = _ink_box(before, np.asarray(canvas.image.crop(window)), window[0], window[1])
    if box is not None:
        canvas.ornament_boxes.append({"kind": kind, "box": box})


def place_ornaments(canvas: Canvas) -> None:
    """Draw every ornament the attributes list, in water where they belong, avoiding overlaps."""
    rng = canvas.rng
    x0, y0, x1, y1 = canvas.frame
    short = min(x1 - x0, y1 - y0)
    ornaments = canvas.attributes["ornaments"]
    # the same random draws either way, so a large sheet places what a default map would
    unit, sizes = (
        (float(max(canvas.width, canvas.height)), LARGE_SIZES)
        if canvas.large
        else (float(short), DEFAULT_SIZES)
    )

    def size_of(kind: str) -> float:
        low, high = sizes[kind]
        return unit * float(rng.uniform(low, high))

    def free_spot(mask: np.ndarray | None, half_w: float, half_h: float) -> tuple[float, float]:
        """A centre inside ``mask`` (preferably) whose box overlaps no ornament drawn so far."""
        margin = int(max(half_w, half_h)) + 2
        candidates: list[tuple[float, float]] = []
        if mask is not None and mask.any():
            candidates += [
                (float(x), float(y)) for x, y in sample_points(rng, mask, 40, margin=margin)
            ]
        candidates += [
            (
                float(rng.uniform(x0 + half_w, x1 - half_w)),
                float(rng.uniform(y0 + half_h, y1 - half_h)),
            )
            for _ in range(20)
        ]
        for x, y in candidates:
            if not (x0 + half_w <= x <= x1 - half_w and y0 + half_h <= y <= y1 - half_h):
                continue
            box = (x - half_w, y - half_h, x + half_w, y + half_h)
            if all(
                box[2] < o[0] or box[0] > o[2] or box[3] < o[1] or box[1] > o[3]
                for o in canvas.occupied
            ):
                canvas.occupied.append(box)
                return x, y
        x, y = candidates[0]
        canvas.occupied.append((x - half_w, y - half_h, x + half_w, y + half_h))
        return x, y

    water = canvas.water if canvas.water.shape == (canvas.height, canvas.width) else None
    if "cartouche" in ornaments:
        if canvas.large:
            w = unit * LARGE_CARTOUCHE_WIDTH
            h = w * 0.5
        else:
            w, h = (x1 - x0) * 0.42, short * 0.24
        corner = int(rng.integers(4))
        cx = x0 + w / 2 + short * 0.06 if corner % 2 == 0 else x1 - w / 2 - short * 0.06
        cy = y0 + h / 2 + short * 0.08 if corner < 2 else y1 - h / 2 - short * 0.08
        canvas.occupied.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
        date = str(canvas.attributes["year"])
        words = canvas.title.split()
        first = (
            " ".join(words[: max(1, len(words) // 2)]) if len(canvas.title) > 24 else canvas.title
        )
        rest = " ".join(words[max(1, len(words) // 2) :]) if len(canvas.title) > 24 else ""
        lines = [line for line in (first, rest, date) if line]
        frame = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        _recorded(canvas, "cartouche", cx, cy, w, partial(cartouche, canvas, frame, lines))
    if "compass_rose" in ornaments:
        r = size_of("compass_rose")
        x, y = free_spot(water, r, r * 1.2)
        _recorded(canvas, "compass_rose", x, y, r * 2, partial(compass_rose, canvas, x, y, r))
    if "coat_of_arms" in ornaments:
        s = size_of("coat_of_arms")
        x, y = free_spot(None, s * 0.5, s * 0.6)
        _recorded(canvas, "coat_of_arms", x, y, s * 2, partial(coat_of_arms, canvas, x, y, s))
    if "ship" in ornaments:
        for _ in range(int(rng.integers(1, 3))):
            s = size_of("ship")
            x, y = free_spot(water, s * 0.6, s * 0.5)
            _recorded(canvas, "ship", x, y, s * 2, partial(ship, canvas, x, y, s))
    if "sea_monster" in ornaments:
        s = size_of("sea_monster")
        x, y = free_spot(water, s * 0.5, s * 0.35)
        _recorded(
            canvas, "sea_monster", x, y, s * 2, partial(sea_monster, canvas, x, y + s * 0.15, s)
        )
