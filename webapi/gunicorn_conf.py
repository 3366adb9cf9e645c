"""gunicorn settings for serving mapsearch: each worker opens the index and loads the model
before it takes its first request (``gunicorn -c python:webapi.gunicorn_conf
'webapi.app:create_app()'``); other settings can still be given on the command line."""

from __future__ import annotations

import os
import threading
from typing import Any

bind = os.environ.get("MAPSEARCH_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("MAPSEARCH_WORKERS", "2"))
threads = int(os.environ.get("MAPSEARCH_THREADS", "4"))
worker_class = "gthread"
# A request never waits for the model (it is loaded before the worker accepts), so the timeout
# only has to cover the slowest search or export, not a cold start.
timeout = int(os.environ.get("MAPSEARCH_WORKER_TIMEOUT", "60"))
graceful_timeout = 30


def post_worker_init(worker: Any) -> None:
    """Warm the worker's app before it accepts: open the index, load the model, embed once.

    The arbiter kills a worker that does not check in within ``timeout``; a slow model load
    (torch on a loaded machine) is work, not a hang, so a heartbeat keeps the worker alive
    while it loads."""
    from webapi.services import services_of

    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(1.0):
            worker.notify()

    beat = threading.Thread(target=heartbeat, name="warm-up-heartbeat", daemon=True)
    beat.start()
    try:
        readiness = services_of(worker.wsgi).container.warm_up()
        worker.log.info("worker %s warm: %s (%s s)", worker.pid, readiness.state, readiness.seconds)
    finally:
        done.set()
        beat.join()
