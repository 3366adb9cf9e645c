"""The paper's query-vector formula on hand-made vectors."""

from __future__ import annotations

import numpy as np
import pytest

from webapi.search.query_vector import compose_query_vector, normalize

TEXT = np.array([0.0, 2.0, 0.0], np.float32)  # deliberately not unit length: the formula normalises
IMAGE = np.array([3.0, 0.0, 0.0], np.float32)
MODIFIER = np.array([0.0, 0.0, 1.0], np.float32)


def test_only_text_is_the_text_vector() -> None:
    assert np.allclose(compose_query_vector(TEXT, None), [0, 1, 0])


def test_only_image_is_the_image_vector() -> None:
    assert np.allclose(compose_query_vector(None, IMAGE), [1, 0, 0])


@pytest.mark.parametrize(
    ("mix", "image_weight", "text_weight"),
    [(-1, 1, 0), (0, 0.5, 0.5), (0.5, 0.25, 0.75), (1, 0, 1)],
)
def test_mix_weights(mix: float, image_weight: float, text_weight: float) -> None:
    expected = np.array([image_weight, text_weight, 0.0])
    assert np.allclose(compose_query_vector(TEXT, IMAGE, mix), expected / np.linalg.norm(expected))


def test_modifiers_add_signed_weighted_unit_vectors() -> None:
    v = compose_query_vector(
        TEXT, IMAGE, 0.0, [(MODIFIER * 5, 0.5), (np.array([1, 0, 0], np.float32), -0.25)]
    )
    expected = np.array([0.5 - 0.25, 0.5, 0.5])
    assert np.allclose(v, expected / np.linalg.norm(expected), atol=1e-6)
    assert v.dtype == np.float32 and abs(np.linalg.norm(v) - 1) < 1e-6


def test_modifier_on_text_only() -> None:
    v = compose_query_vector(
        TEXT, None, 0.7, [(MODIFIER, 1.0)]
    )  # mix is irrelevant without an image
    assert np.allclose(v, np.array([0, 1, 1]) / np.sqrt(2))


def test_cancelling_query_is_an_error() -> None:
    with pytest.raises(ValueError, match="zero"):
        compose_query_vector(TEXT, None, 0.0, [(TEXT, -1.0)])
    with pytest.raises(ValueError):
        compose_query_vector(None, None)
    with pytest.raises(ValueError):
        compose_query_vector(TEXT, IMAGE, 1.5)
    with pytest.raises(ValueError):
        normalize(np.zeros(3))
