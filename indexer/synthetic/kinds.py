"""One painter per kind of map: world map with graticule, regional map, city plan, nautical chart,
bird's-eye view. Each fills the canvas inside its frame and sets the land and water masks."""

from __future__ import annotations

import math

import numpy as np

from indexer.synthetic.canvas import RGB, Canvas
from indexer.synthetic.lettering import (
    draw_label,
    draw_labels,
    drawable,
    label_count,
    letter,
    place_name,
    spaced_capitals,
    text_width,
)
from indexer.synthetic.terrain import (
    dilate,
    hillshade,
    isoline,
    outline,
    sample_points,
    smooth_noise,
    voronoi_labels,
)


def _colour_land(
    canvas: Canvas,
    pixels: np.ndarray,
    land: np.ndarray,
    regions: int,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Fill land with region colours (full colour) or wash region outlines (hand colouring)."""
    pal, rng = canvas.palette, rng or canvas.rng
    h, w = land.shape
    wobble = smooth_noise(rng, w, h, 6, octaves=1)
    labels = voronoi_labels(rng, w, h, regions, wobble)
    colours = np.array(pal.regions, dtype=np.uint8)[labels % len(pal.regions)]
    boundary = (isoline(labels.astype(np.float32), 0.5) | _label_edges(labels)) & land
    if pal.fill_regions:
        pixels[land] = colours[land]
    else:
        wash = dilate(boundary | outline(land), canvas.px(7)) & land
        tint = colours[wash].astype(np.float32)
        pixels[wash] = (0.7 * tint + 0.3 * pixels[wash]).astype(np.uint8)
    dashed = boundary & (((np.indices(land.shape).sum(axis=0)) // canvas.px(2)) % 3 != 0)
    pixels[dashed] = pal.ink
    return labels


def _label_edges(labels: np.ndarray) -> np.ndarray:
    edge = np.zeros(labels.shape, dtype=bool)
    edge[1:, :] |= labels[1:, :] != labels[:-1, :]
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    return edge


def _relief(canvas: Canvas, pixels: np.ndarray, land: np.ndarray) -> None:
    """Shade the land (shaded relief) or, for pictorial relief, leave it to ``_pictorial_hills``."""
    if canvas.attributes["relief"] != "shaded":
        return
    h, w = land.shape
    height = smooth_noise(canvas.rng, w, h, 7, octaves=2)
    shade = hillshade(height)
    factor = np.where(land, 0.62 + 0.55 * shade, 1.0)[..., None]
    pixels[:] = np.clip(pixels.astype(np.float32) * factor, 0, 255).astype(np.uint8)


def _pictorial_hills(canvas: Canvas, land: np.ndarray, count: int) -> None:
    """Molehill mountains: little shaded cones drawn in ranges across the land."""
    if canvas.attributes["relief"] != "pictorial":
        return
    rng, draw, pal = canvas.rng, canvas.draw, canvas.palette
    size = canvas.px(7)
    starts = sample_points(rng, land, max(1, count // 6), margin=size * 2)
    for x, y in starts:
        angle = rng.uniform(0, math.pi)
        for k in range(6):
            hx = x + math.cos(angle) * k * size * 1.1 + rng.normal(0, size * 0.2)
            hy = y + math.sin(angle) * k * size * 0.5 + rng.normal(0, size * 0.2)
            if not (0 <= hx < canvas.width and 0 <= hy < canvas.height and land[int(hy), int(hx)]):
                continue
            s = size * rng.uniform(0.8, 1.3)
            draw.polygon(
                [(hx - s, hy), (hx, hy - s * 1.1), (hx + s, hy)], fill=pal.land, outline=pal.ink
            )
            draw.polygon([(hx, hy - s * 1.1), (hx + s, hy), (hx + s * 0.2, hy)], fill=pal.faint_ink)


def _rivers(canvas: Canvas, land: np.ndarray, count: int) -> None:
    rng, draw = canvas.rng, canvas.draw
    colour: RGB = tuple(max(0, c - 60) for c in canvas.palette.water)  # type: ignore[assignment]
    for start_x, start_y in sample_points(rng, land, count, margin=canvas.px(10)):
        x, y = float(start_x), float(start_y)
        points = [(x, y)]
        heading = rng.uniform(0, 2 * math.pi)
        for _ in range(24):
            heading += rng.normal(0, 0.45)
            x += math.cos(heading) * canvas.px(6)
            y += math.sin(heading) * canvas.px(6)
            if not (0 <= x < canvas.width and 0 <= y < canvas.height) or not land[int(y), int(x)]:
                break
            points.append((x, y))
        if len(points) > 2:
            draw.line(points, fill=colour, width=canvas.px(1.4), joint="curve")


def _paint(canvas: Canvas, pixels: np.ndarray) -> None:
    canvas.paste_array(pixels)


def world_map(canvas: Canvas) -> None:
    """Continents on a graticule, as two hemispheres (early) or one rectangular projection."""
    pal, rng = canvas.palette, canvas.rng
    x0, y0, x1, y1 = canvas.frame
    w, h = canvas.width, canvas.height
    field = smooth_noise(rng, w, h, 7, octaves=2)
    pixels = np.empty((h, w, 3), dtype=np.uint8)
    pixels[:] = pal.paper
    ys, xs = np.mgrid[0:h, 0:w]
    if canvas.attributes.get("projection") == "hemispheres":
        radius = min((x1 - x0) / 4, (y1 - y0) / 2) * 0.94
        centres = [
            ((x0 + x1) / 2 - radius * 1.04, (y0 + y1) / 2),
            ((x0 + x1) / 2 + radius * 1.04, (y0 + y1) / 2),
        ]
        inside = np.zeros((h, w), dtype=bool)
        for cx, cy in centres:
            inside |= (xs - cx) ** 2 + (ys - cy) ** 2 <= radius**2
    else:
        inside = np.zeros((h, w), dtype=bool)
        inside[y0:y1, x0:x1] = True
        centres, radius = [], 0.0
    land = inside & (field > 0.45)
    water = inside & ~land
    pixels[water] = pal.water
    pixels[land] = pal.land
    _colour_land(canvas, pixels, land, 9)
    _relief(canvas, pixels, land)
    if canvas.early:  # engraved water lining along the coasts
        for level in (0.3, 0.15):
            pixels[isoline(field, level) & water] = pal.faint_ink
    pixels[outline(land)] = pal.ink
    _paint(canvas, pixels)
    draw = canvas.draw
    line_w = canvas.px(1)
    if centres:
        for cx, cy in centres:
            for k in (1, 2):  # meridians at 30 and 60 degrees either side of the central one
                half = radius * math.sin(k * math.pi / 6)
                draw.ellipse(
                    (cx - half, cy - radius, cx + half, cy + radius), outline=pal.faint_ink, width=1
                )
            draw.line([(cx, cy - radius), (cx, cy + radius)], fill=pal.faint_ink, width=1)
            for k in range(-2, 3):  # parallels as chords
                yy = cy + radius * math.sin(k * math.pi / 6)
                half = radius * math.cos(k * math.pi / 6)
                draw.line(
                    [(cx - half, yy), (cx + half, yy)],
                    fill=pal.ink if k == 0 else pal.faint_ink,
                    width=line_w if k == 0 else 1,
                )
            draw.ellipse(
                (cx - radius, cy - radius, cx + radius, cy + radius),
                outline=pal.ink,
                width=canvas.px(2),
            )
            draw.ellipse(
                (
                    cx - radius - canvas.px(3),
                    cy - radius - canvas.px(3),
                    cx + radius + canvas.px(3),
                    cy + radius + canvas.px(3),
                ),
                outline=pal.ink,
                width=1,
            )
    else:
        for k in range(1, 12):
            xx = x0 + (x1 - x0) * k / 12
            draw.line([(xx, y0), (xx, y1)], fill=pal.faint_ink, width=1)
        for k in range(1, 6):
            yy = y0 + (y1 - y0) * k / 6
            draw.line(
                [(x0, yy), (x1, yy)],
                fill=pal.ink if k == 3 else pal.faint_ink,
                width=line_w if k == 3 else 1,
            )
    canvas.land, canvas.water = land, water
    _pictorial_hills(canvas, land, 30)
    size = canvas.px(8)
    draw_labels(
        canvas,
        label_count(canvas.attributes["text_density"], w, h, canvas.lettering_density),
        land,
        size,
    )
    for x, y in sample_points(rng, water, 2, margin=canvas.px(30)):
        draw_label(
            canvas,
            (x - canvas.px(20), y),
            spaced_capitals(place_name(rng)),
            canvas.px(9),
            pal.ink,
            area=water,
            roam=True,
        )


def regional_map(canvas: Canvas) -> None:
    """A province or country: coast on one side, internal
    boundaries, rivers, towns, roads, relief."""
    pal, rng = canvas.palette, canvas.rng
    w, h = canvas.width, canvas.height
    x0, y0, x1, y1 = canvas.frame
    field = smooth_noise(rng, w, h, 4, octaves=2)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    side = int(rng.integers(5))
    gradient = [xs / w, 1 - xs / w, ys / h, 1 - ys / h, np.full_like(xs, 0.6)][side]
    level = field + 2.2 * gradient
    inside = np.zeros((h, w), dtype=bool)
    inside[y0:y1, x0:x1] = True
    land = inside & (level > 0.6)
    water = inside & ~land
    pixels = np.empty((h, w, 3), dtype=np.uint8)
    pixels[:] = pal.paper
    pixels[water] = pal.water
    pixels[land] = pal.land
    _colour_land(canvas, pixels, land, int(rng.integers(4, 8)))
    _relief(canvas, pixels, land)
    if canvas.early:
        for offset in (0.15, 0.3):
            pixels[isoline(level, 0.6 - offset) & water] = pal.faint_ink
    pixels[outline(land)] = pal.ink
    _paint(canvas, pixels)
    canvas.land, canvas.water = land, water
    _rivers(canvas, land, 4)
    _pictorial_hills(canvas, land, 40)
    draw = canvas.draw
    towns = sample_points(rng, land, 8, margin=canvas.px(16))
    if not canvas.early and len(towns) > 1:
        for a, b in zip(towns, towns[1:], strict=False):
            draw.line([a, b], fill=pal.road, width=canvas.px(1))
    draw_labels(
        canvas,
        label_count(canvas.attributes["text_density"], w, h, canvas.lettering_density),
        land,
        canvas.px(8),
    )
    for x, y in sample_points(rng, land, 1, margin=canvas.px(50)):
        name = spaced_capitals(place_name(rng))
        draw_label(
            canvas,
            (x - text_width(name, canvas.px(12)) / 2, y),
            name,
            canvas.px(12),
            pal.ink,
            area=land,
            roam=True,
        )


def city_plan(canvas: Canvas) -> None:
    """Blocks between a (possibly rotated, irregular
    when early) street grid, avenues, a river, parks."""
    pal, rng = canvas.palette, canvas.rng
    w, h = canvas.width, canvas.height
    x0, y0, x1, y1 = canvas.frame
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = (x0 + x1) / 2 + rng.normal(0, w * 0.05), (y0 + y1) / 2 + rng.normal(0, h * 0.05)
    blob = smooth_noise(rng, w, h, 4, octaves=1)
    radial = np.sqrt(((xs - cx) / (x1 - x0)) ** 2 + ((ys - cy) / (y1 - y0)) ** 2)
    inside = np.zeros((h, w), dtype=bool)
    inside[y0:y1, x0:x1] = True
    city = inside & (0.42 - radial + 0.08 * blob > 0)
    angle = rng.uniform(-0.5, 0.5) if rng.random() < 0.6 else 0.0
    u = xs * math.cos(angle) + ys * math.sin(angle)
    v = -xs * math.sin(angle) + ys * math.cos(angle)
    if canvas.early:  # old towns grew along crooked lanes
        crooked = smooth_noise(rng, w, h, 5, octaves=1) * canvas.px(5)
        u, v = u + crooked, v - crooked
    spacing_u, spacing_v = (
        canvas.px(float(rng.uniform(14, 22))),
        canvas.px(float(rng.uniform(11, 18))),
    )
    street = canvas.px(2.2)
    mod_u, mod_v = np.mod(u, spacing_u), np.mod(v, spacing_v)
    streets = (mod_u < street) | (mod_v < street)
    kerbs = (
        (np.abs(mod_u - street) < 0.8)
        | (np.abs(mod_u - spacing_u + 0.5) < 0.8)
        | (np.abs(mod_v - street) < 0.8)
        | (np.abs(mod_v - spacing_v + 0.5) < 0.8)
    )
    avenue_angle = angle + rng.choice([-1, 1]) * rng.uniform(0.5, 0.9)
    avenue = np.abs(
        (xs - cx) * math.sin(avenue_angle) - (ys - cy) * math.cos(avenue_angle)
    ) < canvas.px(3.5)
    block_id = (np.floor(u / spacing_u) * 7919 + np.floor(v / spacing_v)).astype(np.int64)
    parks = (block_id % 11 == int(rng.integers(11))) & city
    pixels = np.empty((h, w, 3), dtype=np.uint8)
    pixels[:] = pal.paper
    blocks = city & ~streets & ~avenue
    pixels[blocks] = pal.block if pal.fill_regions else pal.paper
    if (
        not pal.fill_regions or canvas.early
    ):  # hatched blocks of engraved and outline-coloured plans
        hatch = blocks & (((xs + ys).astype(np.int32) % canvas.px(3)) == 0)
        pixels[hatch] = pal.faint_ink if pal.fill_regions else pal.block
    pixels[parks & ~streets & ~avenue] = pal.park
    pixels[city & kerbs & ~avenue & ~streets] = pal.ink
    pixels[city & avenue] = pal.paper
    pixels[outline(city & avenue)] = pal.ink
    # a river crossing the town, and sometimes the sea along one edge
    phase, amp = rng.uniform(0, 6.3), rng.uniform(0.04, 0.12) * h
    centre_line = h * rng.uniform(0.3, 0.7) + amp * np.sin(xs / w * rng.uniform(2, 5) + phase)
    water = inside & (np.abs(ys - centre_line) < canvas.px(float(rng.uniform(6, 12))))
    if rng.random() < 0.35:
        water |= inside & (xs > x0 + (x1 - x0) * rng.uniform(0.8, 0.9) + blob * canvas.px(6))
    bridges = water & (mod_u < street * 1.2) & (np.floor(u / spacing_u).astype(np.int64) % 3 == 0)
    pixels[water & ~bridges] = pal.water
    pixels[outline(water) & ~bridges] = pal.ink
    land = inside & ~water
    _relief(canvas, pixels, land & ~city)
    _paint(canvas, pixels)
    canvas.land, canvas.water = land, water & ~bridges
    _pictorial_hills(canvas, land & ~city, 18)
    draw_labels(
        canvas,
        round(label_count(canvas.attributes["text_density"], w, h, canvas.lettering_density) * 1.5),
        city & blocks,
        canvas.px(7),
        dot=False,
    )


def nautical_chart(canvas: Canvas) -> None:
    """Mostly sea: a coast, depth contours, soundings and rhumb lines radiating from wind points."""
    pal, rng = canvas.palette, canvas.rng
    w, h = canvas.width, canvas.height
    x0, y0, x1, y1 = canvas.frame
    field = smooth_noise(rng, w, h, 5, octaves=2)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    side = int(rng.integers(4))
    gradient = [xs / w, 1 - xs / w, ys / h, 1 - ys / h][side]
    level = 0.8 * field + 3.0 * gradient
    inside = np.zeros((h, w), dtype=bool)
    inside[y0:y1, x0:x1] = True
    land = inside & (level > 2.1)
    water = inside & ~land
    pixels = np.empty((h, w, 3), dtype=np.uint8)
    pixels[:] = pal.paper
    sea: RGB = tuple(int(0.45 * a + 0.55 * b) for a, b in zip(pal.water, pal.paper, strict=True))  # type: ignore[assignment]
    pixels[water] = sea
    pixels[land] = pal.land
    shallow = water & (level > 1.6)
    pixels[shallow] = pal.water
    # hand colouring washes the coast and the borders ashore; its own generator keeps the rest of
    # the drawing identical across colour schemes
    wash_rng = np.random.default_rng(int(rng.integers(2**62)))
    if not pal.fill_regions:
        _colour_land(canvas, pixels, land, 3, wash_rng)
    _relief(canvas, pixels, land)
    dotted = ((xs.astype(np.int32) + ys.astype(np.int32)) % canvas.px(4)) == 0
    for depth in (1.6, 1.1):
        pixels[dilate(isoline(level, depth), canvas.px(1)) & water & dotted] = pal.faint_ink
    pixels[outline(land)] = pal.ink
    coast_band = dilate(outline(land), canvas.px(5)) & land
    pixels[coast_band & dotted] = pal.faint_ink  # stippled shore
    _paint(canvas, pixels)
    canvas.land, canvas.water = land, water
    draw = canvas.draw
    colours = (
        [pal.accents[0], pal.accents[3], pal.ink]
        if pal.fill_regions
        else [pal.regions[0], pal.regions[1], pal.faint_ink]
    )
    for _ in range(int(rng.integers(1, 3))):
        hub_x, hub_y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        for k in range(16):
            angle = k * math.pi / 8
            reach = w + h
            draw.line(
                [
                    (hub_x, hub_y),
                    (hub_x + math.cos(angle) * reach, hub_y + math.sin(angle) * reach),
                ],
                fill=colours[k % len(colours)],
                width=1,
            )
    # rhumb lines run to the neat line, not into the margin
    canvas.paste_array(
        np.where(inside[..., None], np.asarray(canvas.image), np.array(pal.paper, dtype=np.uint8))
    )
    draw = canvas.draw
    size = canvas.px(6)
    for x, y in sample_points(
        rng, water, int(55 * w * h / (384 * 300) * canvas.lettering_density), margin=size * 2
    ):
        depth = int(abs(level[y, x] - 2.1) * 9) + int(rng.integers(0, 4))
        letter(canvas, (x, y), str(depth), size, pal.ink, anchor="mm", area=water)
    draw_labels(
        canvas,
        label_count(canvas.attributes["text_density"], w, h, canvas.lettering_density),
        land,
        canvas.px(7),
    )
    _pictorial_hills(canvas, land, 20)


def birds_eye_view(canvas: Canvas) -> None:
    """An oblique view of a town: sky, distant hills,
    a river, streets converging, rows of houses."""
    pal, rng = canvas.palette, canvas.rng
    w, h = canvas.width, canvas.height
    x0, y0, x1, y1 = canvas.frame
    horizon = int(y0 + (y1 - y0) * rng.uniform(0.2, 0.3))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    pixels = np.empty((h, w, 3), dtype=np.uint8)
    pixels[:] = pal.paper
    inside = np.zeros((h, w), dtype=bool)
    inside[y0:y1, x0:x1] = True
    sky = inside & (ys < horizon)
    t = np.clip((ys - y0) / max(1, horizon - y0), 0, 1)[..., None]
    sky_top = np.array(pal.water, dtype=np.float32)
    sky_colour = (sky_top * (1 - t) + np.array(pal.paper, dtype=np.float32) * t).astype(np.uint8)
    pixels[sky] = sky_colour[sky]
    ground: RGB = pal.park if pal.fill_regions else pal.land
    ridge = horizon - (
        np.abs(smooth_noise(rng, w, 1, 6, octaves=1)[0])
        * canvas.px(14 if canvas.attributes["relief"] == "pictorial" else 3)
    )
    hills = inside & (ys >= ridge[None, :]) & (ys < horizon + canvas.px(4))
    hill_colour: RGB = tuple(int(c * 0.8) for c in ground)  # type: ignore[assignment]
    pixels[hills] = hill_colour
    pixels[inside & (ys >= horizon + canvas.px(4))] = ground
    # the river: a band widening toward the viewer
    vanish_x = rng.uniform(x0 + (x1 - x0) * 0.3, x0 + (x1 - x0) * 0.7)
    river_start = rng.uniform(x0, x1)
    depth = np.clip((ys - horizon) / max(1, y1 - horizon), 0, 1)
    river_x = vanish_x + (river_start - vanish_x) * depth
    water = (
        inside & (ys > horizon) & (np.abs(xs - river_x) < canvas.px(2) + depth * (x1 - x0) * 0.08)
    )
    pixels[water] = pal.water
    _paint(canvas, pixels)
    canvas.land, canvas.water = inside & ~water & ~sky, water
    draw = canvas.draw
    # streets converge on the vanishing point
    for k in range(-6, 7):
        bottom_x = vanish_x + k * (x1 - x0) * 0.16
        draw.line(
            [(vanish_x + k * canvas.px(3), horizon + canvas.px(4)), (bottom_x, y1)],
            fill=pal.paper,
            width=canvas.px(1.5),
        )
    # rows of houses, far (small) to near (large)
    roofs = (
        [pal.accents[0], (110, 100, 96), (150, 70, 50)]
        if pal.fill_regions
        else [pal.faint_ink, pal.regions[0]]
    )
    walls = [(236, 226, 200), (220, 200, 170), (200, 170, 140)] if pal.fill_regions else [pal.paper]
    rows = 9
    for row in range(rows):
        d = (row + 1) / rows
        y = horizon + canvas.px(4) + (y1 - horizon) * d * d
        size = canvas.px(3) + d * canvas.px(16)
        x = x0 + rng.uniform(0, size)
        while x < x1 - size:
            row_river = vanish_x + (river_start - vanish_x) * ((y - horizon) / max(1, y1 - horizon))
            if (
                abs(x - row_river)
                > size + canvas.px(2) + ((y - horizon) / max(1, y1 - horizon)) * (x1 - x0) * 0.08
                and rng.random() < 0.85
            ):
                bw, bh = size * rng.uniform(0.7, 1.2), size * rng.uniform(0.6, 1.4)
                wall = walls[int(rng.integers(len(walls)))]
                roof = roofs[int(rng.integers(len(roofs)))]
                outline_colour = pal.ink if d > 0.35 else None
                draw.rectangle((x, y - bh, x + bw, y), fill=wall, outline=outline_colour)
                draw.polygon(
                    [
                        (x - size * 0.1, y - bh),
                        (x + bw / 2, y - bh - size * 0.5),
                        (x + bw + size * 0.1, y - bh),
                    ],
                    fill=roof,
                    outline=outline_colour,
                )
                if d > 0.5:
                    for wx in range(2):
                        draw.rectangle(
                            (
                                x + bw * (0.2 + 0.45 * wx),
                                y - bh * 0.7,
                                x + bw * (0.35 + 0.45 * wx),
                                y - bh * 0.45,
                            ),
                            fill=pal.ink,
                        )
            elif rng.random() < 0.5 and not water[min(h - 1, int(y)), min(w - 1, int(x))]:
                r = size * 0.35
                draw.ellipse(
                    (x, y - 2 * r, x + 2 * r, y),
                    fill=(70, 120, 60) if pal.fill_regions else pal.faint_ink,
                )
            x += size * rng.uniform(1.05, 1.5)
    count = label_count(canvas.attributes["text_density"], w, h, canvas.lettering_density)
    draw_labels(canvas, count, canvas.land & (ys > horizon), canvas.px(7), dot=False)
    name = drawable(canvas.title)[:40]
    letter(canvas, ((x0 + x1) / 2, y1 - canvas.px(8)), name, canvas.px(11), pal.ink, anchor="mm")


PAINTERS = {
    "world_map": world_map,
    "regional_map": regional_map,
    "city_plan": city_plan,
    "nautical_chart": nautical_chart,
    "birds_eye_view": birds_eye_view,
}
