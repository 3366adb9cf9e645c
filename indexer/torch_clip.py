"""Open_clip models in torch: building them from tags, local checkpoints or the built-in demo
config, and saving checkpoints (training, fine-tuning, ONNX export and GPU bulk embedding).

Only the training extra installs torch and open_clip; serving reads the ONNX export instead
(``indexer.onnx_clip``). Which spec names what is documented in ``indexer.model_specs``.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from indexer.model_specs import (
    CONFIG_FILES,
    DEMO_MODEL_CFG,
    DEMO_MODEL_DIR,
    DEMO_PREPROCESS_CFG,
    ENV_HINT,
    OPENAI_MEAN,
    OPENAI_STD,
    RANDOM_SEED,
    WEIGHT_FILES,
    WEIGHT_SUFFIXES,
    ModelUnavailableError,
    checkpoint_id,
    file_digest,
    find_weights,
    read_checkpoint_config,
    size_of,
)


@dataclass
class LoadedModel:
    """An open_clip model ready for inference, with what the embedder needs to feed it."""

    model: Any  # an open_clip CLIP; typed loosely because its towers are dynamic
    tokenizer: Any
    model_id: str
    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    model_cfg: dict[str, Any] = field(default_factory=dict)
    fill: tuple[int, int, int] | None = (
        None  # letterbox padding (0-255); None = the model's mean colour
    )


def weights_digest(model: torch.nn.Module, length: int = 12) -> str:
    """sha256 prefix over a model's parameters in state-dict order (for weights not in a file)."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:length]


class _DropOpenClipErrors(logging.Filter):
    """open_clip logs download failures on the root logger; we raise a clearer error instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "open_clip" not in record.pathname


@contextlib.contextmanager
def _quiet_open_clip() -> Iterator[None]:
    root, quiet = logging.getLogger(), _DropOpenClipErrors()
    root.addFilter(quiet)
    try:
        yield
    finally:
        root.removeFilter(quiet)


@contextlib.contextmanager
def hub_offline(enabled: bool) -> Iterator[None]:
    """Make huggingface_hub use only its local cache, so a missing download fails at once."""
    if not enabled:
        yield
        return
    import huggingface_hub.constants as hub_constants

    previous_env, previous_flag = os.environ.get("HF_HUB_OFFLINE"), hub_constants.HF_HUB_OFFLINE
    os.environ["HF_HUB_OFFLINE"] = "1"
    hub_constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        hub_constants.HF_HUB_OFFLINE = previous_flag
        if previous_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous_env


def build_model(model_cfg: dict[str, Any]) -> torch.nn.Module:
    """An open_clip CLIP (or CustomTextCLIP) with this architecture config and fresh weights."""
    from open_clip.model import CLIP, CustomTextCLIP

    config = copy.deepcopy(model_cfg)
    custom_text = config.pop("custom_text", False) or "hf_model_name" in config.get("text_cfg", {})
    model_class = CustomTextCLIP if custom_text else CLIP
    return model_class(**config)


def _tokenizer_for(model_cfg: dict[str, Any]) -> Any:
    from open_clip.tokenizer import SimpleTokenizer

    text_cfg = model_cfg.get("text_cfg", {})
    if text_cfg.get("hf_tokenizer_name"):
        raise ModelUnavailableError(
            "checkpoints with Hugging Face tokenizers are not supported offline; " + ENV_HINT
        )
    return SimpleTokenizer(context_length=int(text_cfg.get("context_length", 77)))


def _finish(
    model: Any,
    tokenizer: Any,
    model_id: str,
    model_cfg: dict[str, Any],
    preprocess_cfg: dict[str, Any] | None = None,
) -> LoadedModel:
    preprocess_cfg = preprocess_cfg or {}
    visual_cfg = getattr(model.visual, "preprocess_cfg", None) or {}
    size = preprocess_cfg.get("size") or visual_cfg.get("size") or model.visual.image_size
    mean = preprocess_cfg.get("mean") or visual_cfg.get("mean") or OPENAI_MEAN
    std = preprocess_cfg.get("std") or visual_cfg.get("std") or OPENAI_STD
    fill_color = preprocess_cfg.get("fill_color")
    fill: tuple[int, int, int] | None = None
    if isinstance(fill_color, int | float):  # open_clip's letterbox fill, as trained with
        fill = (int(fill_color), int(fill_color), int(fill_color))
    elif isinstance(fill_color, list | tuple) and len(fill_color) == 3:
        fill = (int(fill_color[0]), int(fill_color[1]), int(fill_color[2]))
    model.eval()
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        model_id=model_id,
        image_size=size_of(size),
        mean=tuple(float(v) for v in mean),  # type: ignore[arg-type]
        std=tuple(float(v) for v in std),  # type: ignore[arg-type]
        model_cfg=model_cfg,
        fill=fill,
    )


def _seeded(model_cfg: dict[str, Any]) -> torch.nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_SEED)
        return build_model(model_cfg)


def _load_weights(model: torch.nn.Module, weights: Path) -> None:
    from open_clip import load_checkpoint

    try:
        load_checkpoint(model, str(weights))
    except (RuntimeError, OSError, ValueError, KeyError) as error:
        raise ModelUnavailableError(
            f"weights {weights} do not fit the model config: {str(error).splitlines()[0]}"
        ) from None


def load_checkpoint_dir(directory: Path, name: str | None = None) -> LoadedModel:
    """A model from a checkpoint directory; its id is the declared ``model_id`` or
    ``<name>/<sha256 prefix>``."""
    model_cfg, preprocess_cfg, config_name = read_checkpoint_config(directory)
    weights = find_weights(directory)
    if weights is None:
        raise ModelUnavailableError(
            f"no weights ({', '.join(WEIGHT_FILES[:2])}, ...) in {directory}. " + ENV_HINT
        )
    model = build_model(model_cfg)
    _load_weights(model, weights)
    return _finish(
        model,
        _tokenizer_for(model_cfg),
        checkpoint_id(name, config_name, directory.name, weights),
        model_cfg,
        preprocess_cfg,
    )


def load_checkpoint_file(path: Path) -> LoadedModel:
    """A model from one weights file: self-describing, or with a config file beside it."""
    if any((path.parent / name).is_file() for name in CONFIG_FILES):
        model_cfg, preprocess_cfg, config_name = read_checkpoint_config(path.parent)
        model = build_model(model_cfg)
        _load_weights(model, path)
        return _finish(
            model,
            _tokenizer_for(model_cfg),
            checkpoint_id(None, config_name, path.stem, path),
            model_cfg,
            preprocess_cfg,
        )
    try:
        payload = (
            torch.load(str(path), map_location="cpu", weights_only=True)
            if path.suffix != ".safetensors"
            else None
        )
    except Exception as error:  # torch raises many types for foreign files
        raise ModelUnavailableError(
            f"cannot read checkpoint {path}: {str(error).splitlines()[0]}"
        ) from None
    if not (isinstance(payload, dict) and "model_cfg" in payload and "state_dict" in payload):
        raise ModelUnavailableError(
            f"{path} does not say which architecture it holds: put an open_clip_config.json beside "
            "it, "
            f"or name the architecture as MAPSEARCH_MODEL=NAME:{path} (e.g. "
            f"ViT-B-32-quickgelu:{path})."
        )
    model_cfg = payload["model_cfg"]
    model = build_model(model_cfg)
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as error:
        raise ModelUnavailableError(
            f"{path}: state_dict does not fit model_cfg: {str(error).splitlines()[0]}"
        ) from None
    model_id = f"{payload.get('model_name') or path.stem}/{file_digest(path)}"
    return _finish(
        model, _tokenizer_for(model_cfg), model_id, model_cfg, payload.get("preprocess_cfg")
    )


def load_demo() -> LoadedModel:
    """The shipped demo checkpoint if present, else
    the built-in config with seeded random weights."""
    if (
        DEMO_MODEL_DIR.is_dir()
        and find_weights(DEMO_MODEL_DIR) is not None
        and any((DEMO_MODEL_DIR / n).is_file() for n in CONFIG_FILES)
    ):
        return load_checkpoint_dir(DEMO_MODEL_DIR)
    model = _seeded(DEMO_MODEL_CFG)
    return _finish(
        model,
        _tokenizer_for(DEMO_MODEL_CFG),
        f"demo-untrained/{weights_digest(model)}",
        DEMO_MODEL_CFG,
        DEMO_PREPROCESS_CFG,
    )


def _load_named(name: str, tag: str, allow_download: bool, cache_dir: Path | None) -> LoadedModel:
    import open_clip

    config = open_clip.get_model_config(name)
    if config is None:
        raise ModelUnavailableError(
            f"unknown open_clip architecture {name!r} (e.g. ViT-B-32-quickgelu, ViT-B-32, "
            "ViT-L-14). " + ENV_HINT
        )
    try:  # most tokenizers are bundled; Hugging Face ones (SigLIP, ...) come from the hub cache
        with hub_offline(not allow_download), _quiet_open_clip():
            tokenizer = open_clip.get_tokenizer(
                name, cache_dir=str(cache_dir) if cache_dir else None
            )
    except Exception as error:  # hub and tokenizer libraries raise many types
        raise ModelUnavailableError(
            f"cannot load the tokenizer of {name}: {str(error).splitlines()[0]}. " + ENV_HINT
        ) from None
    if tag == "random":
        model = _seeded(config)
        return _finish(model, tokenizer, f"{name}/random-seed{RANDOM_SEED}", config)
    weights_path = Path(tag).expanduser()
    if weights_path.suffix in WEIGHT_SUFFIXES or "/" in tag or os.sep in tag:
        if not weights_path.is_file():
            raise ModelUnavailableError(f"weights file {weights_path} not found. " + ENV_HINT)
        model = build_model(config)
        _load_weights(model, weights_path)
        return _finish(model, tokenizer, f"{name}/{file_digest(weights_path)}", config)
    pretrained = open_clip.get_pretrained_cfg(name, tag)
    if not pretrained:
        known = open_clip.list_pretrained_tags_by_model(name)
        tags = ", ".join(known[:6]) + (", ..." if len(known) > 6 else "") if known else "none"
        raise ModelUnavailableError(
            f"{name} has no pretrained tag {tag!r} (known tags: {tags}; or use {name}:random). "
            + ENV_HINT
        )
    if not allow_download and not pretrained.get("hf_hub"):
        cached = Path(cache_dir or Path.home() / ".cache" / "clip") / os.path.basename(
            pretrained.get("url", "")
        )
        if not cached.is_file():
            raise ModelUnavailableError(
                f"weights for {name}:{tag} are not in the local cache and downloads are off. "
                + ENV_HINT
            )
    try:
        with hub_offline(not allow_download), _quiet_open_clip():
            model = open_clip.create_model(
                name, pretrained=tag, cache_dir=str(cache_dir) if cache_dir else None
            )
    except (
        Exception
    ) as error:  # open_clip wraps hub errors in RuntimeError; keep the message, drop the trace
        reason = (
            "downloads are off and they are not in the local cache"
            if not allow_download
            else str(error).splitlines()[0]
        )
        raise ModelUnavailableError(
            f"cannot load weights for {name}:{tag}: {reason}. " + ENV_HINT
        ) from None
    return _finish(model, tokenizer, f"{name}/{tag}", config)


def load_model(
    spec: str, allow_download: bool = False, cache_dir: Path | None = None
) -> LoadedModel:
    """Load the model a ``MAPSEARCH_MODEL`` spec names,
    on the CPU; ModelUnavailableError if impossible."""
    spec = spec.strip()
    if not spec:
        raise ModelUnavailableError("MAPSEARCH_MODEL is empty. " + ENV_HINT)
    if spec == "demo":
        return load_demo()
    path = Path(spec).expanduser()
    looks_like_path = (
        spec.startswith(("/", "./", "../", "~")) or path.suffix in WEIGHT_SUFFIXES or path.exists()
    )
    if looks_like_path and ":" not in spec.split("/", 1)[0]:
        if path.is_dir():
            return load_checkpoint_dir(path)
        if path.is_file():
            return load_checkpoint_file(path)
        raise ModelUnavailableError(
            f"MAPSEARCH_MODEL={spec!r}: no such file or directory. " + ENV_HINT
        )
    name, separator, tag = spec.partition(":")
    if not separator or not tag:
        raise ModelUnavailableError(
            f"MAPSEARCH_MODEL={spec!r} names an architecture without weights: use NAME:TAG "
            "(e.g. ViT-B-32-quickgelu:openai), NAME:random for random weights, or a checkpoint "
            "path. " + ENV_HINT
        )
    return _load_named(name.strip(), tag.strip(), allow_download, cache_dir)


def save_checkpoint(
    model: torch.nn.Module,
    model_cfg: dict[str, Any],
    directory: Path,
    *,
    model_name: str = "demo",
    preprocess_cfg: dict[str, Any] | None = None,
    half: bool = True,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``open_clip_config.json`` + ``open_clip_model.safetensors`` (fp16 by default) to
    ``directory``.

    The result loads with ``MAPSEARCH_MODEL=<directory>`` (and with open_clip's own
    ``local-dir:`` schema). ``extra`` keys are stored in the config for model cards.
    """
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    state = {
        k: (
            v.detach().cpu().half() if half and v.is_floating_point() else v.detach().cpu()
        ).contiguous()
        for k, v in model.state_dict().items()
    }
    size = size_of(model_cfg.get("vision_cfg", {}).get("image_size", 224))
    preprocess = {
        "size": size,
        "mean": list(OPENAI_MEAN),
        "std": list(OPENAI_STD),
        **(preprocess_cfg or {}),
    }
    config = {
        "model_name": model_name,
        "model_cfg": model_cfg,
        "preprocess_cfg": preprocess,
        **(extra or {}),
    }
    weights = directory / "open_clip_model.safetensors"
    save_file(state, str(weights.with_suffix(".tmp")))
    weights.with_suffix(".tmp").replace(weights)
    (directory / "open_clip_config.json").write_text(
        json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return weights


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` when a GPU is visible, else
    ``cpu``; a CUDA name without CUDA is an error."""
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


class TorchClip:
    """A ``LoadedModel`` on a device behind the same two calls as ``indexer.onnx_clip.OnnxClip``."""

    def __init__(self, loaded: LoadedModel, device: str = "cpu") -> None:
        self.device = resolve_device(device)
        self.loaded = loaded
        self.model = loaded.model.to(self.device).eval()
        self.model_id = loaded.model_id
        self.image_size = loaded.image_size
        self.mean: tuple[float, ...] = tuple(loaded.mean)
        self.std: tuple[float, ...] = tuple(loaded.std)
        self.fill = loaded.fill
        with torch.inference_mode():
            probe = loaded.tokenizer(["map"]).to(self.device)
            self.dims = int(self.model.encode_text(probe).shape[-1])

    def encode_images(self, pixels: np.ndarray) -> np.ndarray:
        """(n, dims) raw image features of (n, 3, size, size) float32 pixels."""
        with torch.inference_mode():
            features = self.model.encode_image(torch.from_numpy(pixels).to(self.device))
        return features.float().cpu().numpy()  # type: ignore[no-any-return]

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """(n, dims) raw text features."""
        with torch.inference_mode():
            tokens = self.loaded.tokenizer(texts).to(self.device)
            features = self.model.encode_text(tokens)
        return features.float().cpu().numpy()  # type: ignore[no-any-return]
