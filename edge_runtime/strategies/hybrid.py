"""Hybrid: the most uncertain items first, then the most diverse among them.

Takes the ``pool_factor * k`` items with the highest margin score and runs k-center
greedy on their embeddings (anchored at the labeled set), so a batch is uncertain
without being k near-duplicates.

References
----------
Brinker, "Incorporating Diversity in Active Learning with Support Vector Machines",
ICML 2003; Zhdanov, "Diverse mini-batch Active Learning", 2019.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import NEEDS_LABELED, AcquisitionStrategy, ScoringContext, Selection, register, top_k
from .diversity import k_center_greedy
from .uncertainty import margin


@register
class Hybrid(AcquisitionStrategy):
    """Margin pre-filter, k-center greedy within it."""

    name = "hybrid"
    needs = frozenset({NEEDS_LABELED})
    pool_factor: ClassVar[int] = 4

    def score(self, ctx: ScoringContext, rng: np.random.Generator) -> np.ndarray:
        return margin(ctx.probs)

    def select(self, ctx: ScoringContext, k: int, rng: np.random.Generator) -> Selection:
        scores = margin(ctx.probs)
        shortlist = top_k(scores, self.pool_factor * k)
        picked, _ = k_center_greedy(ctx.embedding[shortlist], k, ctx.labeled_embedding, first=0)
        idx = shortlist[picked]
        return Selection(idx, scores[idx])
