"""The contract every backend fulfils: write documents, and answer one search request with
ranked lists, a result-set total and facet counts. Fusion, paging and sorting of the fused list
happen once, above the backends (webapi.search), so every backend ranks identically."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from indexer.error_samples import keep_sample
from indexer.records import IndexDocument
from indexer.search_surface import DEFAULT_FACET_SIZE, DEFAULT_PAGE_SIZE, FoundIn, Sort


class BackendError(Exception):
    """The backend cannot answer (down, unreachable, misconfigured): the API maps this to 503."""


class IndexNotWritable(BackendError):
    """A write failed for a reason outside the request: disk full, a read-only data directory,
    or the database locked by another writer. Nothing was committed; the run can be resumed."""


class ModelMismatchError(Exception):
    """The index was built with a different model than the one asked to query it."""


@dataclass(frozen=True)
class FoundInFilter:
    """Keep the documents the keyword list matches for ``text`` whose words were found where
    ``where`` says (OR-ed): ``catalogue`` (in the record only), ``map`` (on the map only),
    ``both``. Documents the words do not match, e.g. semantic-only hits, never pass."""

    text: str
    where: tuple[FoundIn, ...]


@dataclass(frozen=True)
class Filters:
    """Filters applied identically to every list and to the facets.

    ``terms`` holds the values asked for per terms facet (``indexer.search_surface.FACETS``, by
    name): within a facet values are OR-ed; across facets and the other filters AND-ed. A year
    range keeps documents whose [year_start, year_end] overlaps it (undated documents are
    dropped). A bbox (W, S, E, N) keeps documents whose extent intersects it (documents without
    extent dropped).
    """

    year_from: int | None = None
    year_to: int | None = None
    terms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    bbox: tuple[float, float, float, float] | None = None
    has_image: bool | None = None
    ids: tuple[str, ...] = ()  # restrict to these ids (empty = no restriction)
    found_in: FoundInFilter | None = None  # where the query's words were found


RegionCombine = Literal["max", "blend"]


@dataclass(frozen=True)
class BackendQuery:
    """One search as a backend sees it. ``text`` drives the keyword list, ``vector`` the semantic
    list; with neither it is a browse (every document passing the filters)."""

    text: str | None = None
    vector: np.ndarray | None = None  # unit-norm float32
    filters: Filters = field(default_factory=Filters)
    num_candidates: int = 1000  # k of the semantic list, and the keyword list's window
    min_similarity: float | None = None
    # regions (docs/regions.md): a map's semantic score also weighs its best region
    regions: bool = True
    region_combine: RegionCombine = "blend"
    region_weight: float = 0.4  # "blend": weight × best region + (1 − weight) × whole map
    facets: tuple[str, ...] = ()
    facet_size: int = DEFAULT_FACET_SIZE
    # browse only (no text, no vector): the backend sorts and pages itself
    browse_sort: Sort = "title"
    browse_offset: int = 0
    browse_limit: int = DEFAULT_PAGE_SIZE


@dataclass(frozen=True)
class RegionMatch:
    """One region of a semantic hit: its box (x, y, w, h in full-resolution pixels of the
    source image), grid level (tiles per side) and cosine similarity with the query."""

    box: tuple[int, int, int, int]
    level: int
    score: float


@dataclass(frozen=True)
class ListHit:
    """One entry of a ranked list, with the keys the service needs to collapse and sort."""

    id: str
    score: float  # BM25 for keyword, cosine similarity for semantic
    item_id: str
    year_start: int | None
    title: str
    # semantic hits of an index with regions: the parts of ``score`` and the best regions
    whole_score: float | None = None
    region_score: float | None = None
    region_rank: int | None = None  # rank of the map in the list ranked by best region alone
    regions: tuple[RegionMatch, ...] = ()


@dataclass
class BackendResult:
    """Ranked lists, the exact size of the result set, and facet counts over it."""

    keyword: list[ListHit] = field(default_factory=list)  # best first, ties by id
    semantic: list[ListHit] = field(default_factory=list)  # best first, ties by id
    browse: list[ListHit] = field(default_factory=list)  # the requested page of a browse
    total: int = 0  # |keyword matches ∪ semantic top-k| after filters; browse: all matching
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # count desc, value asc
    # Set when the semantic hits carry their scores but not their best regions (Elasticsearch:
    # the boxes of a whole window of maps cost more than the ranked lists): the regions of the
    # hits a page shows are scored against this query vector from their fetched documents
    # (``region_matches.with_regions``). None: every semantic hit carries its regions.
    region_query: np.ndarray | None = None


@dataclass
class WriteReport:
    """Outcome of a bulk write; failures are kept, never silently dropped."""

    written: int = 0
    skipped_stale: int = 0  # older revision than what is stored
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # a sample, "id: reason"

    def fail(self, doc_id: str, reason: str) -> None:
        """Count one document that was not written, keeping a sample of reasons."""
        self.failed += 1
        keep_sample(self.errors, f"{doc_id}: {reason}")


@dataclass(frozen=True)
class IndexInfo:
    """What staff see on the status page."""

    backend: str
    name: str  # alias or file path
    physical: str | None
    documents: int
    with_vectors: int
    model_id: str | None
    dims: int | None
    mapping_version: int | None = None


@runtime_checkable
class SearchBackend(Protocol):
    """Storage and retrieval primitives; see DESIGN.md "Query semantics"."""

    name: str

    def write(self, docs: Iterable[IndexDocument]) -> WriteReport:
        """Upsert documents, versioned by ``record.revision`` (older revisions never win)."""
        ...

    def delete(self, ids: Sequence[str]) -> int:
        """Remove documents; returns how many existed."""
        ...

    def search(self, query: BackendQuery) -> BackendResult:
        """Ranked lists + total + facets for one query."""
        ...

    def fetch(self, ids: Sequence[str]) -> dict[str, IndexDocument]:
        """Full documents (vectors included) for these ids; missing ids are absent."""
        ...

    def get_vector(self, doc_id: str) -> np.ndarray | None:
        """The stored image vector of one document, or None."""
        ...

    def info(self) -> IndexInfo:
        """Counts, model id, dims, physical name."""
        ...

    def model_id(self) -> str | None:
        """The model that made the stored vectors (None while the index has none)."""
        ...

    def refresh(self) -> None:
        """Make writes visible to searches (no-op where already so)."""
        ...

    def close(self) -> None:
        """Release files and connections."""
        ...


# ---- the index lifecycle: one implementation per backend, built by ``open_lifecycle`` ----------

# Progress of a copy: (documents copied so far, total).
LifecycleProgress = Callable[[int, int], None]
# A page of stored documents → the documents to write instead (same ids; a model change re-embeds).
DocumentRewrite = Callable[[list[IndexDocument]], list[IndexDocument]]


class LifecycleError(RuntimeError):
    """A lifecycle step cannot run or did not complete; the serving index is untouched."""


class LifecycleLocked(LifecycleError):
    """Another reindex, restore or cleanup holds the index's lock."""


@dataclass(frozen=True)
class LifecycleStatus:
    """What ``mapsearch index status`` prints, the same keys on every backend."""

    backend: str
    alias: str  # the stable name readers use (ES alias, or the embedded alias path)
    current: str | None  # the physical index behind it (None: no index yet)
    documents: int
    with_vectors: int
    mapping_version: int | None
    analysis: str | None
    model_id: str | None
    dims: int | None
    leftovers: list[str]
    reindex_running: dict[str, object] | None


@dataclass(frozen=True)
class ReindexOutcome:
    """What a finished reindex did; ``caught_up``/``deletes_caught_up`` are the writes and deletes
    that arrived while it copied and were carried into the new index before the swap."""

    old_index: str | None
    new_index: str
    copied: int
    mapping_version: int
    caught_up: int = 0
    deletes_caught_up: int = 0
    documents: int = 0  # in the new index at the swap
    writes_blocked_s: float = 0.0  # how long writers waited for the last catch-up and the swap


@dataclass(frozen=True)
class BackupOutcome:
    """One backup written or restored: where, its name, how many documents it holds."""

    location: str
    name: str
    documents: int
    index: str  # the physical index it came from (backup) or now serves (restore)


class IndexLifecycle(Protocol):
    """Create, inspect, rebuild, clean up and back up one backend's index behind its alias."""

    backend: str
    name: str  # the stable name readers use: the ES alias, or the embedded alias path
    discardable: bool  # whether ``discard`` may drop the index (the demo starts afresh)

    def exists(self) -> bool:
        """Whether an index exists behind the alias (a query would not create one)."""
        ...

    def create(self, mapping_version: int | None = None, dims: int | None = None) -> str | None:
        """Create the first physical index behind the alias; None when one already exists."""
        ...

    def status(self) -> LifecycleStatus:
        """Alias, live physical index, counts, mapping, model, leftovers, running reindex."""
        ...

    def reindex(
        self,
        mapping_version: int | None = None,
        progress: LifecycleProgress | None = None,
        rewrite: DocumentRewrite | None = None,
        model: tuple[str, int] | None = None,
        page_size: int | None = None,
    ) -> ReindexOutcome:
        """Copy (or, with ``rewrite`` and ``model``, re-embed) into a new physical index, carry
        over the writes made meanwhile, verify, swap the alias, drop the old index."""
        ...

    def cleanup(self) -> list[str]:
        """Delete physical indices behind no alias (refused while a reindex runs)."""
        ...

    def discard(self) -> None:
        """Delete the index behind the alias and the
        alias itself (the demo rebuilds from scratch)."""
        ...

    def backup(self, location: str, name: str | None = None) -> BackupOutcome:
        """Write a consistent copy of the serving index to ``location`` while it serves."""
        ...

    def restore(self, location: str, name: str | None = None) -> BackupOutcome:
        """Put a backup (the newest in ``location`` unless ``name``) behind the alias atomically."""
        ...

    def close(self) -> None:
        """Release files and connections."""
        ...
