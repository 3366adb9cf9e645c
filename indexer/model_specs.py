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

import hashlib
import json
from pathlib import Path
from typing import Any

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
    "with MAPSEARCH_MODEL_DOWNLOAD=true on a machine that can reach the Hugging Face hub. See "
    "docs/models.md."
)


class ModelUnavailableError(RuntimeError):
    """The model named by ``MAPSEARCH_MODEL`` cannot be
    loaded (bad spec, missing file, no weights offline)."""


def file_digest(path: Path, length: int = 12) -> str:
    """The first ``length`` hex digits of a file's sha256 (the weights part of a model id)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:length]


def size_of(image_size: Any) -> int:
    return int(image_size[0] if isinstance(image_size, list | tuple) else image_size)


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


def checkpoint_id(name: str | None, declared: str | None, fallback: str, weights: Path) -> str:
    """A declared full id (``arch/digest``, written by the training code) wins; else
    ``name/<sha256 prefix>``."""
    if declared and "/" in declared and name is None:
        return declared
    return f"{name or declared or fallback}/{file_digest(weights)}"


#: What ``mapsearch model export`` writes beside the two ONNX towers; its presence marks an export.
ONNX_CONFIG = "onnx_config.json"
DEMO_ONNX_DIR = DEMO_MODEL_DIR / "onnx"


def onnx_export_for(spec: str) -> Path | None:
    """The ONNX export that serves ``spec`` (the model's own identity), or None if it has none.

    ``demo`` is served from the export shipped beside the demo checkpoint; a path may name an
    export directory itself or a checkpoint directory with an ``onnx/`` export inside. An export
    whose recorded model id no longer matches its checkpoint's weights is stale and ignored.
    """
    spec = spec.strip()
    if spec == "demo":
        candidates = [DEMO_ONNX_DIR]
    else:
        path = Path(spec).expanduser()
        if not path.is_dir():
            return None
        candidates = [path, path / "onnx"]
    for directory in candidates:
        config_path = directory / ONNX_CONFIG
        if not config_path.is_file():
            continue
        source = directory.parent
        weights = find_weights(source) if source.is_dir() else None
        if weights is not None and any((source / name).is_file() for name in CONFIG_FILES):
            _, _, declared = read_checkpoint_config(source)
            expected = checkpoint_id(None, declared, source.name, weights)
            if read_onnx_config(directory).get("model_id") != expected:
                return None
        return directory
    return None


def read_onnx_config(directory: Path) -> dict[str, Any]:
    """An export's ``onnx_config.json`` (model id, dims, preprocessing, file names)."""
    path = directory / ONNX_CONFIG
    try:
        config: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelUnavailableError(f"cannot read ONNX export config {path}: {error}") from None
    return config
