"""Random sampling: the baseline every other strategy is measured against."""

from __future__ import annotations

import numpy as np

from .base import AcquisitionStrategy, ScoringContext, register


@register
class RandomSampling(AcquisitionStrategy):
    """Uniform random scores: the top-k is a uniform random subset of the pool."""

    name = "random"

    def score(self, ctx: ScoringContext, rng: np.random.Generator) -> np.ndarray:
        return rng.random(ctx.n)
