"""In-process indexing: records in batches → images loaded and hashed → vectors embedded (or reused
when the image hash and model are unchanged) → documents written. A bad image costs its record
the vector, never the batch; the Celery tasks call the same batch function."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from more_itertools import chunked
from PIL import Image

from indexer.backends.base import SearchBackend
from indexer.error_samples import keep_sample, keep_samples
from indexer.records import IndexDocument, MapRecord
from indexer.settings import Settings

if TYPE_CHECKING:  # the embedder module imports torch; metadata-only runs never need it
    from indexer.embedder import Embedder

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]


@dataclass
class IndexReport:
    """What one indexing run did; failures are counted and sampled, never silent."""

    seen: int = 0
    indexed: int = 0
    with_vector: int = 0
    embedded: int = 0  # vectors computed in this run
    regions_embedded: int = 0  # region tiles embedded in this run
    maps_with_new_regions: int = 0  # maps whose regions were (re)computed in this run
    reused_vectors: int = 0  # (image hash, model id) unchanged: stored vector kept
    without_image: int = 0  # records that name no image
    images_skipped: int = 0  # records with an image that a metadata-only run did not load
    image_failures: int = 0
    image_failure_samples: list[str] = field(default_factory=list)
    skipped_stale: int = 0
    write_failures: int = 0
    write_failure_samples: list[str] = field(default_factory=list)

    def add(self, other: IndexReport) -> None:
        """Accumulate another (batch) report into this one."""
        for name in (
            "seen",
            "indexed",
            "with_vector",
            "embedded",
            "regions_embedded",
            "maps_with_new_regions",
            "reused_vectors",
            "without_image",
            "images_skipped",
            "image_failures",
            "skipped_stale",
            "write_failures",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        keep_samples(self.image_failure_samples, other.image_failure_samples)
        keep_samples(self.write_failure_samples, other.write_failure_samples)

    def summary(self) -> str:
        """One line for a CLI or a job log."""
        regions = (
            f"; {self.regions_embedded} regions embedded for {self.maps_with_new_regions} maps"
            if self.maps_with_new_regions
            else ""
        )
        return (
            f"{self.indexed} indexed ({self.with_vector} with a vector: {self.embedded} embedded, "
            f"{self.reused_vectors} reused{regions}), {self.without_image} without image, "
            f"{self.images_skipped} images not loaded (metadata only), "
            f"{self.image_failures} image failures, {self.write_failures} write failures, "
            f"{self.skipped_stale} stale"
        )


def image_content_hash(image: Image.Image) -> str:
    """sha256 of the decoded pixels (mode and size included): stable across re-encodings of a
    file's container, so an unchanged picture keeps its vector."""
    digest = hashlib.sha256()
    digest.update(f"{image.mode}:{image.width}x{image.height}:".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def index_records(
    records: Iterable[MapRecord],
    *,
    settings: Settings,
    backend: SearchBackend,
    embedder: Embedder | None,
    with_images: bool = True,
    progress: Progress | None = None,
    total: int | None = None,
) -> IndexReport:
    """Index ``records`` in batches of ``settings.pipeline_batch_size``; ``progress(done, total)``
    after each batch (total: ``len(records)`` when known)."""
    if total is None and isinstance(records, Sequence):
        total = len(records)
    report = IndexReport()
    for batch in chunked(records, settings.pipeline_batch_size):
        report.add(
            index_batch(
                batch,
                settings=settings,
                backend=backend,
                embedder=embedder,
                with_images=with_images,
            )
        )
        if progress is not None:
            progress(report.seen, total)
    backend.refresh()
    return report


def index_batch(
    records: Sequence[MapRecord],
    *,
    settings: Settings,
    backend: SearchBackend,
    embedder: Embedder | None,
    with_images: bool = True,
) -> IndexReport:
    """Load, embed and write one batch (the unit a pipeline task runs)."""
    report = IndexReport(seen=len(records))
    stored = backend.fetch([record.id for record in records])
    images = load_images(records, settings) if with_images and embedder is not None else None
    docs = build_documents(
        records,
        stored,
        settings=settings,
        embedder=embedder,
        with_images=with_images,
        report=report,
        images=images,
    )
    written = backend.write(docs)
    report.indexed = written.written
    report.skipped_stale = written.skipped_stale
    report.write_failures = written.failed
    keep_samples(report.write_failure_samples, written.errors)
    return report


LoadedImages = dict[str, "Image.Image | Exception"]  # record id → decoded image, or why it failed


def load_images(
    records: Sequence[MapRecord], settings: Settings, *, workers: int | None = None
) -> LoadedImages:
    """Fetch and decode the images of ``records`` on a thread pool (network waits and Pillow's
    decoders release the GIL), so loading overlaps embedding; a failure is kept per record."""
    targets = [record for record in records if record.has_image]

    def one(record: MapRecord) -> tuple[str, Image.Image | Exception]:
        try:
            return record.id, _load(record, settings)
        except Exception as exc:  # reported by build_documents, like a failure there
            return record.id, exc

    if not targets:
        return {}
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(
        max_workers=min(workers or settings.image_fetch_workers, len(targets))
    ) as pool:
        return dict(pool.map(one, targets))


def build_documents(
    records: Sequence[MapRecord],
    stored: dict[str, IndexDocument],
    *,
    settings: Settings,
    embedder: Embedder | None,
    with_images: bool,
    report: IndexReport,
    images: LoadedImages | None = None,
) -> list[IndexDocument]:
    """IndexDocuments for a batch: vectors reused, embedded, or absent (with the reason reported).
    ``images``: already loaded by ``load_images`` (the pipeline prefetches); else loaded here."""
    docs = {record.id: IndexDocument(record=record) for record in records}
    to_embed: list[tuple[str, Image.Image, str]] = []  # (id, image, hash)
    sheets: dict[str, Image.Image] = {}  # decoded sheets whose regions may need embedding
    model_id = (
        embedder.model_id
        if (with_images and embedder is not None and any(r.has_image for r in records))
        else None
    )

    for record in records:
        doc, previous = docs[record.id], stored.get(record.id)
        _keep_previous_map_text(record, previous)
        if not record.has_image:
            report.without_image += 1
            continue
        if not with_images or embedder is None:
            report.images_skipped += 1
            _keep_previous_vector(doc, previous)  # an import without images never drops a vector
            continue
        try:
            preloaded = images.get(record.id) if images is not None else None
            if isinstance(preloaded, Exception):
                raise preloaded
            if preloaded is not None:  # loaded elsewhere (a prefetch) from another copy
                _name_manifest_image(record, settings)
            image = preloaded if preloaded is not None else _load(record, settings)
            content_hash = image_content_hash(image)
            _make_thumbnail(record, image, content_hash, settings)
        except (
            Exception
        ) as exc:  # decoders raise anything on hostile files; the record still counts
            _image_failed(report, record.id, exc)
            _keep_previous_vector(doc, previous)  # a transient fetch failure must not wipe a vector
            continue
        sheets[record.id] = image
        if (
            previous is not None
            and previous.vector is not None
            and previous.image_hash == content_hash
            and previous.model_id == model_id
        ):
            _keep_previous_vector(doc, previous)
            report.reused_vectors += 1
            continue
        doc.image_hash = content_hash
        doc.regions = None  # another picture: its old regions must not be kept
        to_embed.append((record.id, image, content_hash))

    if to_embed and embedder is not None:
        for doc_id, vector in _embed(embedder, to_embed, report):
            docs[doc_id].vector = vector
            docs[doc_id].model_id = embedder.model_id
            report.embedded += 1
    if embedder is not None:
        _add_regions(docs, sheets, embedder, settings, report)
    report.with_vector = sum(1 for doc in docs.values() if doc.vector is not None)
    return list(docs.values())


def _make_thumbnail(
    record: MapRecord, image: Image.Image, content_hash: str, settings: Settings
) -> None:
    """Small renditions for result cards, when the image's server cannot make them; a failure
    costs the record its thumbnail (the card falls back to the image), never its vector."""
    from indexer.images.thumbnails import wants_thumbnail, write_thumbnails

    if not wants_thumbnail(record):
        return
    try:
        record.thumbnail_url = write_thumbnails(image, content_hash, settings.data_dir)
    except OSError as exc:
        log.warning("thumbnail of %s not written: %s", record.id, exc)


def _add_regions(
    docs: dict[str, IndexDocument],
    sheets: dict[str, Image.Image],
    embedder: Embedder,
    settings: Settings,
    report: IndexReport,
) -> None:
    """Give every map with a vector the regions of the configured grid: kept when made by the
    same grid, model and picture; embedded (tiles of all the batch's maps together) otherwise;
    an empty set for sheets too small to tile. Regions are added to a map without re-embedding
    its whole-map vector."""
    from indexer.region_set import RegionSet
    from indexer.regions.embed import RegionJob, embed_regions, region_grid, wants_regions

    grid = region_grid(settings)
    if grid is None:
        return
    jobs = []
    for doc_id, image in sheets.items():
        doc = docs[doc_id]
        if doc.vector is None:
            continue
        if doc.regions is not None and doc.regions.current(grid.spec):
            continue
        if wants_regions(doc.record, image, settings):
            jobs.append(RegionJob(doc.record, image))
        else:
            doc.regions = RegionSet.empty(grid.spec)
    for doc_id, regions in embed_regions(jobs, embedder, settings).items():
        if isinstance(regions, Exception):
            _image_failed(report, doc_id, regions)  # the map keeps its whole-map vector
            continue
        docs[doc_id].regions = regions
        report.regions_embedded += len(regions)
        report.maps_with_new_regions += 1


def needs_regions(doc: IndexDocument | None, settings: Settings) -> bool:
    """Whether a stored document lacks the configured grid's regions (a reindex adds them)."""
    from indexer.regions.embed import region_grid

    grid = region_grid(settings)
    if grid is None or doc is None or doc.vector is None:
        return False
    return doc.regions is None or not doc.regions.current(grid.spec)


def _name_manifest_image(record: MapRecord, settings: Settings) -> None:
    """A manifest-only record keeps the image its manifest names (the manifest JSON is cached):
    the stored record then has a thumbnail and a zoomable viewer instead of "No image"."""
    from indexer.images import resolve_manifest

    assert record.image is not None  # has_image checked by the caller
    record.image = resolve_manifest(record.image, settings)


def _load(record: MapRecord, settings: Settings) -> Image.Image:
    from indexer.images import load_image

    _name_manifest_image(record, settings)
    assert record.image is not None
    return load_image(record.image, settings, settings.data_dir)


def _keep_previous_vector(doc: IndexDocument, previous: IndexDocument | None) -> None:
    # the thumbnail made from the last loaded image goes with the vector made from it
    if previous is not None and doc.record.thumbnail_url is None:
        kept = previous.record.thumbnail_url
        if kept and kept.startswith("thumbnails/"):
            doc.record.thumbnail_url = kept
    if previous is not None and previous.vector is not None:
        doc.vector = previous.vector
        doc.model_id = previous.model_id
        doc.image_hash = previous.image_hash
        doc.regions = previous.regions


def _keep_previous_map_text(record: MapRecord, previous: IndexDocument | None) -> None:
    """A record harvested again keeps the words read from its (same) image: the catalogue does
    not know them, and reading them again is the costliest step."""
    if (
        previous is not None
        and previous.record.map_text_engine is not None
        and record.map_text_engine is None
        and previous.record.image == record.image
    ):
        record.map_text = previous.record.map_text
        record.map_text_engine = previous.record.map_text_engine


def _image_failed(report: IndexReport, doc_id: str, exc: BaseException) -> None:
    report.image_failures += 1
    reason = str(exc) or type(exc).__name__
    keep_sample(report.image_failure_samples, f"{doc_id}: {type(exc).__name__}: {reason[:200]}")
    log.info("image of %s not embedded: %s", doc_id, reason)


def _embed(
    embedder: Embedder, items: list[tuple[str, Image.Image, str]], report: IndexReport
) -> list[tuple[str, np.ndarray]]:
    """Embed a batch; if the batch fails, embed one
    by one so only the bad image loses its vector."""
    try:
        vectors = embedder.embed_images([image for _, image, _ in items])
        return [
            (doc_id, np.asarray(vectors[i], dtype=np.float32))
            for i, (doc_id, _, _) in enumerate(items)
        ]
    except Exception:  # one bad image must not cost the batch its vectors
        log.warning(
            "batch embedding failed; retrying the %d images one by one", len(items), exc_info=True
        )
    results = []
    for doc_id, image, _ in items:
        try:
            results.append(
                (doc_id, np.asarray(embedder.embed_images([image])[0], dtype=np.float32))
            )
        except Exception as exc:
            _image_failed(report, doc_id, exc)
    return results
