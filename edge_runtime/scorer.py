"""Score a local pool with an ONNX model through ONNX Runtime.

The model takes ``x`` (batch, features) float32 and returns ``logits`` and
``embedding`` (the penultimate layer). Providers are chosen from the preference list
among those ONNX Runtime reports as available, with CPU as the fallback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

from .errors import ModelLoadError

logger = logging.getLogger(__name__)

DEFAULT_PROVIDERS = ("CUDAExecutionProvider", "CoreMLExecutionProvider", "CPUExecutionProvider")


def choose_providers(preferred: Sequence[str] = DEFAULT_PROVIDERS) -> list[str]:
    """Keep the preferred providers that this ONNX Runtime build offers, CPU last.

    Parameters
    ----------
    preferred : sequence of str
        Provider names in order of preference.

    Returns
    -------
    list of str
        Available providers in preference order; always ends with the CPU provider.
    """
    available = set(ort.get_available_providers())
    chosen = [p for p in preferred if p in available and p != "CPUExecutionProvider"]
    chosen.append("CPUExecutionProvider")
    return chosen


@dataclass(frozen=True)
class ScoreOutput:
    """Model outputs over a pool: class probabilities and embeddings."""

    probs: np.ndarray
    embedding: np.ndarray


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class OnnxScorer:
    """An ONNX Runtime session over one model artifact.

    Parameters
    ----------
    model : bytes
        The serialized ONNX model.
    providers : sequence of str, optional
        Preferred execution providers; see :func:`choose_providers`.
    intra_op_threads : int
        Threads ONNX Runtime may use (0 = its default).
    """

    def __init__(self, model: bytes, providers: Sequence[str] = DEFAULT_PROVIDERS, intra_op_threads: int = 1) -> None:
        opts = ort.SessionOptions()
        if intra_op_threads:
            opts.intra_op_num_threads = intra_op_threads
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(model, sess_options=opts, providers=choose_providers(providers))
        except Exception as exc:  # onnxruntime raises several private exception types
            raise ModelLoadError(f"ONNX model could not be loaded: {exc}") from exc
        inputs = [i.name for i in self.session.get_inputs()]
        outputs = [o.name for o in self.session.get_outputs()]
        if inputs != ["x"] or not {"logits", "embedding"} <= set(outputs):
            raise ModelLoadError(f"ONNX model must take 'x' and return 'logits' and 'embedding'; has inputs "
                                 f"{inputs} and outputs {outputs}")
        shape = self.session.get_inputs()[0].shape
        self.num_features = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else None
        self.providers = self.session.get_providers()
        logger.debug("ONNX session on %s", self.providers)

    def score(self, x: np.ndarray, batch_size: int = 512, deadline: float | None = None) -> ScoreOutput:
        """Run the model over ``x`` in batches.

        Parameters
        ----------
        x : ndarray, shape (n, features)
            The pool.
        batch_size : int
            Rows per ONNX Runtime call; bounds peak memory on small devices.
        deadline : float, optional
            ``time.monotonic()`` after which no further batch starts (a device's time
            limit per query): the outputs then cover only the first rows scored, at
            least one batch.

        Returns
        -------
        ScoreOutput
            Softmax probabilities (m, classes) and embeddings (m, hidden) of the first
            m rows (m = n unless the deadline cut the pool short).
        """
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 2 or (self.num_features is not None and x.shape[1] != self.num_features):
            raise ValueError(f"pool must have shape (n, {self.num_features}); got {x.shape}")
        logits, embeddings = [], []
        if batch_size < 1:
            raise ValueError(f"batch_size = {batch_size}: must be >= 1")
        for start in range(0, x.shape[0], batch_size):
            if deadline is not None and logits and time.monotonic() > deadline:
                logger.warning("scoring stopped at the time limit after %d of %d rows", start, x.shape[0])
                break
            out = self.session.run(["logits", "embedding"], {"x": x[start:start + batch_size]})
            logits.append(out[0])
            embeddings.append(out[1])
        if not logits:
            n_out = self.session.get_outputs()
            width = {o.name: o.shape[1] for o in n_out}
            return ScoreOutput(np.zeros((0, width["logits"]), np.float32), np.zeros((0, width["embedding"]), np.float32))
        return ScoreOutput(softmax(np.concatenate(logits)).astype(np.float32), np.concatenate(embeddings))
