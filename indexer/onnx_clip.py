"""CLIP inference on ONNX Runtime: the two towers of an export written by ``mapsearch model
export``, with the tokenizer and preprocessing settings saved beside them (no torch needed)."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import numpy as np

from indexer.model_specs import ModelUnavailableError, read_onnx_config

TEXT_FILE = "text.onnx"
IMAGE_FILE = "image.onnx"
TOKENIZER_FILE = "tokenizer.json"


def clean_text(text: str) -> str:
    """open_clip's text cleaning ('lower'): ftfy, HTML
    unescaping, whitespace collapsed, lower case."""
    import ftfy

    text = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
    return " ".join(text.split()).lower()


class ClipTokenizer:
    """open_clip's BPE tokenizer, as a Hugging Face ``tokenizers`` file: ``[sot] tokens [eot]``
    truncated to the context length (the last id stays end-of-text) and padded with 0."""

    def __init__(self, path: Path, context_length: int) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.enable_truncation(max_length=context_length)
        self._tokenizer.enable_padding(length=context_length, pad_id=0, pad_token="!")
        self.context_length = context_length

    def __call__(self, texts: list[str]) -> np.ndarray:
        """(n, context_length) int64 token ids."""
        encodings = self._tokenizer.encode_batch([clean_text(text) for text in texts])
        return np.array([encoding.ids for encoding in encodings], dtype=np.int64)


class OnnxClip:
    """An exported CLIP: ``encode_images`` on preprocessed pixels, ``encode_texts`` on strings.

    Sessions are created once; ONNX Runtime sessions are safe to run from several threads.
    """

    def __init__(self, directory: Path, device: str = "cpu") -> None:
        config = read_onnx_config(directory)
        try:
            self.model_id: str = config["model_id"]
            self.dims: int = int(config["dims"])
            self.image_size: int = int(config["image_size"])
            self.mean: tuple[float, ...] = tuple(float(v) for v in config["mean"])
            self.std: tuple[float, ...] = tuple(float(v) for v in config["std"])
            fill = config.get("fill")
            self.fill: tuple[int, int, int] | None = (
                (int(fill[0]), int(fill[1]), int(fill[2])) if fill else None
            )
            context_length = int(config["context_length"])
            self.trim_tokens = bool(config.get("trim_tokens", False))
        except (KeyError, TypeError, ValueError) as error:
            raise ModelUnavailableError(
                f"{directory} is not a complete ONNX export ({error}); run 'mapsearch model "
                "export' again"
            ) from None
        self.directory = directory
        self.providers = _providers(device)
        self._text = _session(directory / TEXT_FILE, self.providers)
        self._image = _session(directory / IMAGE_FILE, self.providers)
        self._text_input = self._text.get_inputs()[0].name
        self._image_input = self._image.get_inputs()[0].name
        self.tokenizer = ClipTokenizer(directory / TOKENIZER_FILE, context_length)

    def encode_images(self, pixels: np.ndarray) -> np.ndarray:
        """(n, dims) raw (unnormalised) image features of (n, 3, size, size) float32 pixels."""
        features = self._image.run(None, {self._image_input: pixels.astype(np.float32)})[0]
        return np.asarray(features, dtype=np.float32)

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        """(n, dims) raw (unnormalised) text features."""
        tokens = self.tokenizer(texts)
        if self.trim_tokens and len(tokens):
            # end-of-text has the largest id of a row: nothing after the last one matters
            tokens = tokens[:, : int(tokens.argmax(axis=1).max()) + 1]
        features = self._text.run(None, {self._text_input: tokens})[0]
        return np.asarray(features, dtype=np.float32)


def _providers(device: str) -> list[str]:
    import onnxruntime

    if not (device in ("auto", "cpu", "cuda") or re.fullmatch(r"cuda:\d+", device)):
        raise ModelUnavailableError(
            f"MAPSEARCH_DEVICE={device!r} is not a device; use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        )
    available = onnxruntime.get_available_providers()
    if device.startswith("cuda"):
        if "CUDAExecutionProvider" not in available:
            raise ModelUnavailableError(
                f"MAPSEARCH_DEVICE={device!r} but ONNX Runtime has no CUDA provider here "
                "(install onnxruntime-gpu, or use 'auto' or 'cpu')"
            )
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device == "auto" and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def _session(path: Path, providers: list[str]) -> Any:
    import onnxruntime

    if not path.is_file():
        raise ModelUnavailableError(
            f"{path} is missing; run 'mapsearch model export' to write the ONNX export"
        )
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # warnings about unused initialisers are not the user's concern
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=providers)
    except Exception as error:  # onnxruntime raises its own exception types for bad files
        raise ModelUnavailableError(f"cannot load {path}: {str(error).splitlines()[0]}") from None
