"""The CLIP embedder: one model class, loaded once per process, that turns images and text into
unit-norm float32 vectors and records which model made them."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

from indexer.model_specs import LoadedModel, ModelUnavailableError, load_model

if TYPE_CHECKING:
    from indexer.settings import Settings

__all__ = [
    "ClipEmbedder",
    "Embedder",
    "ModelUnavailableError",
    "apply_prompt_template",
    "clear_embedder_cache",
    "get_embedder",
    "letterbox",
]

MAP_WORD = re.compile(r"\bmaps?\b", re.IGNORECASE)


@runtime_checkable
class Embedder(Protocol):
    """What the search service and the pipeline need from a model."""

    model_id: str
    dims: int

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """(n, dims) unit-norm float32 image vectors; whole maps letterboxed, never cropped."""
        ...

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dims) unit-norm float32 text vectors, texts used as given."""
        ...

    def embed_query_text(self, text: str) -> np.ndarray:
        """(dims,) vector of ``text`` after the prompt template; LRU-cached."""
        ...


def apply_prompt_template(text: str, template: str) -> str:
    """The paper's rule: wrap ``text`` in the template (``"{} map"``) unless it already says map(s)."""
    text = " ".join(text.split())
    if not text or not template or MAP_WORD.search(text):
        return text
    return template.format(text) if "{}" in template else f"{text} {template}"


def letterbox(image: Image.Image, size: int, fill: tuple[int, int, int]) -> Image.Image:
    """The whole image scaled to fit a ``size`` square, centred on ``fill`` (never cropped)."""
    if image.mode != "RGB":
        if image.mode in ("RGBA", "LA", "PA") or (
            image.mode == "P" and "transparency" in image.info
        ):
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, rgba).convert("RGB")
        else:
            image = image.convert("RGB")
    width, height = image.size
    scale = size / max(width, height)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = image.resize(new_size, Image.Resampling.BICUBIC, reducing_gap=3.0)
    canvas = Image.new("RGB", (size, size), fill)
    canvas.paste(resized, ((size - new_size[0]) // 2, (size - new_size[1]) // 2))
    return canvas


def _resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelUnavailableError(
            f"MAPSEARCH_DEVICE={device!r} but no CUDA device is available; use 'auto' or 'cpu'"
        )
    try:
        torch.device(device)
    except (RuntimeError, ValueError):
        raise ModelUnavailableError(
            f"MAPSEARCH_DEVICE={device!r} is not a device; use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        ) from None
    return device


class ClipEmbedder:
    """An open_clip model behind the ``Embedder`` protocol (Immich-ML style: ``load()`` then embed).

    ``spec`` is a ``MAPSEARCH_MODEL`` value (see ``indexer.model_specs``). Vectors are unit-norm
    float32; images are letterboxed onto the model's mean colour at the model's input size and
    normalised with its own mean/std; inference runs under ``torch.inference_mode``.
    """

    def __init__(
        self,
        spec: str = "demo",
        *,
        device: str = "auto",
        prompt_template: str = "{} map",
        text_cache_size: int = 4096,
        batch_size: int = 32,
        allow_download: bool = False,
        cache_dir: Any = None,
    ) -> None:
        self.spec = spec
        self.device_setting = device
        self.prompt_template = prompt_template
        self.batch_size = max(1, batch_size)
        self.allow_download = allow_download
        self.cache_dir = cache_dir
        self._text_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._text_cache_size = max(0, text_cache_size)
        self._cache_lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._loaded: LoadedModel | None = None
        self.device = "cpu"
        self.model_id = ""
        self.dims = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> ClipEmbedder:
        """An (unloaded) embedder configured from settings."""
        return cls(
            settings.model,
            device=settings.device,
            prompt_template=settings.prompt_template,
            text_cache_size=settings.text_cache_size,
            batch_size=settings.embed_batch_size,
            allow_download=settings.model_download,
            cache_dir=settings.model_cache_dir,
        )

    @classmethod
    def from_loaded(
        cls,
        loaded: LoadedModel,
        *,
        device: str = "cpu",
        prompt_template: str = "{} map",
        batch_size: int = 32,
    ) -> ClipEmbedder:
        """Wrap a model already in memory (training and evaluation use this for in-progress weights).

        The model is moved to ``device`` and put in eval mode; call ``model.train()`` before
        training it further.
        """
        embedder = cls(
            loaded.model_id, device=device, prompt_template=prompt_template, batch_size=batch_size
        )
        embedder.device = _resolve_device(device)
        embedder._install(loaded)
        return embedder

    @property
    def loaded(self) -> bool:
        """True once the weights are in memory."""
        return self._loaded is not None

    @property
    def image_size(self) -> int:
        """The square input size images are letterboxed to."""
        return self._require().image_size

    @property
    def model(self) -> Any:
        """The underlying open_clip model (loads it if needed)."""
        return self._require().model

    def load(self) -> ClipEmbedder:
        """Load the weights (once); raises ModelUnavailableError with a message a person can act on."""
        with self._load_lock:
            if self._loaded is None:
                device = _resolve_device(self.device_setting)
                loaded = load_model(
                    self.spec, allow_download=self.allow_download, cache_dir=self.cache_dir
                )
                self.device = device
                self._install(loaded)
        return self

    def _install(self, loaded: LoadedModel) -> None:
        import torch

        loaded.model.to(self.device).eval()
        with torch.inference_mode():
            probe = loaded.tokenizer(["map"]).to(self.device)
            self.dims = int(loaded.model.encode_text(probe).shape[-1])
        self.model_id = loaded.model_id
        self._mean = np.array(loaded.mean, dtype=np.float32)
        self._std = np.array(loaded.std, dtype=np.float32)
        self._fill = loaded.fill or tuple(int(round(v * 255)) for v in loaded.mean)
        self.clear_text_cache()
        self._loaded = loaded  # last: other threads treat a set _loaded as ready to use

    def _require(self) -> LoadedModel:
        if self._loaded is None:
            self.load()
        assert self._loaded is not None
        return self._loaded

    def preprocess(self, image: Image.Image) -> np.ndarray:
        """(3, size, size) float32 model input: letterboxed, scaled to [0, 1], normalised."""
        loaded = self._require()
        boxed = letterbox(image, loaded.image_size, self._fill)  # type: ignore[arg-type]
        pixels = np.asarray(boxed, dtype=np.float32) / 255.0
        return np.ascontiguousarray(((pixels - self._mean) / self._std).transpose(2, 0, 1))

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """(n, dims) unit-norm float32 image vectors; whole maps letterboxed, never cropped."""
        import torch

        loaded = self._require()
        out = np.zeros((len(images), self.dims), dtype=np.float32)
        for start in range(0, len(images), self.batch_size):
            batch = np.stack(
                [self.preprocess(image) for image in images[start : start + self.batch_size]]
            )
            with torch.inference_mode():
                features = loaded.model.encode_image(torch.from_numpy(batch).to(self.device))
                features = torch.nn.functional.normalize(features.float(), dim=-1)
            out[start : start + len(batch)] = features.cpu().numpy()
        return out

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dims) unit-norm float32 text vectors, texts used as given."""
        import torch

        loaded = self._require()
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            chunk = list(texts[start : start + self.batch_size])
            with torch.inference_mode():
                tokens = loaded.tokenizer(chunk).to(self.device)
                features = torch.nn.functional.normalize(
                    loaded.model.encode_text(tokens).float(), dim=-1
                )
            out[start : start + len(chunk)] = features.cpu().numpy()
        return out

    def embed_query_text(self, text: str) -> np.ndarray:
        """(dims,) vector of ``text`` after the prompt template; LRU-cached (read-only array)."""
        prompt = apply_prompt_template(text, self.prompt_template)
        with self._cache_lock:
            cached = self._text_cache.get(prompt)
            if cached is not None:
                self._text_cache.move_to_end(prompt)
                return cached
        vector = self.embed_texts([prompt])[0]
        vector.setflags(write=False)
        if self._text_cache_size:
            with self._cache_lock:
                self._text_cache[prompt] = vector
                while len(self._text_cache) > self._text_cache_size:
                    self._text_cache.popitem(last=False)
        return vector

    def clear_text_cache(self) -> None:
        """Forget cached query-text vectors."""
        with self._cache_lock:
            self._text_cache.clear()


_EMBEDDERS: dict[tuple[Any, ...], ClipEmbedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def get_embedder(settings: Settings) -> ClipEmbedder:
    """The process's loaded embedder for these settings (loaded on first call, then reused)."""
    key = (
        settings.model,
        settings.device,
        settings.prompt_template,
        settings.text_cache_size,
        settings.embed_batch_size,
        settings.model_download,
        str(settings.model_cache_dir),
    )
    with _EMBEDDERS_LOCK:
        embedder = _EMBEDDERS.get(key)
        if embedder is None:
            embedder = ClipEmbedder.from_settings(settings)
            _EMBEDDERS[key] = embedder
    return embedder.load()


def clear_embedder_cache() -> None:
    """Drop every process-level embedder (tests; freeing memory after a model change)."""
    with _EMBEDDERS_LOCK:
        _EMBEDDERS.clear()
