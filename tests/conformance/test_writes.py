"""Conformance: versioned writes, deletes, model identity, hostile keyword input and reads by id."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.backends.base import ModelMismatchError, SearchBackend
from indexer.records import IndexDocument, MapRecord
from indexer.settings import Settings
from tests.support.corpus import MODEL_ID, FakeEmbedder, corpus
from webapi.errors import status_of
from webapi.search.errors import InvalidSearch
from webapi.search.params import SearchParams
from webapi.search.service import SearchService


def _retitled(doc_id: str, title: str, revision: int) -> IndexDocument:
    original = next(d for d in corpus() if d.id == doc_id)
    record = original.record.model_copy(update={"title": title, "revision": revision})
    return IndexDocument(record=record, vector=original.vector, model_id=original.model_id)


def test_versioned_writes_never_let_an_older_revision_win(
    backend: SearchBackend, service: SearchService
) -> None:
    newer = backend.write([_retitled("c:03", "Plan of Lutetia", revision=5)])
    assert newer.written == 1
    older = backend.write([_retitled("c:03", "Stale plan", revision=4)])
    assert older.written == 0 and older.skipped_stale == 1
    same = backend.write([_retitled("c:03", "Plan of Lutetia again", revision=5)])  # a retry
    assert same.written == 1
    backend.refresh()
    assert backend.fetch(["c:03"])["c:03"].record.title == "Plan of Lutetia again"
    assert [h.id for h in service.search(SearchParams(q="lutetia", mode="keyword")).hits] == [
        "c:03"
    ]
    assert service.search(SearchParams(q="stale", mode="keyword")).total == 0
    backend.write([_retitled("c:03", "Roman plan", revision=6)])
    backend.refresh()
    assert (
        service.search(SearchParams(q="lutetia", mode="keyword")).total == 0
    )  # old title forgotten


def test_delete_removes_from_both_lists(backend: SearchBackend, service: SearchService) -> None:
    assert backend.delete(["c:01", "c:nope"]) == 1
    backend.refresh()
    response = service.search(SearchParams(q="sea monsters", size=100))
    assert "c:01" not in [h.id for h in response.hits] and response.total == 9
    assert backend.delete(["c:01"]) == 0
    assert backend.get_vector("c:01") is None and backend.fetch(["c:01"]) == {}


def test_reads_by_id(backend: SearchBackend, service: SearchService) -> None:
    docs = backend.fetch(["c:02", "c:08", "c:missing"])
    assert set(docs) == {"c:02", "c:08"}
    assert docs["c:02"].record.places[0].name == "Norway" and docs["c:08"].vector is None
    vector = backend.get_vector("c:02")
    assert vector is not None and np.allclose(vector, [0.8, 0, 0.6, 0], atol=1e-6)
    info = backend.info()
    assert (info.documents, info.with_vectors, info.model_id, info.dims) == (10, 9, MODEL_ID, 4)
    assert backend.model_id() == MODEL_ID
    assert service.get_item("c:02").record.title == "Chart of the coast of Norway"


def test_vectors_of_another_model_or_size_are_refused(backend: SearchBackend) -> None:
    record = MapRecord(id="x:1", source="x", title="Intruder")
    with pytest.raises(ModelMismatchError):
        backend.write(
            [
                IndexDocument(
                    record=record, vector=np.ones(4, np.float32) / 2, model_id="other-model"
                )
            ]
        )
    with pytest.raises(ModelMismatchError):
        backend.write(
            [
                IndexDocument(
                    record=record, vector=np.ones(3, np.float32) / 3**0.5, model_id=MODEL_ID
                )
            ]
        )
    backend.refresh()
    assert backend.fetch(["x:1"]) == {}


def test_queries_with_another_model_are_refused(settings: Settings, backend: SearchBackend) -> None:
    service = SearchService(settings, backend, FakeEmbedder(model_id="other-model"))
    with pytest.raises(ModelMismatchError) as raised:
        service.search(SearchParams(q="sea monsters"))
    assert status_of(raised.value) == 409
    assert (
        service.search(SearchParams(q="sea monsters", mode="keyword")).total == 2
    )  # no model needed


HOSTILE = [
    '"',
    "(",
    ")",
    "AND",
    "OR",
    "NOT",
    "*",
    "-",
    "sea AND",
    "NEAR(sea monsters)",
    '"sea',
    "title:sea",
    "^sea",
    "sea*",
    "-sea",
    "sea OR (",
    "'",
    "\\",
    "\x00",
    "ﬁ ✓ 地図",
    "a" * 400,
    "   ",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_keyword_input_never_raises(service: SearchService, text: str) -> None:
    response = service.search(SearchParams(q=text, mode="keyword"))
    assert response.total >= 0


def test_hostile_syntax_is_read_as_words(service: SearchService) -> None:
    response = service.search(SearchParams(q='"sea" AND (monsters*', mode="keyword"))
    assert sorted(h.id for h in response.hits) == [
        "c:01",
        "c:08",
    ]  # the words sea + monsters, nothing else


def test_contradictory_requests_are_invalid(service: SearchService) -> None:
    with pytest.raises(InvalidSearch):
        service.search(SearchParams(image_id="c:01", mode="keyword"))
    with pytest.raises(InvalidSearch):
        service.search(SearchParams(modify=["gray:1"]))
    with pytest.raises(InvalidSearch):
        service.search(SearchParams(image_id="c:08"))  # no vector
    with pytest.raises(InvalidSearch):
        service.search(SearchParams(image_id="c:missing"))
