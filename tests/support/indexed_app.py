"""A small real collection for API, CLI and pipeline tests: PNG maps drawn in a few colours, their
records, and a deterministic colour embedder (a model whose right answers are known)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from flask import Flask
from PIL import Image, ImageDraw

from indexer.pipeline import index_records
from indexer.records import ImageRef, MapRecord, Place
from webapi.app import create_app
from webapi.services import services_of

# colour word -> RGB of the map's land
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (200, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 60, 200),
    "gray": (128, 128, 128),
}
WORD_DIMS = {"red": 0, "green": 1, "blue": 2, "gray": 3, "grayscale": 3}
DIMS = 8


def _unit(vector: np.ndarray) -> np.ndarray:
    return (vector / np.linalg.norm(vector)).astype(np.float32)


class ColourEmbedder:
    """Images → how red/green/blue/gray they are; texts
    → their colour words (other words hashed)."""

    model_id = "test-colour-v1"
    dims = DIMS

    def __init__(self) -> None:
        self.images_embedded = 0

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        rows = []
        for image in images:
            pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
            # how far each channel rises above the pixel's own gray level: the map's hue
            excess = np.clip(pixels - pixels.mean(axis=-1, keepdims=True), 0, None).mean(
                axis=(0, 1)
            )
            saturation = float((pixels.max(axis=-1) - pixels.min(axis=-1)).mean())
            vector = np.zeros(DIMS, dtype=np.float32)
            vector[:3] = excess * 10
            vector[3] = max(0.0, 0.1 - saturation) * 10
            vector[4:] = 0.05
            rows.append(_unit(vector))
            self.images_embedded += 1
        return np.stack(rows)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            vector = np.full(DIMS, 0.01, dtype=np.float32)
            for word in text.lower().split():
                if word in WORD_DIMS:
                    vector[WORD_DIMS[word]] += 1.0
                elif word != "map":
                    vector[4 + int(hashlib.md5(word.encode()).hexdigest(), 16) % 4] += 0.3
            rows.append(_unit(vector))
        return np.stack(rows)

    def embed_query_text(self, text: str) -> np.ndarray:
        return self.embed_texts([text])[0]


def draw_map(
    colour: tuple[int, int, int], seed: int, size: tuple[int, int] = (96, 72)
) -> Image.Image:
    """A toy map: pale sea, a coloured island, a few dark 'roads'."""
    rng = np.random.default_rng(seed)
    image = Image.new(
        "RGB", size, (235, 235, 225) if colour != COLOURS["gray"] else (220, 220, 220)
    )
    draw = ImageDraw.Draw(image)
    w, h = size
    x0, y0 = int(rng.integers(2, w // 4)), int(rng.integers(2, h // 4))
    draw.ellipse(
        (x0, y0, w - int(rng.integers(2, w // 4)), h - int(rng.integers(2, h // 4))), fill=colour
    )
    for _ in range(3):
        draw.line(tuple(int(v) for v in rng.integers(0, min(w, h), 4)), fill=(30, 30, 30), width=1)
    return image


def make_collection(data_dir: Path, per_colour: int = 3) -> list[MapRecord]:
    """Write images under ``data_dir/images`` and return their records, plus one record whose image
    file is corrupt and one without any image."""
    images = data_dir / "images"
    images.mkdir(parents=True, exist_ok=True)
    records = []
    places = {"red": "Mars", "green": "Ireland", "blue": "Pacific Ocean", "gray": "London"}
    for colour_index, (word, rgb) in enumerate(COLOURS.items()):
        for n in range(per_colour):
            slug = f"{word}-{n}"
            draw_map(rgb, seed=colour_index * 100 + n).save(images / f"{slug}.png")
            records.append(
                MapRecord(
                    id=f"test:{slug}",
                    source="test",
                    title=f"A {word} map of {places[word]} number {n}",
                    subjects=["Sea monsters" if word == "blue" else "Roads"],
                    places=[Place(name=places[word])],
                    date=str(1700 + 50 * colour_index + n),
                    year_start=1700 + 50 * colour_index + n,
                    image=ImageRef(url=f"images/{slug}.png"),
                )
            )
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    records.append(
        MapRecord(
            id="test:broken",
            source="test",
            title="A map whose scan is corrupt",
            image=ImageRef(url="images/broken.png"),
        )
    )
    records.append(
        MapRecord(
            id="test:noimage",
            source="test",
            title="A catalogued map without a scan",
            subjects=["Roads"],
            year_start=1900,
        )
    )
    return records


@contextmanager
def indexed_app(data_dir: Path, **config: object) -> Iterator[Flask]:
    """An app whose index holds the test collection (12 maps with vectors, 1 broken, 1 without
    image), embedded by the colour embedder; `config` adds app settings."""
    app = create_app({"data_dir": data_dir, "TESTING": True, **config})
    services = services_of(app)
    embedder = ColourEmbedder()
    services.use_embedder(embedder)
    records = make_collection(services.settings.data_dir)
    index_records(
        records, settings=services.settings, backend=services.backend, embedder=services.embedder
    )
    try:
        yield app
    finally:
        services.close()
