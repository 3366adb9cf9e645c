"""A demo CLIP of another vision geometry: `train-demo-model --patch-size/--image-size`, and
carrying a checkpoint's weights to it (indexer/training/vit_resize.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from indexer.training.checkpoint import (
    DEMO_MODEL_DIR,
    build_model,
    load_demo_checkpoint,
    read_config,
)
from indexer.training.demo import demo_model_cfg
from indexer.training.vit_resize import load_resized, resize_patch_embedding
from tests.support.training import one_torch_thread, train_two_steps  # noqa: F401 (a fixture)
from webapi.cli import cli

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def small_cfg(image_size: int, patch_size: int) -> dict[str, Any]:
    return {
        "embed_dim": 16,
        "vision_cfg": {
            "image_size": image_size,
            "layers": 1,
            "width": 32,
            "patch_size": patch_size,
            "head_width": 16,
        },
        "text_cfg": {
            "context_length": 8,
            "vocab_size": 49408,
            "width": 16,
            "heads": 2,
            "layers": 1,
        },
    }


def test_the_demo_config_takes_a_patch_size_that_tiles_the_input() -> None:
    assert demo_model_cfg()["vision_cfg"]["patch_size"] == 32  # the shipped geometry
    assert demo_model_cfg(128, 16)["vision_cfg"] | {"image_size": 128} == {
        **demo_model_cfg()["vision_cfg"],
        "patch_size": 16,
    }
    assert demo_model_cfg(224)["vision_cfg"]["patch_size"] == 56
    with pytest.raises(ValueError, match="whole number"):
        demo_model_cfg(128, 24)


def test_a_finer_patch_embedding_embeds_a_flat_patch_as_before() -> None:
    torch.manual_seed(0)
    weight = torch.randn(8, 3, 32, 32)
    finer = resize_patch_embedding(weight, 16)
    assert finer.shape == (8, 3, 16, 16)
    colour = torch.tensor([0.2, -0.5, 0.9]).view(1, 3, 1, 1)
    before = F.conv2d(colour.expand(1, 3, 32, 32), weight, stride=32).flatten()
    after = F.conv2d(colour.expand(1, 3, 16, 16), finer, stride=16).flatten()
    assert torch.allclose(before, after, atol=1e-4)
    # and it is a resampling of the old kernel, not any kernel with the same sums
    assert torch.allclose(finer[0, 0, 0, 0], weight[0, 0, :2, :2].sum(), atol=1e-5)
    coarser = resize_patch_embedding(finer, 24)  # not a whole factor: bilinear, shape only
    assert coarser.shape == (8, 3, 24, 24)


def test_a_checkpoint_loads_into_finer_patches_with_every_other_weight_kept() -> None:
    torch.manual_seed(0)
    coarse = build_model(small_cfg(64, 32))
    fine = build_model(small_cfg(64, 16))
    changed = load_resized(fine, coarse.state_dict())
    assert changed == ["visual.conv1.weight", "visual.positional_embedding"]
    old, new = coarse.state_dict(), fine.state_dict()
    assert new["visual.positional_embedding"].shape == (4 * 4 + 1, 32)  # 2×2 grid → 4×4
    assert torch.equal(new["visual.positional_embedding"][0], old["visual.positional_embedding"][0])
    for name in set(old) - set(changed):
        assert torch.equal(new[name], old[name]), name
    text = torch.randint(1, 400, (2, 8))
    assert torch.allclose(fine.encode_text(text), coarse.encode_text(text))
    same = build_model(small_cfg(64, 32))
    assert load_resized(same, coarse.state_dict()) == []  # same geometry: loaded as is


def test_training_on_from_the_shipped_model_with_finer_patches(tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = train_two_steps(
        tmp_path,
        base="demo",
        patch_size=16,
    )
    model, preprocess, model_id = load_demo_checkpoint(out)
    assert model_id == summary["model_id"]
    vision = read_config(out)["model_cfg"]["vision_cfg"]
    assert (vision["image_size"], vision["patch_size"], preprocess["size"]) == (128, 16, 128)
    assert model.visual.positional_embedding.shape == (8 * 8 + 1, 128)
    card = (out / "MODEL_CARD.md").read_text()
    assert "128 px / 16 px" in card and "--base demo --patch-size 16" in card
    assert json.loads((out / "metrics.json").read_text())["history"][0]["steps"] == 2
    shipped, _, _ = load_demo_checkpoint(DEMO_MODEL_DIR)
    old, new = shipped.state_dict(), model.state_dict()
    assert all(
        torch.allclose(new[k], old[k], atol=0.02) for k in old if k.startswith("transformer")
    )


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--patch-size", "24"], "--patch-size"),  # 128 px is not whole 24 px patches
        (["--base", "demo", "--image-size", "200"], "--image-size"),  # the base's 32 px patches
        (["--image-size", "0"], "--image-size"),
    ],
)
def test_train_demo_model_refuses_a_geometry_of_partial_patches(
    args: list[str], option: str
) -> None:
    result = CliRunner().invoke(cli, ["train-demo-model", *args])
    assert result.exit_code != 0
    assert "Error:" in result.output and option in result.output
    assert "Traceback" not in result.output
