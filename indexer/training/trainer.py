"""The training loop: contrastive CLIP training on cached map–caption pairs, with optional
locked image tower (LiT), early stopping on validation recall, a wall-clock budget, and a
checkpoint per epoch so an interrupted run resumes from its last finished epoch."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from open_clip.model import CLIP
from tqdm import tqdm

from indexer.training.augment import augment_batch, to_model_input
from indexer.training.captions import Caption
from indexer.training.checkpoint import tokenize
from indexer.training.data import PairSet
from indexer.training.losses import MultiPositiveClipLoss, clip_loss, positive_mask
from indexer.training.validation import validate

EPOCH_PREFIX = "epoch-"


@dataclass
class TrainConfig:
    """Every knob of a training run (recorded in the model card)."""

    epochs: int = 10
    batch_size: int = 128
    lr: float = 5e-4
    weight_decay: float = 0.1
    warmup_steps: int = 50
    lock_image: bool = False  # LiT: the image tower is frozen, indexed vectors stay valid
    multi_positive: bool = (
        True  # captions true of several images in the batch have several positives
    )
    image_loss_weight: float = (
        0.0  # image–image term over shared ``image_keys`` facts (needs ground truth)
    )
    image_keys: tuple[str, ...] = ("kind", "colour_scheme")
    min_scale: float = 0.8  # random crop keeps at least this fraction of each side
    brightness: float = 0.1
    contrast: float = 0.1
    minutes: float | None = None  # wall-clock budget; the cosine schedule follows it when set
    patience: int = 3  # epochs without validation improvement before stopping
    select_metric: str = "recall@10"
    seed: int = 0
    max_steps: int | None = None  # stop after this many optimiser steps (tests, smoke runs)


@dataclass
class EpochLog:
    """What one epoch did."""

    epoch: int
    steps: int
    train_loss: float
    val: dict[str, float]
    seconds: float


@dataclass
class TrainResult:
    """The outcome: the best epoch's weights and metrics, and the history."""

    best_epoch: int
    best_metrics: dict[str, float]
    history: list[EpochLog] = field(default_factory=list)
    stopped: str = "epochs"
    losses: list[float] = field(default_factory=list)
    best_state: dict[str, torch.Tensor] | None = None

    def summary(self) -> dict[str, Any]:
        """JSON-friendly summary (no weights)."""
        return {
            "best_epoch": self.best_epoch,
            "best_metrics": self.best_metrics,
            "stopped": self.stopped,
            "history": [asdict(h) for h in self.history],
        }


def _image_keys_mask(attributes: Sequence[Any], keys: Sequence[str]) -> torch.Tensor | None:
    if not attributes or any(a is None for a in attributes):
        return None
    signature = [tuple(a.get(k) for k in keys) for a in attributes]
    n = len(signature)
    return torch.tensor(
        [[signature[i] == signature[j] for j in range(n)] for i in range(n)], dtype=torch.bool
    )


def _lr_factor(
    step: int, total_steps: int, elapsed: float, budget: float | None, warmup: int
) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = step / max(1, total_steps)
    if budget:
        progress = max(progress, elapsed / budget)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def latest_epoch_checkpoint(work_dir: Path) -> Path | None:
    """The newest ``epoch-NNN.pt`` in ``work_dir`` (None when there is none)."""
    found = sorted(work_dir.glob(f"{EPOCH_PREFIX}*.pt"))
    return found[-1] if found else None


class Trainer:
    """Trains ``model`` in place on ``train`` pairs; validates on ``val`` pairs each epoch."""

    def __init__(
        self,
        model: CLIP,
        train: PairSet,
        val: PairSet,
        config: TrainConfig,
        *,
        mean: Sequence[float],
        std: Sequence[float],
        work_dir: str | Path,
        val_captions: Sequence[Caption],
        progress: bool = True,
    ) -> None:
        if len(train) < 2:
            raise ValueError("need at least 2 training pairs")
        self.model, self.train_set, self.val_set, self.config = model, train, val, config
        self.mean, self.std = tuple(mean), tuple(std)
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.val_captions = list(val_captions)
        self.progress = progress
        self.batch_size = min(config.batch_size, len(train))
        self.steps_per_epoch = len(train) // self.batch_size
        if config.lock_image:
            for p in model.visual.parameters():
                p.requires_grad_(False)
        params = [p for p in model.parameters() if p.requires_grad]
        decay = [p for p in params if p.ndim >= 2]
        no_decay = [p for p in params if p.ndim < 2]
        self.optimizer = torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": config.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=config.lr,
            betas=(0.9, 0.98),
            eps=1e-6,
        )
        self.loss_fn = MultiPositiveClipLoss(image_weight=config.image_loss_weight)
        self.train_facts = train.facts
        self.val_facts = val.facts

    def evaluate(self) -> dict[str, float]:
        """Validation metrics of the current weights."""
        return validate(
            self.model,
            self.val_set.images,
            [c.text for c in self.val_captions],
            self.mean,
            self.std,
            [c.claims for c in self.val_captions],
            self.val_facts,
        )

    def _step(self, indices: list[int], rng: random.Random, gen: torch.Generator) -> float:
        cfg = self.config
        model = self.model
        model.train()
        if cfg.lock_image:
            model.visual.eval()
        images = torch.from_numpy(self.train_set.images[indices])
        images = augment_batch(
            images, gen, min_scale=cfg.min_scale, brightness=cfg.brightness, contrast=cfg.contrast
        )
        x = to_model_input(images, self.mean, self.std)
        captions = self.train_set.captions(indices, rng)
        tokens = tokenize([c.text for c in captions], model.context_length)
        if cfg.lock_image:
            with torch.no_grad():
                image_features = model.encode_image(x, normalize=True)
        else:
            image_features = model.encode_image(x, normalize=True)
        text_features = model.encode_text(tokens, normalize=True)
        scale = model.logit_scale.exp()
        facts = [self.train_facts[i] for i in indices]
        if cfg.multi_positive and any(facts):
            mask = positive_mask([c.claims for c in captions], facts)
            image_mask = _image_keys_mask(
                [self.train_set.attributes[i] for i in indices], cfg.image_keys
            )
            loss = self.loss_fn(image_features, text_features, scale, mask, image_mask)
        else:
            loss = clip_loss(image_features, text_features, scale)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        self.optimizer.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        return float(loss.detach())

    def _save_epoch(self, state: dict[str, Any]) -> None:
        path = self.work_dir / f"{EPOCH_PREFIX}{state['epoch']:03d}.pt"
        tmp = path.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(path)  # atomic: a crash mid-write never leaves a truncated "latest" checkpoint
        for old in sorted(self.work_dir.glob(f"{EPOCH_PREFIX}*.pt"))[:-2]:
            old.unlink()

    def fit(
        self, *, resume: bool = True, on_epoch: Callable[[EpochLog], None] | None = None
    ) -> TrainResult:
        """Train until epochs, budget, max_steps or patience run out; returns the best weights."""
        cfg = self.config
        total_steps = cfg.epochs * self.steps_per_epoch
        start_epoch, step, elapsed = 1, 0, 0.0
        history: list[EpochLog] = []
        losses: list[float] = []
        best_metrics = self.evaluate()
        best_score, best_epoch = best_metrics.get(cfg.select_metric, 0.0), 0
        best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        last = latest_epoch_checkpoint(self.work_dir) if resume else None
        if last is not None:
            saved = torch.load(last, map_location="cpu", weights_only=False)
            self.model.load_state_dict(saved["model"])
            self.optimizer.load_state_dict(saved["optimizer"])
            start_epoch, step, elapsed = saved["epoch"] + 1, saved["step"], saved["elapsed"]
            history = [EpochLog(**h) for h in saved["history"]]
            losses = list(saved["losses"])
            best_score, best_epoch, best_metrics = (
                saved["best_score"],
                saved["best_epoch"],
                saved["best_metrics"],
            )
            best_state = saved["best_state"]
        rng = random.Random(cfg.seed * 1_000_003 + start_epoch)
        gen = torch.Generator().manual_seed(cfg.seed * 7919 + start_epoch)
        np_rng = np.random.default_rng(cfg.seed + start_epoch)
        stopped = "epochs"
        since_best = 0 if not history else start_epoch - 1 - best_epoch
        for epoch in range(start_epoch, cfg.epochs + 1):
            t0 = time.monotonic()
            order = np_rng.permutation(len(self.train_set))
            epoch_losses: list[float] = []
            bar = tqdm(
                range(self.steps_per_epoch),
                desc=f"epoch {epoch}/{cfg.epochs}",
                disable=not self.progress,
                leave=False,
            )
            out_of_time = False
            for b in bar:
                for group in self.optimizer.param_groups:
                    group["lr"] = cfg.lr * _lr_factor(
                        step,
                        total_steps,
                        elapsed + time.monotonic() - t0,
                        cfg.minutes and cfg.minutes * 60,
                        cfg.warmup_steps,
                    )
                indices = order[b * self.batch_size : (b + 1) * self.batch_size].tolist()
                epoch_losses.append(self._step(indices, rng, gen))
                step += 1
                bar.set_postfix(loss=f"{epoch_losses[-1]:.3f}")
                if cfg.max_steps is not None and step >= cfg.max_steps:
                    stopped, out_of_time = "max_steps", True
                    break
                if cfg.minutes is not None and elapsed + time.monotonic() - t0 >= cfg.minutes * 60:
                    stopped, out_of_time = "time budget", True
                    break
            elapsed += time.monotonic() - t0
            losses.extend(epoch_losses)
            metrics = self.evaluate()
            log = EpochLog(
                epoch,
                len(epoch_losses),
                float(np.mean(epoch_losses)) if epoch_losses else float("nan"),
                metrics,
                round(time.monotonic() - t0, 1),
            )
            history.append(log)
            score = metrics.get(cfg.select_metric, 0.0)
            if score > best_score:
                best_score, best_epoch, best_metrics, since_best = score, epoch, metrics, 0
                best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            else:
                since_best += 1
            self._save_epoch(
                {
                    "epoch": epoch,
                    "step": step,
                    "elapsed": elapsed,
                    "model": self.model.state_dict(),
                    "optimizer": self.optimizer.state_dict(),
                    "history": [asdict(h) for h in history],
                    "losses": losses,
                    "best_score": best_score,
                    "best_epoch": best_epoch,
                    "best_metrics": best_metrics,
                    "best_state": best_state,
                    "config": asdict(self.config),
                }
            )
            if on_epoch:
                on_epoch(log)
            if out_of_time:
                break
            if since_best >= cfg.patience:
                stopped = "early stopping"
                break
        self.model.load_state_dict(best_state)
        return TrainResult(best_epoch, best_metrics, history, stopped, losses, best_state)
