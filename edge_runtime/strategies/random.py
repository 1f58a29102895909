"""Random sampling: the baseline every other strategy is measured against."""

from __future__ import annotations

import numpy as np

from .base import AcquisitionStrategy, register


@register
class RandomSampling(AcquisitionStrategy):
    """Uniform random scores: the top-k is a uniform random subset of the pool."""

    name = "random"

    def score(self, probs: np.ndarray, embedding: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return rng.random(probs.shape[0])
