"""ONNX Runtime scoring of a real exported model."""

from __future__ import annotations

import numpy as np
import pytest

from fedsift.client.trainer import forward
from fedsift.edge_runtime import ModelLoadError, OnnxScorer, choose_providers, softmax
from fedsift.edge_runtime.sketch import sketch
from fedsift.edge_runtime.summary import build_summary
from fedsift.protocols import Query
from fedsift.server.model import export_onnx, init_weights


@pytest.fixture(scope="module")
def model():
    layers = init_weights([6, 8, 3], seed=1)
    return layers, export_onnx(layers)


def test_scores_match_the_numpy_forward_pass_in_any_batch_size(model) -> None:
    layers, onnx = model
    x = np.random.default_rng(0).normal(size=(37, 6)).astype(np.float32)
    scorer = OnnxScorer(onnx)
    a, b = scorer.score(x, batch_size=5), scorer.score(x, batch_size=1000)
    np.testing.assert_allclose(a.probs, b.probs, rtol=1e-6)
    logits, acts = forward(layers, x.astype(np.float64))
    np.testing.assert_allclose(a.probs, softmax(logits), atol=1e-5)
    np.testing.assert_allclose(a.embedding, acts[-2], atol=1e-5)
    assert a.probs.shape == (37, 3) and a.embedding.shape == (37, 8)


def test_empty_pool_and_wrong_width(model) -> None:
    scorer = OnnxScorer(model[1])
    out = scorer.score(np.zeros((0, 6), np.float32))
    assert out.probs.shape == (0, 3)
    with pytest.raises(ValueError, match="shape"):
        scorer.score(np.zeros((2, 5), np.float32))


def test_corrupt_model_is_refused_clearly() -> None:
    with pytest.raises(ModelLoadError, match="could not be loaded"):
        OnnxScorer(b"not an onnx model")


def test_providers_fall_back_to_cpu() -> None:
    assert choose_providers(["NoSuchExecutionProvider"]) == ["CPUExecutionProvider"]
    assert choose_providers()[-1] == "CPUExecutionProvider"


def test_summary_has_histogram_topk_and_sketches() -> None:
    rng = np.random.default_rng(0)
    probs = softmax(rng.normal(size=(50, 4)))
    emb = rng.normal(size=(50, 8)).astype(np.float32)
    scores = rng.random(50)
    q = Query(round=1, model_version=0, strategy="margin", top_k=5, num_bins=7, sketch_dim=3, sketch_seed=9)
    s = build_summary(q, "dev", [f"id{i}" for i in range(50)], scores, probs, emb, labeled_count=2)
    assert s.histogram.sum() == 50 and s.histogram.shape == (7,)
    assert s.class_counts.sum() == 50
    assert s.candidate_ids == [f"id{i}" for i in np.argsort(-scores)[:5]]
    np.testing.assert_allclose(s.sketches, sketch(emb[np.argsort(-scores)[:5]], 3, 9))
    # every device projects with the same matrix for a given seed
    np.testing.assert_array_equal(sketch(emb, 3, 9), sketch(emb, 3, 9))
