"""Typed settings read from ``MAPSEARCH_*`` environment
variables, built by a factory (never at import)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of mapsearch; environment variable = ``MAPSEARCH_`` + upper-case field name."""

    model_config = SettingsConfigDict(env_prefix="MAPSEARCH_", extra="forbid")

    # storage
    data_dir: Path = Field(
        default=Path("./mapsearch-data"),
        description="Where the embedded index, image cache and jobs live.",
    )
    backend: Literal["embedded", "elasticsearch"] = "embedded"

    # model: "demo" (the bundled synthetic-world CLIP),
    # "ViT-B-32-quickgelu:openai", or a checkpoint path
    model: str = "demo"
    device: str = Field(default="auto", description="'auto', 'cpu', 'cuda' or 'cuda:N'.")
    model_runtime: Literal["auto", "onnx", "torch"] = Field(
        default="auto",
        description=(
            "Inference engine: 'auto' = ONNX Runtime when the model has an ONNX export, else torch."
        ),
    )
    prompt_template: str = Field(
        default="{} map", description="Applied to text lacking the word 'map'."
    )
    text_cache_size: int = 4096
    model_download: bool = Field(
        default=False,
        description=(
            "Let the embedder download pretrained weights (off: the local Hugging Face cache only, "
            "failing at once)."
        ),
    )
    model_cache_dir: Path | None = Field(
        default=None,
        description="Where pretrained weights are cached (default: the Hugging Face cache).",
    )
    embed_batch_size: int = 32

    # search defaults
    # The window: depth of each ranked list and of paging. nDCG@10 on the demo gold set is the
    # same at 200, 500 and 1000 (docs/quality.md), and 200 stays on the embedded vector index.
    num_candidates: int = 200
    rrf_k: int = 60
    linear_alpha: float = 0.5
    min_similarity: float | None = Field(
        default=None,
        ge=-1,
        le=1,
        description="Similarity bar of text queries' semantic matches, overriding the model's "
        "calibration.json (docs/search.md); unset = the model's own bar.",
    )

    # regions (docs/regions.md): tiles of large sheets embedded beside the whole map
    region_grid: str = Field(
        default="2,4@0.25",
        description="Tile grid of region vectors: tiles per side of each level, then '@' and "
        "the overlap between neighbours (e.g. '2,4@0.25'); empty = no regions.",
    )
    region_min_side: int = Field(
        default=1200,
        ge=1,
        description="Sheets whose longer side (full resolution) is below this get no regions.",
    )
    region_min_spread: float = Field(
        default=6.0,
        ge=0,
        description="Tiles whose grey-level standard deviation (0-255) is below this are "
        "skipped as blank (margins, bare paper).",
    )
    region_combine: Literal["max", "blend"] = Field(
        default="blend",
        description="A map's semantic score: the best of its whole-map and region similarities "
        "('max'), or region_weight x best region + (1 - region_weight) x whole map ('blend').",
    )
    region_weight: float = Field(
        default=0.4, ge=0, le=1, description="The best region's weight in a 'blend'."
    )

    # elasticsearch
    es_url: str = "http://127.0.0.1:9200"
    es_prefix: str = "mapsearch"
    es_timeout: float = 30.0
    es_attach_config: Path | None = Field(
        default=None,
        description=(
            "TOML of an attached catalogue index (docs/elasticsearch.md); the backend then "
            "searches it."
        ),
    )

    # pipeline
    broker_url: str | None = Field(
        default=None, description="Redis URL; unset = run tasks in-process."
    )
    result_backend: str | None = None
    loc_base_url: str = "https://www.loc.gov"
    pipeline_batch_size: int = Field(
        default=64, ge=1, description="Records per harvest/embed/index batch."
    )
    broker_visibility_timeout: int = Field(
        default=3600,
        ge=1,
        description=(
            "Seconds before an unacknowledged task (dead worker) is redelivered; longer than the "
            "slowest batch."
        ),
    )
    task_max_retries: int = Field(
        default=8, ge=0, description="Retries of a task failing on a transient error."
    )
    task_retry_backoff: float = Field(
        default=5.0,
        gt=0,
        description="First retry delay in seconds; doubles per retry (with jitter).",
    )
    task_retry_backoff_max: float = Field(default=600.0, gt=0)
    image_fetch_workers: int = Field(
        default=8,
        ge=1,
        description=(
            "Threads fetching and decoding a batch's images while the model embeds the previous "
            "batch."
        ),
    )
    job_stall_timeout: float = Field(
        default=7200.0,
        gt=0,
        description=(
            "A running job without progress for this long is failed (its batches were lost)."
        ),
    )
    worker_preload_model: bool = Field(
        default=True,
        description=(
            "An embed worker loads the model as each process starts (off: on its first batch)."
        ),
    )

    job_workers: int = Field(
        default=2, ge=1, description="In-process jobs (no broker) that run at once in a web app."
    )
    job_queue_size: int = Field(
        default=8, ge=0, description="In-process jobs that may wait for a worker; then refused."
    )
    export_max_hits_anonymous: int = Field(
        default=200, ge=1, description="Hits an anonymous /export.* download may hold."
    )
    export_max_hits_staff: int = Field(
        default=1000, ge=1, description="Hits a staff (bearer token) export may hold."
    )
    sqlite_busy_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a write to the embedded index waits for another writer's lock.",
    )

    # images
    max_upload_bytes: int = 20 * 1024 * 1024
    upload_ttl_seconds: int = Field(
        default=24 * 3600,
        description="How long an uploaded example image (image_token) stays usable.",
    )
    upload_quota_bytes: int = Field(
        default=1024 * 1024 * 1024,
        gt=0,
        description="Live uploads (stored as bounded PNG) may take this much disk; then 507.",
    )
    local_image_roots: list[Path] = Field(
        default_factory=list,
        description="Folders besides the data directory that local image files may be read from.",
    )
    max_image_pixels: int = Field(
        default=100_000_000,
        description="Images of this many pixels or more are refused before decoding.",
    )
    max_whole_decode_pixels: int = Field(
        default=24_000_000,
        description="The same limit for formats decoded whole (PNG, TIFF, GIF, WebP, BMP).",
    )
    image_fetch_size: int = 1024
    # reading the words on map images (the pipeline's ocr stage; docs/map-text.md)
    ocr_engine: str = Field(
        default="rapidocr",
        description="OCR engine: rapidocr, tesseract, or module:factory for a plug-in engine.",
    )
    ocr_isolate: bool = Field(
        default=True,
        description="Run the OCR engine in a child process (reused for every image), so a "
        "native crash costs one image its words instead of killing the worker.",
    )
    ocr_fetch_size: int = Field(
        default=4096,
        ge=256,
        description="Longest side an image is fetched at for OCR (labels must stay legible).",
    )
    ocr_scale: float = Field(
        default=1.0, gt=0, le=4, description="Tile pixels per fetched pixel when reading text."
    )
    ocr_min_score: float = Field(
        default=0.6, ge=0, le=1, description="Words read with less confidence are dropped."
    )
    image_timeout: float = 30.0
    allow_private_urls: bool = Field(
        default=False,
        description="Let image URLs resolve to loopback/private addresses (tests only).",
    )
    url_allowlist: list[str] = Field(
        default_factory=list, description="If set, only these hosts may be fetched."
    )
    image_max_bytes: int = Field(
        default=40 * 1024 * 1024,
        ge=1,
        description="Largest fetched image body; bigger downloads are cut off.",
    )
    image_retries: int = Field(
        default=3, ge=0, description="Retries of an image fetch on connection errors and 429/5xx."
    )
    image_backoff: float = Field(
        default=0.5, ge=0, description="First retry delay of an image fetch in seconds (doubles)."
    )
    image_max_retry_after: float = Field(
        default=60.0, ge=0, description="Longest Retry-After an image fetch waits."
    )
    image_max_redirects: int = Field(default=5, ge=0)
    image_cache: bool = Field(
        default=True, description="Keep fetched image derivatives under data_dir/cache/images."
    )
    image_cache_max_mb: int = Field(
        default=2048,
        ge=1,
        description="Size cap of each cache folder (images, IIIF JSON); least recently used go.",
    )
    http_user_agent: str = "mapsearch/0.1 (+https://github.com/mapsearch)"

    # sources (Library of Congress JSON API; limits from its published documentation)
    loc_page_size: int = Field(
        default=100, ge=1, le=1000, description="Search results per page ('c')."
    )
    loc_search_per_10s: int = Field(default=20, ge=1)
    loc_search_per_min: int = Field(default=80, ge=1)
    loc_item_per_10s: int = Field(default=10, ge=1)
    loc_item_per_min: int = Field(default=200, ge=1)
    loc_backoff: float = Field(
        default=5.0, ge=0, description="First back-off after 429/503/HTML, seconds (doubles)."
    )
    loc_backoff_max: float = Field(default=600.0, ge=0)
    loc_block_wait_max: float = Field(
        default=3600.0, ge=0, description="Longest total wait through 403 blocks before giving up."
    )
    loc_timeout: float = Field(default=60.0, gt=0)
    loc_max_results: int = Field(
        default=100_000,
        ge=1,
        description="Deepest result the API pages to; larger sets are split by dates.",
    )
    iiif_max_manifests: int = Field(
        default=100_000, ge=1, description="Cap on manifests one IIIF harvest walks."
    )

    # staff
    admin_tokens: list[str] = Field(default_factory=list)

    @property
    def embedded_path(self) -> Path:
        """The SQLite file of the embedded backend."""
        return self.data_dir / "index.sqlite"


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Defaults, then ``MAPSEARCH_*`` from the environment, then explicit overrides (tests)."""
    return Settings(**(overrides or {}))
