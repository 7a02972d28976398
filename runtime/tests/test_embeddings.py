"""The offline embedding model: meaning brings vectors close, and nothing is silently cut."""

import numpy as np
import pytest

from voxledger.runtime.embeddings import DIMENSIONS, MAX_TOKENS, TooLong, shared_embedder


def test_a_paraphrase_without_a_shared_word_is_nearer_than_another_topic():
    question, answer, other = shared_embedder().embed(
        [
            "When does the Portugal branch start operating?",
            "The Lisbon office opens on the fourteenth of March.",
            "We need to fix the budget for the marketing team next quarter.",
        ]
    )
    assert question.shape == (DIMENSIONS,)
    assert np.allclose(np.linalg.norm([question, answer, other], axis=1), 1.0, atol=1e-4)
    assert question @ answer > 0.4 > question @ other


def test_a_text_longer_than_the_model_takes_is_refused_not_truncated():
    embedder = shared_embedder()
    text = "word " * (MAX_TOKENS - 2)
    assert embedder.count_tokens(text) == MAX_TOKENS
    assert embedder.embed([text]).shape == (1, DIMENSIONS)
    with pytest.raises(TooLong):
        embedder.embed([text + "word"])
