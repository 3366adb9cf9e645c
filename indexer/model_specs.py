"""Which CLIP to load: parsing ``MAPSEARCH_MODEL`` specs, building open_clip models from tags,
local checkpoints or the built-in demo config, and the on-disk checkpoint format.

Specs (see docs/models.md):
- ``demo``: the checkpoint in ``indexer/models/demo/`` if shipped, else a small built-in config
  initialised from a fixed seed (meaningless vectors, but real plumbing);
- ``NAME:TAG``: an open_clip architecture with pretrained weights (``ViT-B-32-quickgelu:openai``),
  read from the local Hugging Face cache unless downloads are allowed;
- ``NAME:random``: that architecture with seeded random weights (benchmarks);
- ``NAME:/path/weights.pt``: that architecture with weights from a file;
- ``/path/dir``: a checkpoint directory (``open_clip_config.json`` or ``config.json`` + weights);
- ``/path/model.pt``: a weights file beside such a config, or a self-describing torch file
  ``{"model_cfg": ..., "state_dict": ...}``.
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

import torch

DEMO_MODEL_DIR = Path(__file__).resolve().parent / "models" / "demo"
CONFIG_FILES = ("open_clip_config.json", "config.json")
WEIGHT_FILES = (
    "open_clip_model.safetensors",
    "open_clip_pytorch_model.safetensors",
    "model.safetensors",
    "open_clip_pytorch_model.bin",
    "pytorch_model.bin",
    "model.pt",
    "model.pth",
)
WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")
RANDOM_SEED = 0
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)

#: The built-in demo architecture: a tiny ViT and a narrow text tower (about 7.5 M parameters,
#: most of them the 49,408-token embedding table), small enough to train on two CPU cores.
DEMO_MODEL_CFG: dict[str, Any] = {
    "embed_dim": 128,
    "vision_cfg": {
        "image_size": 128,
        "layers": 3,
        "width": 128,
        "head_width": 32,
        "patch_size": 16,
    },
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 128, "heads": 4, "layers": 3},
}
DEMO_PREPROCESS_CFG: dict[str, Any] = {
    "size": 128,
    "mean": list(OPENAI_MEAN),
    "std": list(OPENAI_STD),
}

ENV_HINT = (
    "Set MAPSEARCH_MODEL to a local checkpoint (a directory with config.json and model.safetensors "
    "as `mapsearch finetune` writes, or NAME:/path/to/weights.pt), to 'demo', or allow downloads "
    "with MAPSEARCH_MODEL_DOWNLOAD=true on a machine that can reach the Hugging Face hub. See docs/models.md."
)


class ModelUnavailableError(RuntimeError):
    """The model named by ``MAPSEARCH_MODEL`` cannot be loaded (bad spec, missing file, no weights offline)."""


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


def file_digest(path: Path, length: int = 12) -> str:
    """The first ``length`` hex digits of a file's sha256 (the weights part of a model id)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:length]


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


def _size_of(image_size: Any) -> int:
    return int(image_size[0] if isinstance(image_size, list | tuple) else image_size)


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
        image_size=_size_of(size),
        mean=tuple(float(v) for v in mean),  # type: ignore[arg-type]
        std=tuple(float(v) for v in std),  # type: ignore[arg-type]
        model_cfg=model_cfg,
        fill=fill,
    )


def _seeded(model_cfg: dict[str, Any]) -> torch.nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_SEED)
        return build_model(model_cfg)


def read_checkpoint_config(directory: Path) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """(model_cfg, preprocess_cfg, model name or id) from a checkpoint directory's config file.

    Accepted: ``{"model_cfg", "preprocess_cfg"?, "model_id"?, "model_name"?}`` (open_clip's
    hub layout, plus the id the training code records) or a bare open_clip model config.
    """
    for name in CONFIG_FILES:
        path = directory / name
        if path.is_file():
            try:
                config = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise ModelUnavailableError(f"cannot read model config {path}: {error}") from None
            if "model_cfg" in config:
                return (
                    config["model_cfg"],
                    config.get("preprocess_cfg", {}),
                    config.get("model_id") or config.get("model_name"),
                )
            if "embed_dim" in config:
                return config, {}, None
            raise ModelUnavailableError(
                f"{path} has neither 'model_cfg' nor 'embed_dim'; it is not an open_clip config"
            )
    raise ModelUnavailableError(f"no {' or '.join(CONFIG_FILES)} in {directory}. " + ENV_HINT)


def find_weights(directory: Path) -> Path | None:
    """The weights file of a checkpoint directory (preferred names first), or None."""
    for name in WEIGHT_FILES:
        if (directory / name).is_file():
            return directory / name
    candidates = sorted(p for p in directory.iterdir() if p.suffix in WEIGHT_SUFFIXES)
    return candidates[0] if candidates else None


def _load_weights(model: torch.nn.Module, weights: Path) -> None:
    from open_clip import load_checkpoint

    try:
        load_checkpoint(model, str(weights))
    except (RuntimeError, OSError, ValueError, KeyError) as error:
        raise ModelUnavailableError(
            f"weights {weights} do not fit the model config: {str(error).splitlines()[0]}"
        ) from None


def _checkpoint_id(name: str | None, declared: str | None, fallback: str, weights: Path) -> str:
    """A declared full id (``arch/digest``, written by the training code) wins; else ``name/<sha256 prefix>``."""
    if declared and "/" in declared and name is None:
        return declared
    return f"{name or declared or fallback}/{file_digest(weights)}"


def load_checkpoint_dir(directory: Path, name: str | None = None) -> LoadedModel:
    """A model from a checkpoint directory; its id is the declared ``model_id`` or ``<name>/<sha256 prefix>``."""
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
        _checkpoint_id(name, config_name, directory.name, weights),
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
            _checkpoint_id(None, config_name, path.stem, path),
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
            f"{path} does not say which architecture it holds: put an open_clip_config.json beside it, "
            f"or name the architecture as MAPSEARCH_MODEL=NAME:{path} (e.g. ViT-B-32-quickgelu:{path})."
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
    """The shipped demo checkpoint if present, else the built-in config with seeded random weights."""
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
            f"unknown open_clip architecture {name!r} (e.g. ViT-B-32-quickgelu, ViT-B-32, ViT-L-14). "
            + ENV_HINT
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
    """Load the model a ``MAPSEARCH_MODEL`` spec names, on the CPU; ModelUnavailableError if impossible."""
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
            f"(e.g. ViT-B-32-quickgelu:openai), NAME:random for random weights, or a checkpoint path. "
            + ENV_HINT
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
    """Write ``open_clip_config.json`` + ``open_clip_model.safetensors`` (fp16 by default) to ``directory``.

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
    size = _size_of(model_cfg.get("vision_cfg", {}).get("image_size", 224))
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
