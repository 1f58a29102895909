"""Evaluate a published model artifact on held-out data with ONNX Runtime."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnxruntime as ort


@dataclass(frozen=True)
class Evaluation:
    """Accuracy, Brier score and size of the evaluation set.

    The Brier score (mean squared distance of the predicted probabilities from the
    one-hot label, in [0, 2]; lower is better) moves with every item's confidence, so
    differences between two models on a few items are far less noisy than accuracy's.
    """

    accuracy: float
    num_examples: int
    brier: float = float("nan")


class TestSetEvaluator:
    """Accuracy of a model's ONNX artifact on a fixed test set.

    Evaluating the artifact itself (not the weights) checks that what devices will
    run is what was trained.
    """

    __test__ = False  # not a pytest class

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x = np.ascontiguousarray(x, dtype=np.float32)
        self.y = np.asarray(y, dtype=np.int64)

    def evaluate(self, onnx_model: bytes) -> Evaluation:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        sess = ort.InferenceSession(onnx_model, sess_options=opts, providers=["CPUExecutionProvider"])
        logits = sess.run(["logits"], {"x": self.x})[0].astype(np.float64)
        z = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = z / z.sum(axis=1, keepdims=True)
        onehot = np.zeros_like(probs)
        onehot[np.arange(self.y.size), self.y] = 1.0
        brier = float(((probs - onehot) ** 2).sum(axis=1).mean()) if self.y.size else float("nan")
        return Evaluation(float((logits.argmax(axis=1) == self.y).mean()), int(self.y.size), brier)
