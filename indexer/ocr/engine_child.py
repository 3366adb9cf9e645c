"""The child process of ``indexer.ocr.isolated``: load one engine, then answer requests (read a
tile; or detect lines in a tile, recognise lines of a tile, for a ``TwoStepEngine``) from stdin
on stdout until stdin ends. Frames are an 8-byte length and a pickle, in both
directions (parent and child are the same program: nothing untrusted is unpickled)."""

from __future__ import annotations

import os
import pickle
import resource
import struct
import sys
from typing import Any, BinaryIO

_HEADER = struct.Struct("<Q")


def encode_frame(message: Any) -> bytes:
    """One frame: length, then the pickled message."""
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body)) + body


def frame_length(header: bytes) -> int:
    """The body length a frame's 8-byte header announces."""
    return int(_HEADER.unpack(header)[0])


def decode_frame(body: bytes) -> Any:
    """The message of a frame's body."""
    return pickle.loads(body)  # noqa: S301 - our own child's frames


def _read_frame(stream: BinaryIO) -> Any | None:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None  # the parent closed our input (or went away): done
    body = stream.read(frame_length(header))
    return decode_frame(body)


def serve(spec: str, threads: int) -> None:
    """Load the engine and answer requests until the input ends."""
    from indexer.ocr.engine import OcrUnavailable, load_engine, reads_in_two_steps

    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # engines' stray prints go to stderr
    # a crash must not leave a core file of the engine's memory behind
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    requests = sys.stdin.buffer

    def reply(kind: str, payload: Any) -> None:
        replies.write(encode_frame((kind, payload)))
        replies.flush()

    try:
        engine = load_engine(spec, threads=threads)
    except OcrUnavailable as exc:
        reply("unavailable", str(exc))
        return
    reply("ready", (engine.name, reads_in_two_steps(engine)))
    while (request := _read_frame(requests)) is not None:
        step, tile, quads = request
        try:
            answer: Any
            if step == "read" or not reads_in_two_steps(engine):
                answer = engine.read(tile)
            elif step == "detect":
                answer = engine.detect(tile)
            else:
                answer = engine.recognize(tile, quads)
        except Exception as exc:  # noqa: BLE001 - the parent decides what a failure costs
            reply("error", f"{type(exc).__name__}: {exc}")
        else:
            reply("ok", answer)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
