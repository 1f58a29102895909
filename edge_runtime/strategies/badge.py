"""BADGE: diverse, uncertain batches from k-means++ over gradient embeddings.

The gradient embedding of an item is the gradient of the cross-entropy loss w.r.t. the
last layer's weights, taking the predicted class as the label: ``(p - onehot(ŷ)) ⊗ h``.
Its norm grows with uncertainty and its direction encodes the item's features, so
k-means++ seeding picks items that are both uncertain and different.

References
----------
Ash et al., "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower Bounds",
ICLR 2020.
"""

from __future__ import annotations

import numpy as np

from .base import AcquisitionStrategy, ScoringContext, Selection, register
from .diversity import kmeans_pp_seeds


def gradient_embedding(probs: np.ndarray, embedding: np.ndarray) -> np.ndarray:
    """``(p - onehot(argmax p)) ⊗ h`` flattened, shape (n, classes * hidden)."""
    residual = probs.astype(np.float64).copy()
    residual[np.arange(probs.shape[0]), probs.argmax(axis=1)] -= 1.0
    n, width = probs.shape[0], probs.shape[1] * embedding.shape[1]  # explicit width: an empty pool is (0, width)
    return (residual[:, :, None] * embedding.astype(np.float64)[:, None, :]).reshape(n, width)


@register
class Badge(AcquisitionStrategy):
    """k-means++ seeding over gradient embeddings."""

    name = "badge"

    def score(self, ctx: ScoringContext, rng: np.random.Generator) -> np.ndarray:
        return np.linalg.norm(gradient_embedding(ctx.probs, ctx.embedding), axis=1)

    def select(self, ctx: ScoringContext, k: int, rng: np.random.Generator) -> Selection:
        g = gradient_embedding(ctx.probs, ctx.embedding)
        idx, _ = kmeans_pp_seeds(g, k, rng)
        return Selection(idx, np.linalg.norm(g[idx], axis=1))
