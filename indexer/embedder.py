"""The CLIP embedder: one model class, loaded once per process under a lock, that turns images
and text into unit-norm float32 vectors and records which model made them.

Inference runs on ONNX Runtime when the model has an ONNX export (the shipped demo model does;
``mapsearch model export`` writes one for any checkpoint), else on torch (the training extra).
Both give the same model id, so an index built with one runtime is searched with the other.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np
from cachetools import LRUCache
from PIL import Image

from indexer.model_specs import ModelUnavailableError, onnx_export_for

if TYPE_CHECKING:
    from indexer.settings import Settings
    from indexer.torch_clip import LoadedModel

__all__ = [
    "ClipEmbedder",
    "ClipRuntime",
    "Embedder",
    "ModelUnavailableError",
    "apply_prompt_template",
    "letterbox",
    "process_embedder",
]

MAP_WORD = re.compile(r"\bmaps?\b", re.IGNORECASE)
Runtime = Literal["auto", "onnx", "torch"]


@runtime_checkable
class Embedder(Protocol):
    """What the search service and the pipeline need from a model."""

    @property
    def model_id(self) -> str:
        """The id every vector records (``architecture/weights``)."""
        ...

    @property
    def dims(self) -> int:
        """Vector size."""
        ...

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """(n, dims) unit-norm float32 image vectors; whole maps letterboxed, never cropped."""
        ...

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dims) unit-norm float32 text vectors, texts used as given."""
        ...

    def embed_query_text(self, text: str) -> np.ndarray:
        """(dims,) vector of ``text`` after the prompt template; LRU-cached."""
        ...


class ClipRuntime(Protocol):
    """One inference engine for a CLIP: ``indexer.onnx_clip.OnnxClip`` or
    ``torch_clip.TorchClip``."""

    model_id: str
    dims: int
    image_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    fill: tuple[int, int, int] | None

    def encode_images(self, pixels: np.ndarray) -> np.ndarray:
        """Raw image features of preprocessed pixels."""
        ...

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """Raw text features."""
        ...


def apply_prompt_template(text: str, template: str) -> str:
    """The paper's rule: wrap ``text`` in the template
    (``"{} map"``) unless it already says map(s)."""
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


def _unit(features: np.ndarray) -> np.ndarray:
    # the same epsilon as torch.nn.functional.normalize, so both runtimes round alike
    norms = np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    return (features / norms).astype(np.float32)


def _gpu_wants_torch(device: str) -> bool:
    """On a GPU machine whose ONNX Runtime has no CUDA provider, torch on the GPU is the faster
    engine for bulk embedding (decided without importing torch where there is no GPU)."""
    if device == "cpu" or not Path("/proc/driver/nvidia/version").exists():
        return False
    if importlib.util.find_spec("torch") is None:
        return False
    import onnxruntime

    return "CUDAExecutionProvider" not in onnxruntime.get_available_providers()


def open_runtime(
    spec: str,
    runtime: Runtime = "auto",
    device: str = "auto",
    allow_download: bool = False,
    cache_dir: Any = None,
) -> ClipRuntime:
    """The inference engine for ``spec``: with ``auto``, its ONNX export if it has one (on CPU,
    or ONNX Runtime's CUDA provider), torch when the model has no export or a GPU is there for
    torch but not for ONNX Runtime; ModelUnavailableError with what to do otherwise."""
    if runtime not in ("auto", "onnx", "torch"):
        raise ModelUnavailableError(
            f"MAPSEARCH_MODEL_RUNTIME={runtime!r}: use 'auto', 'onnx' or 'torch'"
        )
    if runtime != "torch":
        export = onnx_export_for(spec)
        if export is not None and (runtime == "onnx" or not _gpu_wants_torch(device)):
            from indexer.onnx_clip import OnnxClip

            return OnnxClip(export, device)
        if runtime == "onnx":
            raise ModelUnavailableError(
                f"MAPSEARCH_MODEL={spec!r} has no ONNX export: run 'mapsearch model export "
                f"--model {spec} --out DIR' where torch is installed, then set MAPSEARCH_MODEL=DIR"
            )
    try:
        from indexer import torch_clip
    except ImportError:
        raise ModelUnavailableError(
            f"MAPSEARCH_MODEL={spec!r} has no ONNX export and torch is not installed: install the "
            "training extra (scripts/bootstrap.sh --train) or export the model to ONNX on a "
            "machine that has it (mapsearch model export)"
        ) from None
    loaded = torch_clip.load_model(spec, allow_download=allow_download, cache_dir=cache_dir)
    return torch_clip.TorchClip(loaded, device)


class ClipEmbedder:
    """The model behind the ``Embedder`` protocol (Immich-ML style: ``load()`` once, then embed).

    ``spec`` is a ``MAPSEARCH_MODEL`` value (see ``indexer.model_specs``). Nothing is read until
    the first ``load()`` or the first use; after that every thread shares one runtime. Images
    are letterboxed onto the model's fill colour at its input size and normalised with its own
    mean/std in numpy, so both runtimes see identical pixels.
    """

    def __init__(
        self,
        spec: str = "demo",
        *,
        runtime: Runtime = "auto",
        device: str = "auto",
        prompt_template: str = "{} map",
        text_cache_size: int = 4096,
        batch_size: int = 32,
        allow_download: bool = False,
        cache_dir: Any = None,
    ) -> None:
        self.spec = spec
        self.runtime_setting = runtime
        self.device_setting = device
        self.prompt_template = prompt_template
        self.batch_size = max(1, batch_size)
        self.allow_download = allow_download
        self.cache_dir = cache_dir
        self._text_cache: LRUCache[str, np.ndarray] | None = (
            LRUCache(maxsize=text_cache_size) if text_cache_size > 0 else None
        )
        self._cache_lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._runtime: ClipRuntime | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ClipEmbedder:
        """An (unloaded) embedder configured from settings."""
        return cls(
            settings.model,
            runtime=settings.model_runtime,
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
        """Wrap a torch model already in memory (training and evaluation use in-progress weights).

        The model is moved to ``device`` and put in eval mode; call ``model.train()`` before
        training it further.
        """
        from indexer.torch_clip import TorchClip

        embedder = cls(
            loaded.model_id,
            runtime="torch",
            device=device,
            prompt_template=prompt_template,
            batch_size=batch_size,
        )
        embedder._runtime = TorchClip(loaded, device)
        return embedder

    # ---- loading ---------------------------------------------------------------------------

    def load(self) -> ClipEmbedder:
        """Load the model (once); raises ModelUnavailableError
        with a message a person can act on."""
        with self._load_lock:
            if self._runtime is None:
                self._runtime = open_runtime(
                    self.spec,
                    self.runtime_setting,
                    self.device_setting,
                    self.allow_download,
                    self.cache_dir,
                )
                self.clear_text_cache()
        return self

    @property
    def loaded(self) -> bool:
        """True once the model is in memory."""
        return self._runtime is not None

    @property
    def runtime(self) -> ClipRuntime:
        """The inference engine (loads the model if needed)."""
        if self._runtime is None:
            self.load()
        assert self._runtime is not None
        return self._runtime

    @property
    def runtime_name(self) -> str:
        """``onnx`` or ``torch``: which engine runs this model."""
        return "onnx" if type(self.runtime).__name__ == "OnnxClip" else "torch"

    @property
    def model_id(self) -> str:
        """The id every vector records (loads the model)."""
        return self.runtime.model_id

    @property
    def dims(self) -> int:
        """Vector size (loads the model)."""
        return self.runtime.dims

    @property
    def image_size(self) -> int:
        """The square input size images are letterboxed to."""
        return self.runtime.image_size

    @property
    def fill(self) -> tuple[int, int, int]:
        """The letterbox colour: the checkpoint's own, else the model's mean colour."""
        runtime = self.runtime
        return runtime.fill or (
            round(runtime.mean[0] * 255),
            round(runtime.mean[1] * 255),
            round(runtime.mean[2] * 255),
        )

    @property
    def model(self) -> Any:
        """The underlying open_clip model (torch runtime only)."""
        model = getattr(self.runtime, "model", None)
        if model is None:
            raise ModelUnavailableError("this embedder runs on ONNX Runtime; it has no torch model")
        return model

    @property
    def device(self) -> str:
        """Where inference runs (``cpu``, ``cuda``, or the ONNX providers' first)."""
        runtime = self.runtime
        return str(getattr(runtime, "device", None) or getattr(runtime, "providers", ["cpu"])[0])

    # ---- embedding -------------------------------------------------------------------------

    def preprocess(self, image: Image.Image) -> np.ndarray:
        """(3, size, size) float32 model input: letterboxed, scaled to [0, 1], normalised."""
        runtime = self.runtime
        boxed = letterbox(image, runtime.image_size, self.fill)
        pixels = np.asarray(boxed, dtype=np.float32) / 255.0
        mean = np.asarray(runtime.mean, dtype=np.float32)
        std = np.asarray(runtime.std, dtype=np.float32)
        return np.ascontiguousarray(((pixels - mean) / std).transpose(2, 0, 1))

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """(n, dims) unit-norm float32 image vectors; whole maps letterboxed, never cropped."""
        runtime = self.runtime
        out = np.zeros((len(images), runtime.dims), dtype=np.float32)
        for start in range(0, len(images), self.batch_size):
            chunk = images[start : start + self.batch_size]
            batch = np.stack([self.preprocess(image) for image in chunk])
            out[start : start + len(chunk)] = _unit(runtime.encode_images(batch))
        return out

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dims) unit-norm float32 text vectors, texts used as given."""
        runtime = self.runtime
        out = np.zeros((len(texts), runtime.dims), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            chunk = list(texts[start : start + self.batch_size])
            out[start : start + len(chunk)] = _unit(runtime.encode_texts(chunk))
        return out

    def embed_query_text(self, text: str) -> np.ndarray:
        """(dims,) vector of ``text`` after the prompt template; LRU-cached (read-only array)."""
        prompt = apply_prompt_template(text, self.prompt_template)
        if self._text_cache is not None:
            with self._cache_lock:
                cached = self._text_cache.get(prompt)
            if cached is not None:
                return cached
        vector = self.embed_texts([prompt])[0]
        vector.setflags(write=False)
        if self._text_cache is not None:
            with self._cache_lock:
                self._text_cache[prompt] = vector
        return vector

    def clear_text_cache(self) -> None:
        """Forget cached query-text vectors."""
        if self._text_cache is not None:
            with self._cache_lock:
                self._text_cache.clear()


_PROCESS_EMBEDDERS: dict[tuple[Any, ...], ClipEmbedder] = {}
_PROCESS_EMBEDDERS_LOCK = threading.Lock()


def process_embedder(settings: Settings) -> ClipEmbedder:
    """This process's one embedder for these model settings (not loaded until first used).

    Every app, worker and CLI command built in a process shares it, so a model is loaded once
    per process however many apps the process creates.
    """
    key = (
        settings.model,
        settings.model_runtime,
        settings.device,
        settings.prompt_template,
        settings.text_cache_size,
        settings.embed_batch_size,
        settings.model_download,
        str(settings.model_cache_dir),
    )
    with _PROCESS_EMBEDDERS_LOCK:
        embedder = _PROCESS_EMBEDDERS.get(key)
        if embedder is None:
            embedder = _PROCESS_EMBEDDERS[key] = ClipEmbedder.from_settings(settings)
    return embedder


def forget_process_embedders() -> None:
    """Drop every process-level embedder (tests; freeing memory after a model change)."""
    with _PROCESS_EMBEDDERS_LOCK:
        _PROCESS_EMBEDDERS.clear()
