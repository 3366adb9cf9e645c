"""The CLIP embedder on the built-in demo config: shapes, norms, determinism, letterboxing, the
query-text cache, checkpoints on disk, and clear errors when weights cannot be had offline."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from indexer.embedder import (
    ClipEmbedder,
    Embedder,
    ModelUnavailableError,
    apply_prompt_template,
    forget_process_embedders,
    letterbox,
    process_embedder,
)
from indexer.settings import Settings, load_settings
from indexer.torch_clip import load_model, save_checkpoint


@pytest.fixture(scope="module")
def embedder() -> ClipEmbedder:
    # torch: these tests read and write open_clip checkpoints (ONNX: tests/unit/test_onnx_clip.py)
    return ClipEmbedder(
        "demo", runtime="torch", device="cpu", text_cache_size=2, batch_size=3
    ).load()


def _maps() -> list[Image.Image]:
    rng = np.random.default_rng(0)
    images = [
        Image.fromarray(rng.integers(0, 256, (90 + 30 * i, 200, 3), dtype=np.uint8))
        for i in range(4)
    ]
    images.append(Image.new("L", (64, 300), 80))  # grayscale, portrait
    images.append(Image.new("RGBA", (120, 120), (200, 30, 30, 128)))
    return images


def test_images_and_texts_give_unit_norm_float32(embedder: ClipEmbedder) -> None:
    assert isinstance(embedder, Embedder)
    images = embedder.embed_images(_maps())
    texts = embedder.embed_texts(["a nautical chart", "sea monsters", "city plan in colour", "x"])
    assert images.shape == (6, embedder.dims) and texts.shape == (4, embedder.dims)
    assert images.dtype == np.float32 and texts.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(images, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(texts[0], texts[1])
    assert embedder.embed_images([]).shape == (0, embedder.dims)


def test_same_spec_same_model_id_and_vectors(embedder: ClipEmbedder) -> None:
    other = ClipEmbedder("demo", runtime="torch", device="cpu", batch_size=3).load()
    assert other.model_id == embedder.model_id and other.model_id.startswith("demo")
    images = _maps()[:3]
    np.testing.assert_allclose(other.embed_images(images), embedder.embed_images(images), atol=1e-6)
    np.testing.assert_allclose(
        other.embed_texts(["old map"]), embedder.embed_texts(["old map"]), atol=1e-6
    )


def test_letterbox_keeps_the_whole_map() -> None:
    wide = Image.new("RGB", (400, 100), (255, 255, 255))
    wide.paste((255, 0, 0), (0, 0, 20, 100))  # a red strip at the left edge...
    wide.paste(
        (0, 0, 255), (380, 0, 400, 100)
    )  # ...and a blue one at the right: cropping would lose one
    boxed = np.asarray(letterbox(wide, 128, (123, 117, 104)))
    assert boxed.shape == (128, 128, 3)
    middle = boxed[64]
    assert tuple(middle[0]) == (255, 0, 0) and tuple(middle[127]) == (0, 0, 255)
    assert tuple(boxed[0, 64]) == (123, 117, 104) and tuple(boxed[127, 64]) == (123, 117, 104)
    assert (boxed[:, :, 0] > 200).sum() > 0 and np.abs(
        boxed[48:80].astype(int) - (255, 255, 255)
    ).sum(axis=2).min() == 0


def test_embedding_uses_the_letterboxed_image(embedder: ClipEmbedder) -> None:
    wide = Image.fromarray(np.random.default_rng(1).integers(0, 256, (80, 320, 3), dtype=np.uint8))
    boxed = letterbox(
        wide, embedder.image_size, embedder.fill
    )  # the checkpoint's declared fill (mean colour when undeclared)
    np.testing.assert_allclose(
        embedder.embed_images([wide]), embedder.embed_images([boxed]), atol=1e-5
    )


def test_prompt_template_follows_the_paper() -> None:
    assert apply_prompt_template("sea monsters", "{} map") == "sea monsters map"
    assert apply_prompt_template("  old  Maps of Ohio ", "{} map") == "old Maps of Ohio"
    assert apply_prompt_template("mapping", "{} map") == "mapping map"
    assert apply_prompt_template("ships", "") == "ships"
    assert apply_prompt_template("   ", "{} map") == ""


def test_query_text_cache_hits_are_fast_and_bounded(embedder: ClipEmbedder) -> None:
    first = embedder.embed_query_text("sea monsters")
    np.testing.assert_allclose(first, embedder.embed_texts(["sea monsters map"])[0], atol=1e-6)
    started = time.perf_counter()
    again = embedder.embed_query_text("sea monsters")
    assert time.perf_counter() - started < 1e-3
    assert again is first and not again.flags.writeable
    embedder.embed_query_text("ships")
    embedder.embed_query_text("compass roses")  # cache size 2: "sea monsters" is evicted
    assert embedder.embed_query_text("sea monsters") is not first


def test_one_embedder_per_process_loaded_on_first_use(tmp_path: Path) -> None:
    forget_process_embedders()
    settings = load_settings({"data_dir": tmp_path, "device": "cpu"})
    first = process_embedder(settings)
    assert not first.loaded
    assert (
        process_embedder(load_settings({"data_dir": tmp_path / "other", "device": "cpu"})) is first
    )
    first.embed_query_text("harbour")
    assert first.loaded
    forget_process_embedders()


def test_checkpoint_directory_round_trip(tmp_path: Path, embedder: ClipEmbedder) -> None:
    fill = embedder.runtime.fill  # keep the demo checkpoint's letterbox fill so vectors match
    save_checkpoint(
        embedder.model,
        embedder.runtime.loaded.model_cfg,
        tmp_path / "ckpt",
        model_name="tiny",
        preprocess_cfg={"size": embedder.image_size, "fill_color": list(fill) if fill else None},
    )
    loaded = ClipEmbedder(str(tmp_path / "ckpt"), device="cpu").load()
    assert loaded.model_id.startswith("tiny/") and len(loaded.model_id) == len("tiny/") + 12
    images = _maps()[:2]
    np.testing.assert_allclose(
        loaded.embed_images(images), embedder.embed_images(images), atol=2e-2
    )
    weights_only = tmp_path / "ckpt" / "open_clip_model.safetensors"
    assert ClipEmbedder(str(weights_only), device="cpu").load().model_id == loaded.model_id


def test_training_checkpoint_layout_keeps_its_declared_id_and_fill(
    tmp_path: Path, embedder: ClipEmbedder
) -> None:
    from safetensors.torch import save_file

    folder = tmp_path / "trained"
    folder.mkdir()
    save_file(
        {k: v.half().contiguous() for k, v in embedder.model.state_dict().items()},
        str(folder / "model.safetensors"),
    )
    preprocess = {
        "size": 128,
        "mean": [0.5, 0.5, 0.5],
        "std": [0.25, 0.25, 0.25],
        "resize_mode": "longest",
        "fill_color": 0,
    }
    (folder / "config.json").write_text(
        json.dumps(
            {
                "model_id": "trained-clip/0123abcd",
                "model_cfg": embedder.runtime.loaded.model_cfg,
                "preprocess_cfg": preprocess,
            }
        )
    )
    loaded = ClipEmbedder(str(folder), device="cpu").load()
    assert loaded.model_id == "trained-clip/0123abcd"
    tall = Image.new("RGB", (40, 160), (255, 255, 255))
    corner = loaded.preprocess(tall)[
        :, 0, 0
    ]  # padding: black, normalised with the checkpoint's mean/std
    np.testing.assert_allclose(corner, (0 - 0.5) / 0.25, atol=1e-6)


def test_self_describing_torch_file(tmp_path: Path, embedder: ClipEmbedder) -> None:
    path = tmp_path / "model.pt"
    torch.save(
        {
            "model_cfg": embedder.runtime.loaded.model_cfg,
            "state_dict": embedder.model.state_dict(),
            "model_name": "mine",
        },
        path,
    )
    loaded = load_model(str(path))
    assert loaded.model_id.startswith("mine/")
    bare = tmp_path / "bare" / "weights.pt"
    bare.parent.mkdir()
    torch.save(embedder.model.state_dict(), bare)
    with pytest.raises(ModelUnavailableError, match="NAME:"):
        load_model(str(bare))


@pytest.mark.parametrize("spec", ["ViT-B-32-quickgelu:openai", "ViT-B-32:laion2b_s34b_b79k"])
def test_hub_tag_offline_fails_at_once_with_a_clear_message(spec: str, tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(ModelUnavailableError) as raised:
        ClipEmbedder(spec, device="cpu", cache_dir=tmp_path / "empty-cache").load()
    assert time.monotonic() - started < 15
    message = str(raised.value)
    assert (
        "MAPSEARCH_MODEL" in message
        and "local checkpoint" in message
        and "Traceback" not in message
    )
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("ViT-B-32", "NAME:TAG"),
        ("ViT-B-32:not-a-tag", "known tags"),
        ("No-Such-Arch:openai", "unknown open_clip architecture"),
        ("/no/such/model.pt", "no such file"),
        ("", "empty"),
    ],
)
def test_bad_specs_name_the_setting(spec: str, fragment: str) -> None:
    with pytest.raises(ModelUnavailableError, match=fragment):
        load_model(spec)


@pytest.mark.parametrize("device", ["gpu0", "cuda:0"])
def test_bad_or_missing_device_is_a_clear_error(device: str) -> None:
    if device.startswith("cuda") and torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(ModelUnavailableError, match="MAPSEARCH_DEVICE"):
        ClipEmbedder("demo", device=device).load()


def test_wrapping_a_model_in_memory(embedder: ClipEmbedder) -> None:
    wrapped = ClipEmbedder.from_loaded(load_model("demo"), device="cpu")
    assert (
        wrapped.loaded and wrapped.model_id == embedder.model_id and wrapped.dims == embedder.dims
    )
    np.testing.assert_allclose(
        wrapped.embed_texts(["a sea chart"]), embedder.embed_texts(["a sea chart"]), atol=1e-6
    )


def test_settings_feed_the_embedder(settings: Settings) -> None:
    embedder = ClipEmbedder.from_settings(settings)
    assert embedder.spec == "demo" and not embedder.allow_download and not embedder.loaded
