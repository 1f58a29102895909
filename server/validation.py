"""The random slice as an unbiased validation set, held by the labeling side.

Items of the random slice are drawn uniformly over all pools and labeled like any
other; the labeling side keeps a copy of each released sample with its label. When the
campaign holds the slice out of training, the accuracy of a model on it is an unbiased
estimate of its accuracy on the devices' data, which is what the adaptive strategy and
the budget planner judge gains on. Evaluating two models on the same items (paired)
removes most of the sampling noise from their difference.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

import numpy as np

from .evaluation import TestSetEvaluator
from .labeling import LabeledSample, ReleasedSample

logger = logging.getLogger(__name__)


class ValidationSet:
    """Released random-slice samples with their labels."""

    def __init__(self) -> None:
        self._x: list[np.ndarray] = []
        self._y: list[int] = []

    def __len__(self) -> int:
        return len(self._y)

    def add_item(self, x: np.ndarray, y: int) -> None:
        """Add one item (e.g. restored from the state store)."""
        self._x.append(np.asarray(x, dtype=np.float32).reshape(-1))
        self._y.append(int(y))

    def add(self, released: Sequence[ReleasedSample], labeled: Sequence[LabeledSample]) -> list[tuple[np.ndarray, int]]:
        """Keep the labeled random-slice items whose payload the labeling side can read; return them."""
        payload = {(r.device_id, r.candidate_id): r for r in released if r.random_slice}
        added: list[tuple[np.ndarray, int]] = []
        for item in labeled:
            r = payload.get((item.device_id, item.candidate_id))
            if r is None or r.content_type != "npy":
                continue
            try:
                x = np.load(io.BytesIO(r.payload), allow_pickle=False)
            except ValueError as exc:
                logger.error("validation: unreadable payload %s from %s: %s", r.candidate_id, r.device_id, exc)
                continue
            self.add_item(x, item.label)
            added.append((self._x[-1], int(item.label)))
        return added

    def accuracy(self, onnx_model: bytes) -> float:
        """Accuracy of a model artifact on the slice (NaN while it is empty)."""
        if not self._y:
            return float("nan")
        return TestSetEvaluator(np.stack(self._x), np.array(self._y)).evaluate(onnx_model).accuracy
