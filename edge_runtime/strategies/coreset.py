"""Core-set selection: cover the embedding space (k-center greedy).

References
----------
Sener & Savarese, "Active Learning for Convolutional Neural Networks: A Core-Set
Approach", ICLR 2018.
"""

from __future__ import annotations

import numpy as np

from .base import NEEDS_LABELED, AcquisitionStrategy, ScoringContext, Selection, register
from .diversity import k_center_greedy, nearest_sqdist


@register
class CoreSet(AcquisitionStrategy):
    """Each pick is the pool item farthest from the labeled set and earlier picks."""

    name = "coreset"
    needs = frozenset({NEEDS_LABELED})

    def score(self, ctx: ScoringContext, rng: np.random.Generator) -> np.ndarray:
        if ctx.labeled_embedding is None or not ctx.labeled_embedding.shape[0]:
            return np.zeros(ctx.n)
        return np.sqrt(nearest_sqdist(ctx.embedding.astype(np.float64), ctx.labeled_embedding.astype(np.float64)))

    def select(self, ctx: ScoringContext, k: int, rng: np.random.Generator) -> Selection:
        idx, gaps = k_center_greedy(ctx.embedding, k, ctx.labeled_embedding)
        finite = np.where(np.isfinite(gaps), gaps, np.nanmax(np.where(np.isfinite(gaps), gaps, 0.0), initial=0.0) + 1)
        return Selection(idx, finite)
