"""A real HTTP server on 127.0.0.1 for tests: each path serves a script of recorded replies
(status, headers, body) in order, the last one repeating, or a handler function; it logs what
it was asked, so tests can check retries, waits and query parameters."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    """One recorded HTTP response."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/octet-stream"
    drip_seconds: float = 0.0  # > 0: send the body one byte at a time, this far apart

    @classmethod
    def json(cls, value: Any, status: int = 200, **headers: str) -> Reply:
        return cls(status, json.dumps(value).encode(), dict(headers), "application/json")

    @classmethod
    def html(cls, text: str, status: int = 200, **headers: str) -> Reply:
        return cls(status, text.encode(), dict(headers), "text/html; charset=utf-8")


@dataclass
class Seen:
    """One request the server received."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    at: float


Handler = Callable[[Seen], Reply]


class ScriptedServer:
    """``with ScriptedServer() as server: server.add("/x", Reply(...));
    requests.get(server.url("/x"))``"""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply] | Handler] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                outer._serve(self)

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, *replies: Reply) -> None:
        """Serve ``replies`` in order at ``path`` (exact path, or path with its query string)."""
        self.routes[path] = list(replies)

    def handle(self, path: str, handler: Handler) -> None:
        """Answer ``path`` (without query) with ``handler(seen)``."""
        self.routes[path] = handler

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        seen = Seen(
            parts.path, parse_qs(parts.query), dict(request.headers.items()), time.monotonic()
        )
        with self._lock:
            self.seen.append(seen)
            route = self.routes.get(request.path, self.routes.get(parts.path))
            if route is None:
                reply = Reply(404, b"not found", content_type="text/plain")
            elif callable(route):
                reply = None
            else:
                reply = route.pop(0) if len(route) > 1 else route[0]
        if reply is None:
            assert callable(route)
            reply = route(seen)
        request.send_response(reply.status)
        request.send_header("Content-Type", reply.content_type)
        request.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            request.send_header(name, value)
        request.end_headers()
        if reply.drip_seconds <= 0:
            request.wfile.write(reply.body)
            return
        try:
            for index in range(len(reply.body)):
                request.wfile.write(reply.body[index : index + 1])
                request.wfile.flush()
                time.sleep(reply.drip_seconds)
        except OSError:  # the client gave up, as it should
            pass

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
