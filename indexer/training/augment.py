"""Training-time image augmentation on cached uint8 batches: mild random crops/scale and
brightness/contrast only. No horizontal flips (they mirror lettering) and no hue jitter (it
breaks colour queries)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def to_model_input(
    images_u8: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]
) -> torch.Tensor:
    """(n, H, W, 3) uint8 → (n, 3, H, W) float, normalised like open_clip's eval transform."""
    x = images_u8.permute(0, 3, 1, 2).float() / 255.0
    m = torch.tensor(mean, dtype=x.dtype).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - m) / s


def augment_batch(
    images_u8: torch.Tensor,
    generator: torch.Generator,
    *,
    min_scale: float = 0.8,
    brightness: float = 0.1,
    contrast: float = 0.1,
) -> torch.Tensor:
    """Random crop of ``min_scale``–1 of each side (resized back), then a shared brightness
    and contrast factor per image; returns uint8 like its input."""
    n, h, w, _ = images_u8.shape
    x = images_u8.permute(0, 3, 1, 2).float()
    # one affine resampling for the whole batch: per-image zoom into a random window
    scales = min_scale + (1 - min_scale) * torch.rand(n, generator=generator)
    shifts = (2 * torch.rand(n, 2, generator=generator) - 1) * (1 - scales).unsqueeze(1)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = scales
    theta[:, 1, 1] = scales
    theta[:, :, 2] = shifts
    grid = F.affine_grid(theta, [n, 3, h, w], align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    b = 1 + brightness * (2 * torch.rand(n, 1, 1, 1, generator=generator) - 1)
    c = 1 + contrast * (2 * torch.rand(n, 1, 1, 1, generator=generator) - 1)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    out = ((out - mean) * c + mean) * b
    return out.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1)
