"""Training-time image augmentation on cached uint8 batches: mild random crops/scale and
brightness/contrast only. No horizontal flips (they mirror lettering) and no hue jitter (it
breaks colour queries)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def to_model_input(images_u8: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
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
    out = torch.empty_like(x)
    scales = min_scale + (1 - min_scale) * torch.rand(n, generator=generator)
    offsets = torch.rand(n, 2, generator=generator)
    for k in range(n):
        ch, cw = max(1, int(h * scales[k])), max(1, int(w * scales[k]))
        top, left = int((h - ch) * offsets[k, 0]), int((w - cw) * offsets[k, 1])
        crop = x[k : k + 1, :, top : top + ch, left : left + cw]
        out[k : k + 1] = F.interpolate(crop, size=(h, w), mode="bilinear", align_corners=False) if (ch, cw) != (h, w) else crop
    b = 1 + brightness * (2 * torch.rand(n, 1, 1, 1, generator=generator) - 1)
    c = 1 + contrast * (2 * torch.rand(n, 1, 1, 1, generator=generator) - 1)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    out = ((out - mean) * c + mean) * b
    return out.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1)
