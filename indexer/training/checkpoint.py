"""Self-contained CLIP checkpoints (the shipped demo model and every ``mapsearch finetune`` output).

A checkpoint is a folder holding:

- ``config.json``: open_clip's own on-disk config layout plus the model id, i.e.
  ``{"model_id": str, "model_cfg": {<open_clip model config: embed_dim, vision_cfg, text_cfg, ...>},
  "preprocess_cfg": {<open_clip PreprocessCfg fields: size, mean, std, interpolation, resize_mode,
  fill_color>}}``; ``resize_mode`` is ``"longest"`` (whole map letterboxed, never cropped);
- ``model.safetensors``: the state dict, stored in float16 (loaded back as float32);
- optionally ``MODEL_CARD.md`` and ``metrics.json``.

The embedder loads one with :func:`load_demo_checkpoint`; texts are tokenized with open_clip's
tokenizer at ``model.context_length`` (see :func:`tokenize`).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import open_clip
import torch
from open_clip.model import CLIP
from open_clip.transform import PreprocessCfg
from safetensors.torch import load_file, save_file

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
LEGACY_WEIGHTS_FILE = "model.pt"

#: Where the repository's demo model lives (``MAPSEARCH_MODEL=demo``).
DEMO_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "demo"


def checkpoint_dir(spec: str | Path) -> Path:
    """A checkpoint folder given by path, ``"demo"`` naming the shipped demo model's."""
    return DEMO_MODEL_DIR if str(spec) == "demo" else Path(spec)


def is_checkpoint_dir(path: str | Path) -> bool:
    """True when ``path`` is a folder with a ``config.json`` this module can load."""
    return (Path(path) / CONFIG_FILE).is_file()


def build_model(model_cfg: dict[str, Any]) -> CLIP:
    """A freshly initialised open_clip ``CLIP`` from a model config dict."""
    cfg = dict(model_cfg)
    cfg.pop("custom_text", None)
    return CLIP(**cfg)


def default_preprocess_cfg(image_size: int) -> dict[str, Any]:
    """open_clip's OpenAI preprocessing, letterboxed
    (``resize_mode="longest"``) to ``image_size``."""
    cfg = PreprocessCfg(size=image_size, resize_mode="longest", fill_color=0)
    return asdict(cfg)


def save_checkpoint(
    model: CLIP,
    model_cfg: dict[str, Any],
    preprocess_cfg: dict[str, Any],
    model_id: str,
    out_dir: str | Path,
    *,
    fp16: bool = True,
) -> Path:
    """Write ``config.json`` + ``model.safetensors``
    (fp16 unless told otherwise) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {
        name: (t.detach().to(torch.float16) if fp16 and t.is_floating_point() else t.detach())
        .contiguous()
        .cpu()
        for name, t in model.state_dict().items()
    }
    save_file(state, str(out / WEIGHTS_FILE), metadata={"model_id": model_id})
    config = {"model_id": model_id, "model_cfg": model_cfg, "preprocess_cfg": preprocess_cfg}
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    return out


def read_config(path: str | Path) -> dict[str, Any]:
    """The parsed ``config.json`` of a checkpoint folder (ValueError when missing or malformed)."""
    config_path = Path(path) / CONFIG_FILE
    try:
        config = json.loads(config_path.read_text())
    except FileNotFoundError as exc:
        raise ValueError(f"{path}: not a mapsearch checkpoint (no {CONFIG_FILE})") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{config_path}: invalid JSON ({exc})") from exc
    for key in ("model_id", "model_cfg", "preprocess_cfg"):
        if key not in config:
            raise ValueError(f"{config_path}: missing {key!r}")
    return config


def load_demo_checkpoint(path: str | Path = DEMO_MODEL_DIR) -> tuple[CLIP, dict[str, Any], str]:
    """Load a checkpoint folder: ``(model in eval mode, float32, on CPU; preprocess cfg; model
    id)``.

    ``preprocess cfg`` is a dict of open_clip ``PreprocessCfg`` fields; build the eval transform
    with ``open_clip.transform.image_transform_v2(PreprocessCfg(**cfg), is_train=False)``.
    """
    folder = Path(path)
    config = read_config(folder)
    model = build_model(config["model_cfg"])
    weights = folder / WEIGHTS_FILE
    if weights.is_file():
        state = load_file(str(weights))
    elif (folder / LEGACY_WEIGHTS_FILE).is_file():
        state = torch.load(folder / LEGACY_WEIGHTS_FILE, map_location="cpu", weights_only=True)
    else:
        raise ValueError(f"{folder}: no {WEIGHTS_FILE}")
    model.load_state_dict({k: v.float() for k, v in state.items()})
    model.eval()
    return model, dict(config["preprocess_cfg"]), str(config["model_id"])


def tokenize(texts: list[str], context_length: int) -> torch.Tensor:
    """open_clip's BPE tokenizer (49,408-token vocabulary), truncated to the model's context."""
    return open_clip.tokenize(texts, context_length=context_length)
