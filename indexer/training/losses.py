"""Contrastive losses: open_clip's ``ClipLoss`` and a multi-positive variant in which a caption
and an image whose attributes include every claim of that caption are not negatives."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from open_clip.loss import ClipLoss


def positive_mask(
    claims: Sequence[frozenset[str]], facts: Sequence[frozenset[str]]
) -> torch.Tensor:
    """(n_text, n_image) bool: caption ``i`` truthfully describes image ``j`` (claims ⊆ facts).

    The diagonal is always positive (a caption describes its own image even when it claims
    something the facts miss, or claims nothing at all)."""
    n = len(claims)
    mask = torch.eye(n, dtype=torch.bool)
    for i, claim in enumerate(claims):
        if not claim:
            continue
        for j, fact in enumerate(facts):
            if claim <= fact:
                mask[i, j] = True
    return mask


def _soft_cross_entropy(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    targets = mask.float() / mask.float().sum(dim=1, keepdim=True)
    return -(targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


class MultiPositiveClipLoss(torch.nn.Module):
    """Symmetric InfoNCE with soft targets spread over all positives; equals ``ClipLoss`` when
    the mask is the identity. ``image_weight`` adds an image–image term over the same facts
    (images sharing ``image_keys`` are positives), which keeps similar maps close for
    reverse image search."""

    def __init__(self, image_weight: float = 0.0) -> None:
        super().__init__()
        self.image_weight = image_weight

    def forward(
        self,
        image_features: torch.Tensor,
        text_features: torch.Tensor,
        logit_scale: torch.Tensor,
        mask: torch.Tensor,
        image_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        logits_per_text = logit_scale * text_features @ image_features.T
        loss = (
            _soft_cross_entropy(logits_per_text, mask)
            + _soft_cross_entropy(logits_per_text.T, mask.T)
        ) / 2
        if self.image_weight > 0 and image_mask is not None:
            logits_ii = logit_scale * image_features @ image_features.T
            eye = torch.eye(len(image_features), dtype=torch.bool, device=logits_ii.device)
            logits_ii = logits_ii.masked_fill(eye, -1e4)  # an image is not its own neighbour
            others = image_mask & ~eye
            has_pos = others.any(dim=1)
            if has_pos.any():
                loss = loss + self.image_weight * _soft_cross_entropy(
                    logits_ii[has_pos], others[has_pos]
                )
        return loss


def clip_loss(
    image_features: torch.Tensor, text_features: torch.Tensor, logit_scale: torch.Tensor
) -> torch.Tensor:
    """open_clip's plain ``ClipLoss`` (one positive per row: the diagonal)."""
    return ClipLoss()(image_features, text_features, logit_scale)
