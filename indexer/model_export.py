"""Converting an open_clip model to the ONNX pair that serving runs: the text and image towers,
the tokenizer as a ``tokenizers`` file and the model's identity and preprocessing (needs torch)."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import warnings
from pathlib import Path
from typing import Any

import torch

from indexer.model_specs import ONNX_CONFIG
from indexer.onnx_clip import IMAGE_FILE, TEXT_FILE, TOKENIZER_FILE
from indexer.torch_clip import LoadedModel

#: ONNX opset of every export (ONNX Runtime 1.17+ runs it); fixed so exports are reproducible.
OPSET = 17
#: open_clip's pre-tokenisation pattern, without its special-token alternatives.
CLIP_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


class _TextTower(torch.nn.Module):
    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model.encode_text(tokens)  # type: ignore[no-any-return]


class _ExportAttention(torch.nn.Module):
    """``nn.MultiheadAttention`` (self-attention, eval mode) with the same weights, written with
    shape operations that keep the sequence length symbolic: torch's own implementation gets
    the traced length baked into its reshapes, so its export only runs at that length."""

    def __init__(self, attention: torch.nn.MultiheadAttention) -> None:
        super().__init__()
        self.heads = attention.num_heads
        self.batch_first = attention.batch_first
        self.in_proj_weight = attention.in_proj_weight
        self.in_proj_bias = attention.in_proj_bias
        self.out_proj = attention.out_proj

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        need_weights: bool = False,
        attn_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, None]:
        x = query if self.batch_first else query.transpose(0, 1)  # [batch, length, width]
        head_width = x.shape[-1] // self.heads
        qkv = torch.nn.functional.linear(x, self.in_proj_weight, self.in_proj_bias)
        qkv = qkv.unflatten(-1, (3, self.heads, head_width)).permute(2, 0, 3, 1, 4)
        scores = (qkv[0] * head_width**-0.5) @ qkv[1].transpose(-2, -1)
        if attn_mask is not None:
            scores = scores + attn_mask
        out = self.out_proj((scores.softmax(-1) @ qkv[2]).transpose(1, 2).flatten(2))
        return (out if self.batch_first else out.transpose(0, 1)), None


class _TrimmableTextTower(torch.nn.Module):
    """open_clip's ``CLIP.encode_text`` for any number of leading tokens. Under the causal mask
    the end-of-text position never sees the padding after it, so a 6-token query runs 6
    positions instead of 77: the same vector for a fraction of the work."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = copy.deepcopy(model)
        for block in self.model.transformer.resblocks:
            block.attn = _ExportAttention(block.attn)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        from open_clip.transformer import text_global_pool

        model = self.model
        length = tokens.shape[1]
        x = model.token_embedding(tokens) + model.positional_embedding[:length]
        x = model.transformer(x, attn_mask=model.attn_mask[:length, :length])
        x = text_global_pool(model.ln_final(x), tokens, model.text_pool_type)
        if isinstance(model.text_projection, torch.nn.Linear):
            return model.text_projection(x)  # type: ignore[no-any-return]
        return x @ model.text_projection  # type: ignore[no-any-return]


def trimmable(model: Any) -> bool:
    """True for open_clip text towers whose end-of-text output ignores later positions (causal
    mask, end-of-text pooling) and whose attention ``_ExportAttention`` reproduces."""
    from open_clip.model import CLIP

    if not (
        isinstance(model, CLIP)
        and getattr(model, "attn_mask", None) is not None
        and getattr(model, "text_pool_type", None) == "argmax"
        and model.text_projection is not None
    ):
        return False
    return all(
        isinstance(block.attn, torch.nn.MultiheadAttention)
        and block.attn._qkv_same_embed_dim
        and block.attn.bias_k is None
        and not block.attn.add_zero_attn
        and not hasattr(block, "ln_1_kv")
        for block in model.transformer.resblocks
    )


class _ImageTower(torch.nn.Module):
    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(pixels)  # type: ignore[no-any-return]


def clip_tokenizer_json(simple_tokenizer: Any) -> str:
    """open_clip's ``SimpleTokenizer`` (vocabulary,
    merges, special tokens) as a ``tokenizers`` JSON."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors

    sot, eot = "<start_of_text>", "<end_of_text>"
    merges = sorted(simple_tokenizer.bpe_ranks, key=simple_tokenizer.bpe_ranks.get)
    bpe = models.BPE(
        vocab=dict(simple_tokenizer.encoder),
        merges=merges,
        continuing_subword_prefix="",
        end_of_word_suffix="</w>",
        fuse_unk=False,
    )
    tokenizer = Tokenizer(bpe)
    tokenizer.add_special_tokens([sot, eot])
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(CLIP_PATTERN), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{sot} $A {eot}",
        special_tokens=[(sot, simple_tokenizer.encoder[sot]), (eot, simple_tokenizer.encoder[eot])],
    )
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer.to_str(pretty=False)


def _export(
    module: torch.nn.Module,
    example: torch.Tensor,
    input_name: str,
    path: Path,
    dynamic: dict[int, str],
) -> None:
    with warnings.catch_warnings():
        # the TorchScript exporter is the deterministic one for these towers; its deprecation
        # notice and tracer warnings about Python scalars are expected here
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (example,),
            str(path),
            input_names=[input_name],
            output_names=["embedding"],
            dynamic_axes={input_name: dynamic, "embedding": {0: "batch"}},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def export_onnx(loaded: LoadedModel, directory: Path) -> Path:
    """Write ``text.onnx``, ``image.onnx``, ``tokenizer.json`` and ``onnx_config.json`` to
    ``directory``.

    The same weights always give the same bytes. The export is built in a sibling folder and
    moved into place, so a reader never sees half an export.
    """
    model = loaded.model.float().eval().cpu()
    tokenizer = loaded.tokenizer
    context_length = int(tokenizer.context_length)
    staging = directory.with_name(directory.name + ".tmp-export")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    tokens = tokenizer(["a map", "a map of the sea with monsters"]).to(torch.int64)
    pixels = torch.zeros(2, 3, loaded.image_size, loaded.image_size)
    with torch.inference_mode():
        dims = int(model.encode_text(tokens[:1]).shape[-1])
    trim = trimmable(model)
    if trim:
        tower: torch.nn.Module = _TrimmableTextTower(model)
        _export(tower, tokens, "tokens", staging / TEXT_FILE, {0: "batch", 1: "tokens"})
    else:
        _export(_TextTower(model), tokens, "tokens", staging / TEXT_FILE, {0: "batch"})
    _export(_ImageTower(model), pixels, "pixels", staging / IMAGE_FILE, {0: "batch"})
    (staging / TOKENIZER_FILE).write_text(clip_tokenizer_json(tokenizer), encoding="utf-8")
    config = {
        "model_id": loaded.model_id,
        "dims": dims,
        "image_size": loaded.image_size,
        "mean": list(loaded.mean),
        "std": list(loaded.std),
        "fill": list(loaded.fill) if loaded.fill else None,
        "context_length": context_length,
        # token ids after a batch's last end-of-text may be cut (see _TrimmableTextTower)
        "trim_tokens": trim,
        "opset": OPSET,
        "files": {
            name: _sha256(staging / name) for name in (TEXT_FILE, IMAGE_FILE, TOKENIZER_FILE)
        },
    }
    (staging / ONNX_CONFIG).write_text(
        json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    if directory.exists():
        shutil.rmtree(directory)
    staging.replace(directory)
    return directory
