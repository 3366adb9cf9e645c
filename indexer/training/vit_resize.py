"""Carry a trained CLIP's weights to another vision geometry (patch size or input size), so a
finer-patch or larger-input demo model starts from the shipped one instead of from nothing: the
patch embedding is resampled and the positional grid interpolated (as FlexiViT and open_clip do)."""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from open_clip.model import CLIP, resize_pos_embed

PATCH_KEY = "visual.conv1.weight"


def resize_patch_embedding(weight: torch.Tensor, patch_size: int) -> torch.Tensor:
    """The ``(width, 3, p, p)`` patch embedding resampled to ``patch_size``, scaled so that a
    patch of flat colour embeds as before (exactly when shrinking by a whole factor, by area
    averaging; bilinear otherwise)."""
    old = int(weight.shape[-1])
    if old == patch_size:
        return weight.clone()
    mode = "area" if old % patch_size == 0 else "bilinear"
    resized = F.interpolate(weight.float(), size=(patch_size, patch_size), mode=mode)
    # a flat patch embeds as the kernel's sum; area averaging by a whole factor keeps it exactly
    return (resized * (old / patch_size) ** 2).to(weight.dtype)


def load_resized(model: CLIP, state: Mapping[str, torch.Tensor]) -> list[str]:
    """Load ``state`` (a CLIP of the same widths, any patch or input size) into ``model``:
    patch embedding resampled, positional grid interpolated (bicubic), every other weight as is.
    Returns the names of the weights that were resampled."""
    target = model.state_dict()
    weights = {k: v.float() for k, v in state.items()}
    changed: list[str] = []
    patch = int(target[PATCH_KEY].shape[-1])
    if weights[PATCH_KEY].shape[-1] != patch:
        weights[PATCH_KEY] = resize_patch_embedding(weights[PATCH_KEY], patch)
        changed.append(PATCH_KEY)
    pos_key = "visual.positional_embedding"
    if weights[pos_key].shape != target[pos_key].shape:
        resize_pos_embed(weights, model)
        changed.append(pos_key)
    model.load_state_dict(weights)
    return changed
