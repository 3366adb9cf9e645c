"""The training package: captions, losses, augmentation, WiSE-FT, checkpoints, and the real
training loop for a few steps on a tiny subset (loss falls, resume continues)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch
from open_clip.loss import ClipLoss

from indexer.records import MapRecord
from indexer.training.augment import augment_batch
from indexer.training.captions import (
    attribute_facts,
    build_caption,
    canonical_caption,
    metadata_caption,
)
from indexer.training.checkpoint import (
    build_model,
    default_preprocess_cfg,
    load_demo_checkpoint,
    save_checkpoint,
    tokenize,
)
from indexer.training.data import PairSet, letterbox_uint8
from indexer.training.demo import validation_captions
from indexer.training.losses import MultiPositiveClipLoss, positive_mask
from indexer.training.trainer import TrainConfig, Trainer
from indexer.training.wise_ft import interpolate_state_dicts
from tests.support.training import one_torch_thread  # noqa: F401 (a fixture)

TINY_CFG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


COLOURS = {"grayscale": (128, 128, 128), "blueprint": (30, 60, 200), "sepia": (160, 120, 60)}


def record(i: int, **extra: object) -> MapRecord:
    return MapRecord(
        id=f"t:{i}",
        source="t",
        title=f"Plan of Town {i}",
        date="1780",
        year_start=1780,
        formats=["map"],
        **extra,
    )  # type: ignore[arg-type]


def tiny_pairs(n: int = 48) -> PairSet:
    """Flat-coloured images, striped when the kind is a city plan: learnable in a few steps."""
    records, images, attributes = [], [], []
    for i in range(n):
        colour, kind = list(COLOURS)[i % 3], ("world_map", "city_plan")[(i // 3) % 2]
        img = np.zeros((32, 32, 3), np.uint8) + np.array(COLOURS[colour], np.uint8)
        if kind == "city_plan":
            img[::4] = 0
        records.append(record(i))
        images.append(img)
        attributes.append(
            {"colour_scheme": colour, "kind": kind, "ornaments": ["ship"] if i % 4 == 0 else []}
        )
    return PairSet(records, np.stack(images), attributes)


def make_trainer(tmp_path: Path, pairs: PairSet, **cfg: object) -> Trainer:
    torch.manual_seed(0)
    model = build_model(TINY_CFG)
    pre = default_preprocess_cfg(32)
    config = TrainConfig(
        **{"epochs": 3, "batch_size": 16, "lr": 3e-3, "warmup_steps": 2, "seed": 0, **cfg}
    )  # type: ignore[arg-type]
    return Trainer(
        model,
        pairs,
        pairs,
        config,
        mean=pre["mean"],
        std=pre["std"],
        work_dir=tmp_path / "work",
        val_captions=validation_captions(pairs, 0),
        progress=False,
    )


# ---- captions ---------------------------------------------------------------------------------


def test_captions_claim_only_true_facts_and_vary() -> None:
    attrs = {
        "colour_scheme": "grayscale",
        "kind": "nautical_chart",
        "ornaments": ["sea_monster", "ship"],
        "relief": "none",
        "wear": "worn",
        "year": 1650,
    }
    rng = random.Random(1)
    captions = [build_caption(record(1), attrs, rng) for _ in range(200)]
    facts = attribute_facts(attrs)
    assert all(c.claims <= facts for c in captions)
    assert len({c.text for c in captions}) > 100  # rich variety
    assert any("kind=nautical_chart" in c.claims for c in captions)
    assert any(not c.claims for c in captions)  # some catalogue-only captions
    assert "relief=none" not in set().union(
        *(c.claims for c in captions)
    )  # "no relief" is never claimed


def test_metadata_caption_has_format_title_date_and_no_claims() -> None:
    rec = record(3, notes=["Relief shown by hachures."], places=[{"name": "Boston"}])
    text = metadata_caption(rec, random.Random(0))
    assert text.startswith("map. Plan of Town 3. 1780")
    caption = build_caption(rec, None, random.Random(0))
    assert caption.claims == frozenset()


def test_canonical_caption() -> None:
    assert (
        canonical_caption(
            {"colour_scheme": "grayscale", "kind": "city_plan", "ornaments": ["ship", "cartouche"]}
        )
        == "grayscale city plan with cartouche and ship"
    )


# ---- losses and augmentation ------------------------------------------------------------------


def test_positive_mask_uses_claims_subset_of_facts() -> None:
    claims = [frozenset({"kind=a"}), frozenset(), frozenset({"kind=a", "colour_scheme=x"})]
    facts = [
        frozenset({"kind=a", "colour_scheme=y"}),
        frozenset({"kind=a", "colour_scheme=x"}),
        frozenset({"kind=b"}),
    ]
    mask = positive_mask(claims, facts)
    assert mask.tolist() == [[True, True, False], [False, True, False], [False, True, True]]


def test_multi_positive_loss_equals_clip_loss_with_identity_mask() -> None:
    torch.manual_seed(0)
    img = torch.nn.functional.normalize(torch.randn(6, 8), dim=1)
    txt = torch.nn.functional.normalize(torch.randn(6, 8), dim=1)
    scale = torch.tensor(10.0)
    ours = MultiPositiveClipLoss()(img, txt, scale, torch.eye(6, dtype=torch.bool))
    assert torch.allclose(ours, ClipLoss()(img, txt, scale), atol=1e-5)
    # a true extra positive lowers the loss when its similarity is high: caption 1 also
    # describes image 0, and says it in image 0's own words (captions 0 and 1 must differ, or
    # both masks give the same loss by symmetry and the comparison is float noise)
    txt2 = txt.clone()
    txt2[1] = img[0]
    mask = torch.eye(6, dtype=torch.bool)
    mask[1, 0] = True
    assert MultiPositiveClipLoss()(img, txt2, scale, mask) < MultiPositiveClipLoss()(
        img, txt2, scale, torch.eye(6, dtype=torch.bool)
    )


def test_augmentation_never_flips_or_shifts_hue() -> None:
    img = np.zeros((1, 32, 32, 3), np.uint8)
    img[0, :, :8] = (200, 30, 30)  # a red band on the left only
    gen = torch.Generator().manual_seed(0)
    same = augment_batch(torch.from_numpy(img), gen, min_scale=1.0, brightness=0.0, contrast=0.0)
    assert torch.equal(same, torch.from_numpy(img))
    out = augment_batch(torch.from_numpy(img).repeat(16, 1, 1, 1), gen).numpy().astype(int)
    assert (
        out[:, :, :4, 0] > out[:, :, :4, 2]
    ).all()  # left edge stays red: no flip, no hue change
    assert (out[:, :, -4:, 0] < 60).all()  # right edge stays dark


def test_letterbox_keeps_whole_map() -> None:
    from PIL import Image

    wide = Image.new("RGB", (200, 100), (255, 255, 255))
    out = letterbox_uint8(wide, 32)
    assert out.shape == (32, 32, 3)
    assert out[16, 0].tolist() == [255, 255, 255] and out[16, 31].tolist() == [255, 255, 255]
    assert out[0, 16].tolist() == [0, 0, 0]  # padding above, not a crop


# ---- WiSE-FT and checkpoints ------------------------------------------------------------------


def test_wise_ft_interpolation() -> None:
    base = {"w": torch.tensor([0.0, 2.0]), "n": torch.tensor([1])}
    ft = {"w": torch.tensor([4.0, 6.0]), "n": torch.tensor([7])}
    assert torch.equal(interpolate_state_dicts(base, ft, 0.0)["w"], base["w"])
    assert torch.equal(interpolate_state_dicts(base, ft, 1.0)["w"], ft["w"])
    half = interpolate_state_dicts(base, ft, 0.25)
    assert torch.allclose(half["w"], torch.tensor([1.0, 3.0]))
    assert half["n"].item() == 7  # integer buffers are not averaged
    with pytest.raises(ValueError):
        interpolate_state_dicts(base, ft, 1.5)
    with pytest.raises(ValueError):
        interpolate_state_dicts(base, {"w": ft["w"]}, 0.5)


def test_checkpoint_round_trip_fp16(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build_model(TINY_CFG).eval()
    save_checkpoint(model, TINY_CFG, default_preprocess_cfg(32), "tiny-1", tmp_path / "ckpt")
    loaded, pre, model_id = load_demo_checkpoint(tmp_path / "ckpt")
    assert model_id == "tiny-1" and pre["size"] == 32 and pre["resize_mode"] == "longest"
    tokens = tokenize(["a grayscale city plan"], loaded.context_length)
    with torch.no_grad():
        a, b = model.encode_text(tokens, normalize=True), loaded.encode_text(tokens, normalize=True)
    assert torch.allclose(a, b, atol=2e-2)
    with pytest.raises(ValueError, match="not a mapsearch checkpoint"):
        load_demo_checkpoint(tmp_path)


# ---- the real training loop ------------------------------------------------------------------


def test_training_loss_falls_and_validation_improves(tmp_path: Path) -> None:
    pairs = tiny_pairs()
    trainer = make_trainer(
        tmp_path, pairs, epochs=5, image_loss_weight=0.5, select_metric="attr_p@10", patience=100
    )
    before = trainer.evaluate()
    result = trainer.fit()
    assert len(result.losses) == 15
    assert np.mean(result.losses[-3:]) < np.mean(result.losses[:3]) - 0.3
    assert result.best_metrics["attr_p@10"] > before["attr_p@10"]


def test_training_resumes_from_last_epoch(tmp_path: Path) -> None:
    pairs = tiny_pairs(32)
    first = make_trainer(tmp_path, pairs, epochs=2, batch_size=16).fit()
    assert [h.epoch for h in first.history] == [1, 2]
    assert sorted(p.name for p in (tmp_path / "work").glob("epoch-*.pt")) == [
        "epoch-001.pt",
        "epoch-002.pt",
    ]
    resumed = make_trainer(tmp_path, pairs, epochs=3).fit()
    assert [h.epoch for h in resumed.history] == [1, 2, 3]
    assert resumed.history[0].train_loss == first.history[0].train_loss  # carried over, not re-run
    assert len(resumed.losses) == 3 * 2


def test_lit_keeps_image_tower_and_max_steps(tmp_path: Path) -> None:
    pairs = tiny_pairs(32)
    trainer = make_trainer(tmp_path, pairs, lock_image=True, max_steps=3, multi_positive=False)
    visual_before = {k: v.clone() for k, v in trainer.model.visual.state_dict().items()}
    text_before = trainer.model.token_embedding.weight.clone()
    result = trainer.fit()
    assert result.stopped == "max_steps" and len(result.losses) == 3
    trainer.model.load_state_dict(trainer.model.state_dict())
    last = torch.load(sorted((tmp_path / "work").glob("epoch-*.pt"))[-1], weights_only=False)[
        "model"
    ]
    for name, tensor in visual_before.items():
        assert torch.equal(last[f"visual.{name}"], tensor)
    assert not torch.equal(last["token_embedding.weight"], text_before)
