"""Validation of a CLIP model on held-out caption pairs: exact-pair recall@k in both directions
and, where ground truth is known, attribute precision@10 (top-10 images satisfying the caption)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from open_clip.model import CLIP

from indexer.training.augment import to_model_input
from indexer.training.checkpoint import tokenize
from indexer.training.losses import positive_mask


@torch.no_grad()
def encode_images(
    model: CLIP,
    images_u8: np.ndarray,
    mean: Sequence[float],
    std: Sequence[float],
    batch: int = 256,
) -> torch.Tensor:
    """(n, d) unit-norm image features of cached uint8 images."""
    model.eval()
    out = []
    for start in range(0, len(images_u8), batch):
        x = to_model_input(
            torch.from_numpy(images_u8[start : start + batch]), tuple(mean), tuple(std)
        )
        out.append(model.encode_image(x, normalize=True))
    return torch.cat(out) if out else torch.zeros(0, 1)


@torch.no_grad()
def encode_texts(model: CLIP, texts: Sequence[str], batch: int = 512) -> torch.Tensor:
    """(n, d) unit-norm text features."""
    model.eval()
    out = []
    for start in range(0, len(texts), batch):
        tokens = tokenize(list(texts[start : start + batch]), model.context_length)
        out.append(model.encode_text(tokens, normalize=True))
    return torch.cat(out) if out else torch.zeros(0, 1)


def pair_recall(similarity: torch.Tensor, ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """Recall@k of the paired item (row i ↔ column i), text→image, image→text and their mean."""
    n = similarity.shape[0]
    target = torch.arange(n)
    metrics: dict[str, float] = {}
    for name, sim in (("t2i", similarity), ("i2t", similarity.T)):
        # rank of the true partner = number of candidates scoring strictly higher
        true = sim[target, target].unsqueeze(1)
        rank = (sim > true).sum(dim=1)
        for k in ks:
            metrics[f"{name}_recall@{k}"] = float((rank < k).float().mean())
    for k in ks:
        metrics[f"recall@{k}"] = (metrics[f"t2i_recall@{k}"] + metrics[f"i2t_recall@{k}"]) / 2
    return metrics


def attribute_precision(
    similarity: torch.Tensor,
    claims: Sequence[frozenset[str]],
    facts: Sequence[frozenset[str]],
    k: int = 10,
) -> float:
    """Mean fraction of each caption's top-k images whose facts include all its claims."""
    mask = positive_mask(claims, facts)
    top = similarity.topk(min(k, similarity.shape[1]), dim=1).indices
    hits = torch.gather(mask, 1, top).float()
    rows = torch.tensor([bool(c) for c in claims])
    return float(hits[rows].mean()) if rows.any() else float("nan")


def validate(
    model: CLIP,
    images_u8: np.ndarray,
    texts: Sequence[str],
    mean: Sequence[float],
    std: Sequence[float],
    claims: Sequence[frozenset[str]] | None = None,
    facts: Sequence[frozenset[str]] | None = None,
) -> dict[str, float]:
    """All validation metrics for aligned (image, caption) pairs."""
    sim = encode_texts(model, texts) @ encode_images(model, images_u8, mean, std).T
    metrics = pair_recall(sim)
    if claims is not None and facts is not None and any(claims):
        metrics["attr_p@10"] = attribute_precision(sim, claims, facts)
    return metrics
