"""Writers that upsert and delete documents without pause through a real backend while a reindex
runs, remembering what the index must hold afterwards, and the id-by-id comparison with it."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from indexer.backends.base import SearchBackend
from indexer.records import IndexDocument, MapRecord

MakeDoc = Callable[[str, int], IndexDocument]  # (id, revision) → a document whose title names both
DIMS = 8
MODEL = "test-model"


def title_of(doc_id: str, revision: int) -> str:
    """The title a churned document carries, so a stale copy is told apart from the latest one."""
    return f"Churned map {doc_id} revision {revision}"


def churn_doc(doc_id: str, revision: int) -> IndexDocument:
    """A document with a vector derived from its id, titled by id and revision."""
    rng = np.random.default_rng(sum(doc_id.encode()) * 7919 + len(doc_id))
    vector = rng.normal(size=DIMS).astype(np.float32)
    return IndexDocument(
        record=MapRecord(
            id=doc_id, source="test", title=title_of(doc_id, revision), revision=revision
        ),
        vector=vector / np.linalg.norm(vector),
        model_id=MODEL,
    )


@dataclass
class Churn:
    """``threads`` writers, each owning its own ids (so each id's last operation is known)."""

    open_backend: Callable[[], SearchBackend]
    initial: dict[str, int]  # id → revision already indexed
    make_doc: MakeDoc = churn_doc
    threads: int = 2
    expected: dict[str, int] = field(default_factory=dict)  # id → revision the index must hold
    touched: set[str] = field(default_factory=set)  # every id written or deleted
    writes: int = 0
    deletes: int = 0
    writes_in_window: int = 0  # completed while ``window`` was set (the copy)
    deletes_in_window: int = 0
    errors: list[str] = field(default_factory=list)
    window: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        """Start the writers."""
        self.expected = dict(self.initial)
        for number in range(self.threads):
            mine = {i: r for i, r in self.initial.items() if hash(i) % self.threads == number}
            worker = threading.Thread(target=self._run, args=(number, mine), daemon=True)
            worker.start()
            self._workers.append(worker)

    def stop(self) -> None:
        """Stop the writers and wait for their last operation."""
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=180)

    def _run(self, number: int, mine: dict[str, int]) -> None:
        backend = self.open_backend()
        rng = random.Random(number)
        live = dict(mine)
        created = 0
        try:
            while not self._stop.is_set():
                roll = rng.random()
                if roll < 0.35 or not live:  # a new document
                    doc_id, revision = f"churn:{number}:{created}", 1
                    created += 1
                    self._write(backend, doc_id, revision, live)
                elif roll < 0.7:  # a newer revision of a live one
                    doc_id = rng.choice(sorted(live))
                    self._write(backend, doc_id, live[doc_id] + 1, live)
                else:  # a delete: of documents the copy has seen as well as new ones
                    doc_id = rng.choice(sorted(live))
                    if backend.delete([doc_id]) != 1:
                        self.errors.append(f"delete of {doc_id} found nothing")
                    del live[doc_id]
                    with self._lock:
                        self.expected.pop(doc_id, None)
                        self.deletes += 1
                        self.deletes_in_window += self.window.is_set()
                time.sleep(0.002)
        except Exception as exc:  # the test fails on any writer error
            self.errors.append(f"writer {number}: {type(exc).__name__}: {exc}")
        finally:
            backend.close()

    def _write(
        self, backend: SearchBackend, doc_id: str, revision: int, live: dict[str, int]
    ) -> None:
        report = backend.write([self.make_doc(doc_id, revision)])
        if report.written != 1:
            self.errors.append(f"write of {doc_id}@{revision}: {report}")
            return
        live[doc_id] = revision
        with self._lock:
            self.expected[doc_id] = revision
            self.touched.add(doc_id)
            self.writes += 1
            self.writes_in_window += self.window.is_set()


def compare(backend: SearchBackend, churn: Churn) -> tuple[list[str], list[str], list[str]]:
    """(missing, extra, stale) ids: what the index holds against what the writers left, id by id."""
    ids = sorted(set(churn.initial) | churn.touched)
    held = {}
    for start in range(0, len(ids), 500):
        held.update(backend.fetch(ids[start : start + 500]))
    missing = sorted(set(churn.expected) - set(held))
    extra = sorted(set(held) - set(churn.expected))
    stale = sorted(
        doc_id
        for doc_id, revision in churn.expected.items()
        if doc_id in held
        and (
            held[doc_id].record.revision != revision
            or held[doc_id].record.title != title_of(doc_id, revision)
        )
    )
    return missing, extra, stale
