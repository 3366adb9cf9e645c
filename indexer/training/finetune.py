"""Fine-tuning a CLIP checkpoint on an indexed collection's map–caption pairs (``mapsearch
finetune``): pairs from the indexed records and their images, a held-out split by id, the
training loop, optional WiSE-FT interpolation, and a checkpoint + model card."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from open_clip.model import CLIP

from indexer.backends.base import BackendQuery, SearchBackend
from indexer.images import load_image
from indexer.settings import Settings
from indexer.training.captions import Caption, build_caption
from indexer.training.checkpoint import (
    build_model,
    checkpoint_dir,
    default_preprocess_cfg,
    is_checkpoint_dir,
    load_demo_checkpoint,
    read_config,
    save_checkpoint,
)
from indexer.training.data import PairSet, build_pairs
from indexer.training.demo import weights_digest
from indexer.training.model_card import write_model_card
from indexer.training.trainer import TrainConfig, Trainer
from indexer.training.wise_ft import interpolate_state_dicts


def load_base(spec: str | Path) -> tuple[CLIP, dict[str, Any], dict[str, Any], str]:
    """(model, model cfg, preprocess cfg, model id) from a checkpoint folder, ``"demo"``, or an
    open_clip ``NAME:PRETRAINED`` tag (which needs the weights available locally)."""
    path = checkpoint_dir(spec)
    if is_checkpoint_dir(path):
        model, pre, model_id = load_demo_checkpoint(path)
        return model, read_config(path)["model_cfg"], pre, model_id
    import open_clip

    name, _, pretrained = str(spec).partition(":")
    model_cfg = open_clip.get_model_config(name)
    if model_cfg is None:
        raise ValueError(f"{spec!r} is neither a checkpoint folder nor an open_clip model name")
    model = open_clip.create_model(name, pretrained=pretrained or None)
    pre = (
        asdict(model.visual.preprocess_cfg)
        if hasattr(model.visual, "preprocess_cfg")
        else default_preprocess_cfg(224)
    )
    if isinstance(pre, dict):
        pre["resize_mode"] = "longest"
    return model, model_cfg, pre, str(spec)  # type: ignore[return-value]


def indexed_records(backend: SearchBackend, page: int = 500) -> Iterator[Any]:
    """Every indexed document with an image (browse pages through the whole index)."""
    offset = 0
    while True:
        result = backend.search(
            BackendQuery(browse_sort="title", browse_offset=offset, browse_limit=page)
        )
        if not result.browse:
            return
        docs = backend.fetch([h.id for h in result.browse])
        for hit in result.browse:
            doc = docs.get(hit.id)
            if doc is not None and doc.record.has_image:
                yield doc.record
        offset += len(result.browse)
        if offset >= result.total:
            return


def read_ground_truth(path: str | Path) -> dict[str, dict[str, Any]]:
    """``{"id": ..., "attributes": {...}}`` lines → id → attributes."""
    out: dict[str, dict[str, Any]] = {}
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out[str(row["id"])] = dict(row["attributes"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(
                f"{path}:{n}: expected {{'id': ..., 'attributes': {{...}}}} ({exc})"
            ) from exc
    return out


def collection_pairs(
    settings: Settings,
    backend: SearchBackend,
    image_size: int,
    ground_truth: Mapping[str, Mapping[str, Any]] | None = None,
    limit: int | None = None,
) -> PairSet:
    """Pairs from the indexed records and their images (fetched/decoded once, letterboxed)."""

    def items() -> Iterator[tuple[Any, Any, Any]]:
        for n, record in enumerate(indexed_records(backend)):
            if limit is not None and n >= limit:
                return
            image_ref = record.image
            yield (
                record,
                (ground_truth or {}).get(record.id),
                (lambda ref=image_ref: load_image(ref, settings, settings.data_dir)),
            )

    return build_pairs(items(), image_size, desc="loading images")


def is_held_out(doc_id: str, val_fraction: float) -> bool:
    """Deterministic split by id hash: the same documents are held out on every run."""
    bucket = int(hashlib.sha1(doc_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return bucket < val_fraction


def split_pairs(pairs: PairSet, val_fraction: float) -> tuple[PairSet, PairSet]:
    """(train, held-out validation) by :func:`is_held_out`."""
    val_idx = [i for i, r in enumerate(pairs.records) if is_held_out(r.id, val_fraction)]
    held = set(val_idx)
    train_idx = [i for i in range(len(pairs)) if i not in held]
    return pairs.subset(train_idx), pairs.subset(val_idx)


def fixed_captions(pairs: PairSet, seed: int) -> list[Caption]:
    """One caption per pair drawn with a fixed seed (validation must not change between runs)."""
    rng = random.Random(seed)
    return [build_caption(r, a, rng) for r, a in zip(pairs.records, pairs.attributes, strict=True)]


def finetune(
    base: str | Path,
    train: PairSet,
    val: PairSet,
    out_dir: str | Path,
    config: TrainConfig,
    *,
    wise_alpha: float = 1.0,
    fp16: bool = True,
    progress: bool = True,
) -> dict[str, Any]:
    """Fine-tune ``base`` on ``train``, validate on
    ``val``, apply WiSE-FT, write checkpoint + card."""
    if len(val) < 2:
        raise ValueError(
            "the held-out validation split has fewer than 2 pairs; index more maps or raise "
            "--val-fraction"
        )
    torch.manual_seed(config.seed)
    model, model_cfg, pre, base_id = load_base(base)
    base_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    out = Path(out_dir)
    trainer = Trainer(
        model,
        train,
        val,
        config,
        mean=pre["mean"],
        std=pre["std"],
        work_dir=out / ".work",
        val_captions=fixed_captions(val, config.seed + 1),
        progress=progress,
    )
    before = trainer.evaluate()
    result = trainer.fit(resume=True)
    after_ft = result.best_metrics
    if wise_alpha < 1.0:
        model.load_state_dict(interpolate_state_dicts(base_state, model.state_dict(), wise_alpha))
    after = trainer.evaluate()
    suffix = "lit" if config.lock_image else "ft"
    model_id = f"{base_id.split('/')[0]}-{suffix}/{weights_digest(model)}"
    save_checkpoint(model, model_cfg, pre, model_id, out, fp16=fp16)
    if config.lock_image:
        # LiT keeps the image tower bit-identical: vectors indexed with the base stay valid
        cfg_path = out / "config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg["image_model_id"] = base_id
        cfg_path.write_text(json.dumps(cfg, indent=2) + "\n")
    write_model_card(
        out,
        model_id=model_id,
        title=f"Fine-tuned from {base_id}",
        data={"train pairs": len(train), "held-out pairs": len(val), "base": str(base)},
        settings={
            **asdict(config),
            "wise_ft_alpha": wise_alpha,
            "stopped": result.stopped,
            "best_epoch": result.best_epoch,
        },
        model_cfg=model_cfg,
        before=before,
        after=after,
        history=[asdict(h) for h in result.history],
        notes=[
            "before WiSE-FT the fine-tuned weights scored "
            f"{json.dumps({k: round(v, 4) for k, v in after_ft.items()})}"
        ]
        if wise_alpha < 1.0
        else None,
    )
    return {"model_id": model_id, "before": before, "after": after, **result.summary()}


def weaken_checkpoint(src: str | Path, out_dir: str | Path, strength: float, seed: int = 0) -> str:
    """Blend a checkpoint with a random initialisation (``strength`` = weight of the noise): the
    deliberately weakened starting point of the before/after fine-tuning experiment."""
    model, model_cfg, pre, model_id = load_base(src)
    torch.manual_seed(seed)
    noise = build_model(model_cfg).state_dict()
    model.load_state_dict(interpolate_state_dicts(model.state_dict(), noise, strength))
    weak_id = f"{model_id.split('/')[0]}-weakened-{strength:g}/{weights_digest(model)}"
    save_checkpoint(model, model_cfg, pre, weak_id, out_dir)
    return weak_id
