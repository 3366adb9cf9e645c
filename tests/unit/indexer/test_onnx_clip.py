"""The ONNX runtime against torch: the exported towers and tokenizer give the same vectors
(cosine ≥ 0.9999) and the same search results, the export is reproducible, and the embedder
picks the runtime the model can run on."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from indexer.embedder import ClipEmbedder, ModelUnavailableError, open_runtime
from indexer.model_export import export_onnx
from indexer.model_specs import DEMO_MODEL_DIR, ONNX_CONFIG, onnx_export_for, read_onnx_config
from indexer.onnx_clip import IMAGE_FILE, TEXT_FILE, TOKENIZER_FILE, OnnxClip
from indexer.torch_clip import TorchClip, load_checkpoint_dir, load_model, save_checkpoint

TEXTS = [
    "a map with a sea monster",
    "compass rose",
    "Chesapeake Bay, 1850",
    "Carte de l'Amérique septentrionale — São Paulo!!",
    "it's 3 o'clock &amp; <b>bold</b> 12,000 ft",
    "Straßenkarte von München",
    "x",
    "",
    "  MIXED   Case\tTabs\nnewlines  ",
    "日本の地図 and ☃ snow",
    "word " * 40,  # longer than any context: truncated, ends with end-of-text
]
MIN_COSINE = 0.9999


def _images() -> list[Image.Image]:
    rng = np.random.default_rng(3)
    images = [
        Image.fromarray(rng.integers(0, 256, (90 + 40 * i, 210, 3), dtype=np.uint8))
        for i in range(3)
    ]
    drawn = Image.new("RGB", (300, 220), (236, 222, 190))
    pen = ImageDraw.Draw(drawn)
    pen.ellipse((40, 40, 160, 160), outline=(20, 40, 120), width=6)
    pen.line((0, 200, 300, 20), fill=(120, 30, 30), width=4)
    images += [
        drawn,
        Image.new("L", (64, 300), 80),
        Image.new("RGBA", (120, 120), (200, 30, 30, 128)),
    ]
    return images


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def demo_pair() -> tuple[ClipEmbedder, ClipEmbedder]:
    onnx = ClipEmbedder("demo", runtime="onnx", device="cpu", batch_size=4).load()
    torch = ClipEmbedder("demo", runtime="torch", device="cpu", batch_size=4).load()
    return onnx, torch


def test_tokenizer_gives_open_clips_ids() -> None:
    loaded = load_model("demo")
    runtime = OnnxClip(onnx_export_for("demo"))  # type: ignore[arg-type]
    assert runtime.trim_tokens
    expected = loaded.tokenizer(TEXTS).numpy()
    np.testing.assert_array_equal(runtime.tokenizer(TEXTS), expected)


def test_demo_model_vectors_agree_across_runtimes(
    demo_pair: tuple[ClipEmbedder, ClipEmbedder],
) -> None:
    onnx, torch = demo_pair
    assert onnx.runtime_name == "onnx" and torch.runtime_name == "torch"
    assert onnx.model_id == torch.model_id and onnx.dims == torch.dims
    images = _images()
    assert _cosines(onnx.embed_images(images), torch.embed_images(images)).min() >= MIN_COSINE
    assert _cosines(onnx.embed_texts(TEXTS), torch.embed_texts(TEXTS)).min() >= MIN_COSINE
    np.testing.assert_allclose(
        onnx.embed_query_text("sea monsters"), torch.embed_query_text("sea monsters"), atol=1e-4
    )


def test_shipped_demo_export_is_the_shipped_checkpoint() -> None:
    export = onnx_export_for("demo")
    assert export is not None
    config = read_onnx_config(export)
    assert config["model_id"] == load_checkpoint_dir(DEMO_MODEL_DIR).model_id
    for name in (TEXT_FILE, IMAGE_FILE, TOKENIZER_FILE):
        import hashlib

        assert hashlib.sha256((export / name).read_bytes()).hexdigest() == config["files"][name]


def test_export_is_reproducible(tmp_path: Path) -> None:
    loaded = load_checkpoint_dir(DEMO_MODEL_DIR)
    first = export_onnx(loaded, tmp_path / "a")
    second = export_onnx(load_checkpoint_dir(DEMO_MODEL_DIR), tmp_path / "b")
    for name in (TEXT_FILE, IMAGE_FILE, TOKENIZER_FILE, ONNX_CONFIG):
        assert filecmp.cmp(first / name, second / name, shallow=False), name
    assert not (tmp_path / "a.tmp-export").exists()


@pytest.mark.slow
def test_vit_b32_shaped_model_agrees_across_runtimes(tmp_path: Path) -> None:
    loaded = load_model("ViT-B-32:random")
    export = export_onnx(loaded, tmp_path / "vit-b-32")
    onnx = OnnxClip(export)
    assert onnx.trim_tokens  # queries run only up to their end-of-text token
    torch = TorchClip(load_model("ViT-B-32:random"))
    assert onnx.model_id == torch.model_id == "ViT-B-32/random-seed0" and onnx.dims == 512
    embedder_onnx = ClipEmbedder(str(export), runtime="onnx", device="cpu")
    embedder_torch = ClipEmbedder.from_loaded(load_model("ViT-B-32:random"), device="cpu")
    images = _images()
    assert (
        _cosines(embedder_onnx.embed_images(images), embedder_torch.embed_images(images)).min()
        >= MIN_COSINE
    )
    texts = TEXTS[:6]
    assert (
        _cosines(embedder_onnx.embed_texts(texts), embedder_torch.embed_texts(texts)).min()
        >= MIN_COSINE
    )


def test_runtime_follows_the_export(tmp_path: Path) -> None:
    assert type(open_runtime("demo", "auto", "cpu")).__name__ == "OnnxClip"
    assert type(open_runtime("demo", "torch", "cpu")).__name__ == "TorchClip"
    loaded = load_checkpoint_dir(DEMO_MODEL_DIR)
    checkpoint = tmp_path / "ckpt"
    save_checkpoint(loaded.model, loaded.model_cfg, checkpoint, model_name="mine")
    assert onnx_export_for(str(checkpoint)) is None
    assert type(open_runtime(str(checkpoint), "auto", "cpu")).__name__ == "TorchClip"
    with pytest.raises(ModelUnavailableError, match="mapsearch model export"):
        open_runtime(str(checkpoint), "onnx", "cpu")
    export_onnx(load_checkpoint_dir(checkpoint), checkpoint / "onnx")
    served = open_runtime(str(checkpoint), "auto", "cpu")
    assert type(served).__name__ == "OnnxClip"
    assert served.model_id == load_checkpoint_dir(checkpoint).model_id
    assert onnx_export_for(str(checkpoint / "onnx")) == checkpoint / "onnx"  # the export itself
    # new weights under the same folder: the old export no longer describes them and is ignored
    save_checkpoint(loaded.model, loaded.model_cfg, checkpoint, model_name="renamed")
    assert onnx_export_for(str(checkpoint)) is None
    assert type(open_runtime(str(checkpoint), "auto", "cpu")).__name__ == "TorchClip"


def test_incomplete_export_is_a_clear_error(tmp_path: Path) -> None:
    export = tmp_path / "broken"
    export.mkdir()
    (export / ONNX_CONFIG).write_text(json.dumps({"model_id": "x/y"}))
    with pytest.raises(ModelUnavailableError, match="not a complete ONNX export"):
        ClipEmbedder(str(export), device="cpu").load()


def test_indices_built_on_either_runtime_are_searched_on_either_with_the_same_results(
    tmp_path: Path, demo_pair: tuple[ClipEmbedder, ClipEmbedder]
) -> None:
    """The demo gold set's queries (those whose example maps are in a 150-map collection of the
    gold world) rank the same maps whichever runtime embedded the collection and the query."""
    from indexer.backends import open_backend
    from indexer.evaluation.gold import load_gold
    from indexer.evaluation.runner import run_gold
    from indexer.pipeline import index_records
    from indexer.settings import load_settings
    from indexer.synthetic import write_demo_collection
    from webapi.search.evaluation import page_search
    from webapi.search.service import SearchService

    onnx, torch = demo_pair
    gold = Path(__file__).resolve().parents[3] / "docs/quality/gold-demo-seed1.jsonl"
    rankings = {}
    for built_by, indexing_model in (("torch", torch), ("onnx", onnx)):
        settings = load_settings({"data_dir": tmp_path / built_by, "device": "cpu"})
        records = write_demo_collection(settings.data_dir, 150, seed=1)
        ids = {record.id for record in records}
        queries = [q for q in load_gold(gold) if q.image_id is None or q.image_id in ids]
        assert len(queries) >= 40
        backend = open_backend(settings)
        try:
            report = index_records(
                records, settings=settings, backend=backend, embedder=indexing_model
            )
            assert report.indexed == 150
            for queried_by, query_model in (("torch", torch), ("onnx", onnx)):
                search = page_search(SearchService(settings, backend, query_model))
                run = run_gold(search, queries, mode="hybrid", depth=20)
                assert all(result.error is None for result in run.results)
                rankings[built_by, queried_by] = [result.ranking for result in run.results]
        finally:
            backend.close()
    reference = rankings["torch", "torch"]
    for combination, ranking in rankings.items():
        assert ranking == reference, combination
