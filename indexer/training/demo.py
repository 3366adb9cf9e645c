"""The demo model: a small CLIP trained from scratch by this package on the synthetic map world
(fixed seeds, disjoint from the seed of the demo collection that evaluation uses), stored in
fp16 in ``indexer/models/demo/`` (≈ 16 MB; the 49,408 × 128 token table dominates)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from indexer.records import MapRecord
from indexer.synthetic import generate_world
from indexer.training.captions import (
    Caption,
    canonical_caption,
    canonical_claims,
    metadata_caption,
)
from indexer.training.checkpoint import (
    DEMO_MODEL_DIR,
    build_model,
    checkpoint_dir,
    default_preprocess_cfg,
    load_demo_checkpoint,
    read_config,
    save_checkpoint,
)
from indexer.training.data import PairSet, build_pairs
from indexer.training.model_card import write_model_card
from indexer.training.tiles import (
    TILE_TRAIN_START,
    TILE_TRAIN_WORLD_SEED,
    TILE_VAL_START,
    TILE_VAL_WORLD_SEED,
    cached_tile_pair_set,
)
from indexer.training.trainer import EpochLog, TrainConfig, Trainer
from indexer.training.vit_resize import load_resized

#: Seeds of the worlds the demo model trains and validates on. The demo collection
#: (``mapsearch demo``) and the gold sets use other seeds, so evaluation is held out.
TRAIN_WORLD_SEED = 1001
VAL_WORLD_SEED = 1002
TRAIN_START = 100_001  # ids demo:100001.. (the demo collection uses demo:00001..)
VAL_START = 200_001
IMAGE_SIZE = 128
MODEL_ID_PREFIX = "demo-clip"  # the embedder treats ids starting with "demo" as the demo model


def vision_geometry(
    image_size: int | None = None,
    patch_size: int | None = None,
    base: dict[str, Any] | None = None,
) -> tuple[int, int]:
    """The vision tower's (input px, patch px): as asked, else the ``base`` checkpoint's (its
    ``vision_cfg``), else 128 px in 4×4 patches; ValueError unless whole patches tile the input."""
    if base is not None:
        size = image_size or int(base["image_size"])
        patch = patch_size or int(base["patch_size"])
    else:
        size = image_size or IMAGE_SIZE
        patch = patch_size or size // 4
    if size % patch:
        raise ValueError(f"a {size} px input is not a whole number of {patch} px patches")
    return size, patch


def demo_model_cfg(image_size: int = IMAGE_SIZE, patch_size: int | None = None) -> dict[str, Any]:
    """open_clip config of the demo CLIP: ViT 3 layers × 128 wide, by default with 4×4 patches
    (32 px at 128 px: cheap enough to train on 2 shared cores), text 3 × 128 over 24 tokens."""
    image_size, patch = vision_geometry(image_size, patch_size)
    return {
        "embed_dim": 128,
        "vision_cfg": {
            "image_size": image_size,
            "layers": 3,
            "width": 128,
            "patch_size": patch,
            "head_width": 32,
        },
        "text_cfg": {
            "context_length": 24,
            "vocab_size": 49408,
            "width": 128,
            "heads": 4,
            "layers": 3,
        },
    }


def world_items(
    size: int, seed: int, start: int = 1
) -> Iterator[tuple[MapRecord, Mapping[str, Any], Callable[[], Image.Image]]]:
    """(record, attributes, render) for each map of the synthetic world ``(size, seed)``, ids
    from ``start``. Maps are drawn at full size, exactly as the demo collection stores them,
    and letterboxed down like the embedder does (small renders draw ornaments differently)."""
    for smap in generate_world(size, seed, start=start):
        yield smap.record, dict(smap.attributes), smap.render


def world_pairs(
    size: int, seed: int, image_size: int, cache_dir: Path | None, start: int = 1
) -> PairSet:
    """The rendered world, cached as ``world-<seed>-<start>-<size>-<px>.npz``
    (rendering is deterministic)."""
    path = cache_dir / f"world-{seed}-{start}-{size}-{image_size}.npz" if cache_dir else None
    if path is not None and path.is_file():
        return PairSet.load(path)
    pairs = build_pairs(
        world_items(size, seed, start), image_size, total=size, desc=f"rendering world {seed}"
    )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        pairs.save(path)
    return pairs


def validation_captions(pairs: PairSet, seed: int) -> list[Caption]:
    """Fixed validation captions: canonical attribute captions where ground truth is known."""
    rng = random.Random(seed)
    out = []
    for record, attrs in zip(pairs.records, pairs.attributes, strict=True):
        if attrs:
            out.append(Caption(canonical_caption(attrs), canonical_claims(attrs)))
        else:
            out.append(Caption(metadata_caption(record, rng), frozenset()))
    return out


def weights_digest(model: torch.nn.Module) -> str:
    """Short hash of the fp16 weights: the model id changes whenever the weights do."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to(torch.float16).cpu().numpy().tobytes())
    return digest.hexdigest()[:10]


def train_demo_model(
    *,
    out_dir: str | Path = DEMO_MODEL_DIR,
    seed: int = 0,
    minutes: float = 5.0,
    train_size: int = 8000,
    val_size: int = 500,
    image_size: int | None = None,
    patch_size: int | None = None,
    cache_dir: str | Path | None = None,
    work_dir: str | Path | None = None,
    config: TrainConfig | None = None,
    progress: bool = True,
    on_epoch: Callable[[EpochLog], None] | None = None,
    base: str | Path | None = None,
    tile_sheets: int = 0,
    tile_val_sheets: int = 0,
    tile_grid: str = "2,4@0.25",
) -> dict[str, Any]:
    """Train the demo CLIP from scratch, or go on training the checkpoint folder ``base``, and
    write checkpoint + model card to ``out_dir``.

    ``image_size`` and ``patch_size`` set the vision tower's input and patch size (default: the
    base's, else 128 px with 32 px patches); a base of another geometry is carried over with its
    patch embedding resampled and its positional grid interpolated (``vit_resize``).
    ``tile_sheets`` > 0 mixes region pairs into the whole-map pairs: the ``tile_grid`` tiles and
    ornament crops of that many large-format sheets (``indexer.training.tiles``), validated with
    the tiles of ``tile_val_sheets`` other sheets. Returns the summary written to
    ``metrics.json``. Same seed and sizes → same data and initialisation; the wall-clock budget
    decides how many steps run."""
    torch.manual_seed(seed)
    if base is None:
        image_size = image_size or IMAGE_SIZE
        model_cfg = demo_model_cfg(image_size, patch_size)
        model = build_model(model_cfg)
        pre = default_preprocess_cfg(image_size)
        base_note = "Trained from scratch (no pretrained weights exist offline)"
    else:
        base_dir = checkpoint_dir(base)
        model, pre, base_id = load_demo_checkpoint(base_dir)
        model_cfg = read_config(base_dir)["model_cfg"]
        base_note = f"Trained on from {base_id} ({base_dir})"
        vision = model_cfg["vision_cfg"]
        was = (int(vision["image_size"]), int(vision["patch_size"]))
        image_size, patch = vision_geometry(image_size, patch_size, vision)
        if (image_size, patch) != was:
            model_cfg = {
                **model_cfg,
                "vision_cfg": {**vision, "image_size": image_size, "patch_size": patch},
            }
            resized = build_model(model_cfg)
            load_resized(resized, model.state_dict())
            model, pre = resized, {**pre, "size": image_size}
            base_note += (
                f", its vision tower carried from {was[0]} px input / {was[1]} px patches to"
                f" {image_size} px / {patch} px (patch embedding resampled, positional grid"
                " interpolated)"
            )
    cache = Path(cache_dir) if cache_dir else None
    train = world_pairs(train_size, TRAIN_WORLD_SEED + 10 * seed, image_size, cache, TRAIN_START)
    val = world_pairs(val_size, VAL_WORLD_SEED + 10 * seed, image_size, cache, VAL_START)
    tile_seeds = (TILE_TRAIN_WORLD_SEED + 10 * seed, TILE_VAL_WORLD_SEED + 10 * seed)
    if tile_sheets:
        train = train + cached_tile_pair_set(
            tile_sheets,
            tile_seeds[0],
            TILE_TRAIN_START,
            cache,
            grid=tile_grid,
            input_size=image_size,
            progress=progress,
        )
    if tile_val_sheets:
        val = val + cached_tile_pair_set(
            tile_val_sheets,
            tile_seeds[1],
            TILE_VAL_START,
            cache,
            grid=tile_grid,
            input_size=image_size,
            progress=progress,
        )
    cfg = config or TrainConfig(
        epochs=1000,
        batch_size=64,
        lr=1.5e-3 if base is None else 5e-4,
        warmup_steps=20,
        minutes=minutes,
        multi_positive=True,
        image_loss_weight=0.5,
        select_metric="attr_p@10",
        patience=1000,
        seed=seed,
    )
    trainer = Trainer(
        model,
        train,
        val,
        cfg,
        mean=pre["mean"],
        std=pre["std"],
        work_dir=Path(work_dir) if work_dir else Path(out_dir) / ".work",
        val_captions=validation_captions(val, seed),
        progress=progress,
    )
    before = trainer.evaluate()
    result = trainer.fit(resume=True, on_epoch=on_epoch)
    model_id = (
        f"{MODEL_ID_PREFIX}/{weights_digest(model)}"  # "name/digest", as the embedder expects
    )
    save_checkpoint(model, model_cfg, pre, model_id, out_dir)
    vision = model_cfg["vision_cfg"]
    run_args = [
        *([f"--base {base}"] if base is not None else []),
        *([f"--image-size {vision['image_size']}"] if image_size != IMAGE_SIZE else []),
        *([f"--patch-size {vision['patch_size']}"] if patch_size else []),
        *(
            [f"--tile-sheets {tile_sheets} --tile-val-sheets {tile_val_sheets}"]
            if tile_sheets
            else []
        ),
        *([f"--train-size {train_size}"] if base is not None or tile_sheets else []),
    ]
    write_model_card(
        out_dir,
        model_id=model_id,
        title="mapsearch demo CLIP (synthetic map world)",
        data={
            "train": (
                f"synthetic world seed {TRAIN_WORLD_SEED + 10 * seed}, {train_size} maps rendered"
                f" at {image_size} px (letterboxed); {len(train)} pairs in all"
            ),
            "validation": (
                f"synthetic world seed {VAL_WORLD_SEED + 10 * seed}, {val_size} maps, canonical"
                f" attribute captions; {len(val)} pairs in all"
            ),
            "captions": (
                "rule-based: attribute words (varied synonyms from"
                " indexer/synthetic/vocabulary.py) + place/date/title"
            ),
            **(
                {
                    "region pairs": (
                        f"{tile_grid} tiles and ornament crops of {tile_sheets} large-format"
                        f" sheets of world seed {tile_seeds[0]} (validation: {tile_val_sheets}"
                        f" sheets of seed {tile_seeds[1]}), captioned from the ornament boxes"
                        " inside each (indexer/training/tiles.py)"
                    )
                }
                if tile_sheets
                else {}
            ),
            "held out": (
                "the demo collection and gold query sets use other world seeds (docs/quality.md)"
            ),
        },
        settings={
            **asdict(cfg),
            "seed": seed,
            "stopped": result.stopped,
            "best_epoch": result.best_epoch,
        },
        model_cfg=model_cfg,
        before=before,
        after=result.best_metrics,
        history=[asdict(h) for h in result.history],
        notes=[
            f"{base_note}; weights stored in float16.",
            "Loss: multi-positive symmetric InfoNCE (a caption is a positive for every image whose "
            "ground truth "
            "includes all attributes it states) + 0.5 × image–image term (same kind and colour "
            "scheme).",
            "Augmentation: random crops keeping ≥ 80 % of each side, brightness/contrast ±10 %; "
            "no flips, no hue jitter.",
            "Reproduce: `mapsearch train-demo-model --seed 0 --minutes N` (the budget decides the "
            "step count)" + (f"; this run: `{' '.join(run_args)}`" if run_args else "") + ".",
        ],
    )
    return {"model_id": model_id, "before": before, **result.summary()}
