"""The compact bulk encoding of vectors: exact for
every float32, and refusing what JSON cannot hold."""

from __future__ import annotations

import json

import numpy as np
import pytest

from indexer.backends.es_documents import source_json, to_source, vector_json
from indexer.records import IndexDocument, MapRecord


def test_vector_json_round_trips_float32_exactly_and_is_shorter() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(200, 64)).astype(np.float32)
    vectors[0, :4] = [0.0, -0.0, np.finfo(np.float32).tiny, np.finfo(np.float32).max]
    for vector in vectors:
        text = vector_json(vector)
        assert np.array_equal(np.asarray(json.loads(text), dtype=np.float32), vector)
        assert len(text) < len(json.dumps(vector.tolist()))


@pytest.mark.parametrize("bad", [[1.0, float("nan")], [float("inf"), 0.0], [[1.0, 2.0]]])
def test_vector_json_refuses_non_finite_or_nested(bad: list[object]) -> None:
    with pytest.raises(ValueError):
        vector_json(np.asarray(bad, dtype=np.float32))


def test_source_json_is_to_source_as_text() -> None:
    record = MapRecord(id="t:1", source="t", title="Carte de l'Île « neuve »")
    with_vector = IndexDocument(
        record=record, vector=np.asarray([0.6, 0.8], np.float32), model_id="m"
    )
    parsed = json.loads(source_json(with_vector))
    expected = to_source(with_vector)
    assert np.array_equal(
        np.asarray(parsed.pop("vector"), np.float32), np.asarray(expected.pop("vector"), np.float32)
    )
    assert parsed == expected
    without = IndexDocument(record=record, vector=None, model_id=None)
    assert json.loads(source_json(without)) == to_source(without)


def test_source_json_refuses_a_non_finite_vector_rather_than_writing_null() -> None:
    record = MapRecord(id="t:2", source="t", title="Chart")
    bad = IndexDocument(record=record, vector=np.asarray([0.6, np.nan], np.float32), model_id="m")
    with pytest.raises(ValueError):
        source_json(bad)
