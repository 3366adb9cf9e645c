"""An OCR engine run in a child process, so that a native crash of the engine (a segfault or an
abort in its C/C++ code) costs one image its words instead of killing the worker: the child
loads the engine once and reads tile after tile; when it dies, the read fails with
``EngineCrashed`` (the tiled reader turns that into a warning for the image) and the next read
starts a new child. The protocol lives in ``indexer.ocr.engine_child``."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import numpy as np

from indexer.ocr.engine import EngineLine, OcrUnavailable, Quad
from indexer.ocr.engine_child import decode_frame, encode_frame, frame_length

log = logging.getLogger(__name__)

# A tile the engine has not answered within this long counts as a crash (a hung engine).
TILE_TIMEOUT_S = 600.0
START_TIMEOUT_S = 300.0  # loading the engine's models in a new child


class EngineCrashed(RuntimeError):
    """The engine's process died (or hung) while reading a tile; the next read starts anew."""


class EngineFailed(RuntimeError):
    """The engine raised an exception on a tile (its process lives on)."""


class IsolatedEngine:
    """``OcrEngine`` whose ``read`` runs ``load_engine(spec, threads)`` in a child process; a
    ``TwoStepEngine`` (``two_step``) when the engine there is one."""

    def __init__(self, spec: str, threads: int = 1, tile_timeout: float = TILE_TIMEOUT_S) -> None:
        """Start the child and load the engine (``OcrUnavailable`` when it cannot run here)."""
        self.spec = spec
        self.threads = threads
        self.tile_timeout = tile_timeout
        self.crashes = 0  # children lost so far (each cost one image its words)
        self._child: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.two_step = False
        self.name = self._start()
        atexit.register(self.close)

    def read(self, tile: np.ndarray) -> list[EngineLine]:
        """Text lines of one RGB tile, read by the child (restarted first if the last one died)."""
        lines: list[EngineLine] = self._ask("read", tile, [])
        return lines

    def detect(self, tile: np.ndarray) -> list[Quad]:
        """Corners of the text lines in one RGB tile, found by the child (``two_step`` only)."""
        quads: list[Quad] = self._ask("detect", tile, [])
        return quads

    def recognize(self, tile: np.ndarray, quads: list[Quad]) -> list[EngineLine]:
        """The lines at ``quads`` of ``tile``, read by the child (``two_step`` only)."""
        lines: list[EngineLine] = self._ask("recognize", tile, quads)
        return lines

    def _ask(self, step: str, tile: np.ndarray, quads: list[Quad]) -> Any:
        """The child's answer to one request (restarted first if the last one died)."""
        with self._lock:
            if self._child is None:
                name = self._start()
                if name != self.name:
                    log.warning("OCR engine %s restarted as %s", self.name, name)
            child = self._child
            assert child is not None and child.stdin is not None and child.stdout is not None
            try:
                child.stdin.write(encode_frame((step, np.ascontiguousarray(tile), quads)))
                child.stdin.flush()
                kind, payload = self._receive(child, self.tile_timeout)
            except (OSError, EOFError, TimeoutError) as exc:
                raise EngineCrashed(self._bury(child, exc)) from None
        if kind == "error":
            raise EngineFailed(str(payload))
        return payload

    def close(self) -> None:
        """Stop the child (it also exits by itself when this process goes away)."""
        child, self._child = self._child, None
        if child is None:
            return
        try:
            assert child.stdin is not None
            child.stdin.close()  # end of input: the child returns
            child.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            child.kill()
            child.wait()

    # ---- the child -----------------------------------------------------------------------

    def _start(self) -> str:
        """Start a child, wait until its engine is loaded, return the engine's name."""
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        child = subprocess.Popen(
            [sys.executable, "-m", "indexer.ocr.engine_child", self.spec, str(self.threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        try:
            kind, payload = self._receive(child, START_TIMEOUT_S)
        except (OSError, EOFError, TimeoutError) as exc:
            raise OcrUnavailable(f"OCR engine {self.spec!r}: {self._bury(child, exc)}") from None
        if kind != "ready":
            child.wait()
            raise OcrUnavailable(str(payload))
        self._child = child
        name, self.two_step = payload
        return str(name)

    @staticmethod
    def _receive(child: subprocess.Popen[bytes], timeout: float) -> tuple[str, Any]:
        """One reply frame from the child, or EOFError (it died) / TimeoutError (it hangs)."""
        assert child.stdout is not None
        deadline = time.monotonic() + timeout
        header = _read_exact(child.stdout.fileno(), 8, deadline)
        body = _read_exact(child.stdout.fileno(), frame_length(header), deadline)
        kind, payload = decode_frame(body)
        return str(kind), payload

    def _bury(self, child: subprocess.Popen[bytes], cause: BaseException) -> str:
        """Kill and reap a lost child; say how it ended."""
        if self._child is child:
            self._child = None
        self.crashes += 1
        if isinstance(cause, TimeoutError):
            child.kill()
        try:
            code = child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            code = child.wait()
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):  # a broken pipe: nothing left to flush
                    stream.close()
        if isinstance(cause, TimeoutError):
            how = f"engine process hung (no answer in {self.tile_timeout:g} s), killed"
        elif code < 0:
            how = f"engine process died ({signal.Signals(-code).name})"
        else:
            how = f"engine process exited ({code})"
        log.warning("OCR %s: %s; a new one starts for the next image", self.spec, how)
        return how


def _read_exact(fd: int, size: int, deadline: float) -> bytes:
    """``size`` bytes from a pipe, waiting at most until ``deadline``."""
    chunks: list[bytes] = []
    left = size
    while left:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
