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
        self._keys: set[str] = set()

    def __len__(self) -> int:
        return len(self._y)

    @staticmethod
    def key(device_id: str, candidate_id: str) -> str:
        return f"{device_id}/{candidate_id}"

    def add_item(self, x: np.ndarray, y: int, key: str | None = None) -> bool:
        """Add one item (e.g. restored from the state store); False if ``key`` is already held."""
        if key is not None:
            if key in self._keys:
                return False
            self._keys.add(key)
        self._x.append(np.asarray(x, dtype=np.float32).reshape(-1))
        self._y.append(int(y))
        return True

    def add(self, released: Sequence[ReleasedSample],
            labeled: Sequence[LabeledSample]) -> list[tuple[np.ndarray, int, str]]:
        """Keep the labeled random-slice items whose payload the labeling side can read; return the new ones."""
        payload = {(r.device_id, r.candidate_id): r for r in released if r.random_slice}
        added: list[tuple[np.ndarray, int, str]] = []
        for item in labeled:
            r = payload.get((item.device_id, item.candidate_id))
            if r is None or r.content_type != "npy" or self.key(r.device_id, r.candidate_id) in self._keys:
                continue
            try:
                x = np.load(io.BytesIO(r.payload), allow_pickle=False)
            except ValueError as exc:
                logger.error("validation: unreadable payload %s from %s: %s", r.candidate_id, r.device_id, exc)
                continue
            key = self.key(r.device_id, r.candidate_id)
            self.add_item(x, item.label, key)
            added.append((self._x[-1], int(item.label), key))
        return added

    def accuracy(self, onnx_model: bytes) -> float:
        """Accuracy of a model artifact on the slice (NaN while it is empty)."""
        if not self._y:
            return float("nan")
        return TestSetEvaluator(np.stack(self._x), np.array(self._y)).evaluate(onnx_model).accuracy
