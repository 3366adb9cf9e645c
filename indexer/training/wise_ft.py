"""WiSE-FT (Wortsman et al. 2022): interpolate base and fine-tuned weights,
θ = (1 − α)·θ_base + α·θ_finetuned, which keeps the base model's robustness."""

from __future__ import annotations

from collections.abc import Mapping

import torch


def interpolate_state_dicts(
    base: Mapping[str, torch.Tensor], finetuned: Mapping[str, torch.Tensor], alpha: float
) -> dict[str, torch.Tensor]:
    """``(1 − alpha)·base + alpha·finetuned`` for floating tensors; others taken from finetuned.

    ``alpha`` = 0 gives the base model, 1 the fine-tuned one. Keys and shapes must match."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"WiSE-FT alpha must be in [0, 1], got {alpha}")
    if set(base) != set(finetuned):
        missing = sorted(set(base) ^ set(finetuned))[:5]
        raise ValueError(f"state dicts differ in keys, e.g. {missing}")
    merged: dict[str, torch.Tensor] = {}
    for name, ft in finetuned.items():
        b = base[name]
        if b.shape != ft.shape:
            raise ValueError(f"{name}: shape {tuple(b.shape)} vs {tuple(ft.shape)}")
        if ft.is_floating_point():
            merged[name] = ((1 - alpha) * b.float() + alpha * ft.float()).to(ft.dtype)
        else:
            merged[name] = ft.clone()
    return merged
