"""A ten-map corpus with hand-made 4-d vectors whose right answers are worked out by hand, and a
fake embedder that maps known texts and solid-colour images to known vectors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from indexer.records import Extent, ImageRef, IndexDocument, MapRecord, Place

MODEL_ID = "fake-4d"
# Axes of the toy embedding space.
SEA, CITY, GRAY, COLOR = np.eye(4, dtype=np.float32)

TEXT_VECTORS: dict[str, np.ndarray] = {
    "sea monsters": SEA,
    "sea": SEA,
    "paris": CITY,
    "gray": GRAY,
    "color": COLOR,
    "atlas": np.array([0.5, 0.5, 0.5, 0.5], np.float32),
    # a word no map holds: its cosine with every map is <= 0 (below any sensible bar)
    "zzzqqq": np.array([-0.5, -0.5, -0.5, -0.5], np.float32),
}
# Solid-colour example images stand for one axis each.
IMAGE_COLOURS: dict[tuple[int, int, int], np.ndarray] = {
    (255, 0, 0): COLOR,
    (128, 128, 128): GRAY,
    (0, 0, 255): SEA,
}


def _vector(*values: float) -> np.ndarray:
    vector = np.array(values, np.float32)
    return vector / np.linalg.norm(vector)


def _doc(
    doc_id: str,
    title: str,
    vector: np.ndarray | None,
    *,
    subjects: Sequence[str] = (),
    places: Sequence[str] = (),
    collection: str,
    fmt: str,
    language: str,
    source: str,
    years: tuple[int, int] | None,
    extent: tuple[float, float, float, float] | None,
    item_id: str | None = None,
    contributors: Sequence[str] = (),
    description: str = "",
    revision: int = 1,
) -> IndexDocument:
    record = MapRecord(
        id=doc_id,
        item_id=item_id,
        source=source,
        title=title,
        subjects=list(subjects),
        places=[Place(name=p) for p in places],
        collections=[collection],
        formats=[fmt],
        languages=[language],
        contributors=list(contributors),
        description=description,
        date=None if years is None else f"{years[0]}-{years[1]}",
        year_start=None if years is None else years[0],
        year_end=None if years is None else years[1],
        extent=None
        if extent is None
        else Extent(west=extent[0], south=extent[1], east=extent[2], north=extent[3]),
        image=None if vector is None else ImageRef(url=f"https://example.org/{doc_id}.jpg"),
        revision=revision,
    )
    return IndexDocument(
        record=record, vector=vector, model_id=MODEL_ID if vector is not None else None
    )


def corpus() -> list[IndexDocument]:
    """The ten maps; every expected answer in this suite is worked out from these values."""
    return [
        _doc(
            "c:01",
            "Sea monsters of the northern ocean",
            _vector(1, 0, 0, 0),
            subjects=["Sea monsters", "Nautical charts"],
            places=["Norway"],
            collection="Carta Marina",
            fmt="Manuscript maps",
            language="lat",
            source="loc",
            years=(1539, 1539),
            extent=(0, 55, 30, 75),
        ),
        _doc(
            "c:02",
            "Chart of the coast of Norway",
            _vector(0.8, 0, 0.6, 0),
            subjects=["Nautical charts"],
            places=["Norway"],
            collection="Coastal Survey",
            fmt="Printed maps",
            language="eng",
            source="loc",
            years=(1700, 1710),
            extent=(4, 57, 12, 71),
        ),
        _doc(
            "c:03",
            "Plan of the city of Paris",
            _vector(0, 1, 0, 0),
            description="Plan de la ville de Paris, dressé par l'Académie royale des Sciences",
            subjects=["City plans"],
            places=["Paris"],
            collection="City Plans",
            fmt="Printed maps",
            language="fre",
            source="bnf",
            years=(1790, 1790),
            extent=(2.2, 48.8, 2.5, 48.9),
        ),
        _doc(
            "c:04",
            "Paris street guide",
            _vector(0, 0.6, 0, 0.8),
            subjects=["City plans"],
            places=["Paris"],
            collection="City Plans",
            fmt="Printed maps",
            language="fre",
            source="bnf",
            years=(1890, 1890),
            extent=(2.2, 48.8, 2.5, 48.9),
        ),
        _doc(
            "c:05",
            "Sea chart of the Pacific",
            _vector(0.6, 0, 0, 0.8),
            subjects=["Nautical charts"],
            places=["Pacific Ocean"],
            collection="Coastal Survey",
            fmt="Printed maps",
            language="eng",
            source="loc",
            years=(1800, 1800),
            extent=(150, -30, -120, 30),
        ),  # crosses the antimeridian
        _doc(
            "c:06",
            "World atlas sheet one",
            _vector(0.5, 0.5, 0.5, 0.5),
            subjects=["World maps"],
            places=["World"],
            collection="Atlases",
            fmt="Printed maps",
            language="eng",
            source="loc",
            years=(1850, 1850),
            extent=(-180, -90, 180, 90),
            item_id="c:atlas",
        ),
        _doc(
            "c:07",
            "World atlas sheet two",
            _vector(0.5, 0.5, 0.5, 0.5),
            subjects=["World maps"],
            places=["World"],
            collection="Atlases",
            fmt="Printed maps",
            language="eng",
            source="loc",
            years=(1850, 1850),
            extent=(-180, -90, 180, 90),
            item_id="c:atlas",
        ),
        _doc(
            "c:08",
            "Monsters and ships",
            None,
            subjects=["Sea monsters"],
            places=["Atlantic Ocean"],
            collection="Carta Marina",
            fmt="Manuscript maps",
            language="lat",
            source="loc",
            years=(1600, 1600),
            extent=None,
        ),
        _doc(
            "c:09",
            "Map of London",
            _vector(0, 0.8, 0.6, 0),
            subjects=["City plans"],
            places=["London"],
            collection="City Plans",
            fmt="Printed maps",
            language="eng",
            source="bnf",
            years=None,
            extent=(-0.5, 51.3, 0.3, 51.7),
        ),
        _doc(
            "c:10",
            "Gray survey of the harbour",
            _vector(0, 0, 1, 0),
            subjects=["Harbors"],
            places=["Boston"],
            collection="Coastal Survey",
            fmt="Printed maps",
            language="eng",
            source="loc",
            years=(1775, 1775),
            extent=(-71.1, 42.3, -70.9, 42.4),
            contributors=["John Paris"],
        ),
    ]


ALL_IDS = [f"c:{n:02d}" for n in range(1, 11)]


class FakeEmbedder:
    """Deterministic embedder over TEXT_VECTORS / IMAGE_COLOURS; counts its calls."""

    dims = 4

    def __init__(self, model_id: str = MODEL_ID) -> None:
        self.model_id = model_id
        self.calls = 0

    def embed_query_text(self, text: str) -> np.ndarray:
        self.calls += 1
        return TEXT_VECTORS[text.lower()].copy()

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.embed_query_text(t) for t in texts])

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        self.calls += 1
        return np.stack(
            [IMAGE_COLOURS[image.convert("RGB").getpixel((0, 0))].copy() for image in images]
        )  # type: ignore[index]


def solid_image(colour: tuple[int, int, int]) -> Image.Image:
    """A small solid-colour example image."""
    return Image.new("RGB", (8, 8), colour)
