"""TypiClust: typical and diverse items for the cold start.

Clusters the pool into ``labeled + k`` clusters and, from each of the largest clusters
holding no labeled item, takes its most typical item (highest inverse mean distance to
its nearest neighbours). With a poor model, typical and representative samples teach
more than uncertain ones. Uses the raw features: a barely trained model's embedding
says little.

References
----------
Hacohen, Dekel & Weinshall, "Active Learning on a Budget: Opposite Strategies Suit High
and Low Budgets", ICML 2022.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import AcquisitionStrategy, ScoringContext, Selection, register
from .diversity import kmeans, nearest_sqdist


def typicality(points: np.ndarray, neighbours: int) -> np.ndarray:
    """1 / mean distance to the ``neighbours`` nearest other points."""
    n = points.shape[0]
    if n <= 1:
        return np.ones(n)
    pts = points.astype(np.float64)
    sq = np.einsum("ij,ij->i", pts, pts)
    d = np.sqrt(np.maximum(sq[:, None] - 2 * pts @ pts.T + sq[None, :], 0.0))
    np.fill_diagonal(d, np.inf)
    kk = min(neighbours, n - 1)
    nearest = np.partition(d, kk - 1, axis=1)[:, :kk]
    return 1.0 / (nearest.mean(axis=1) + 1e-12)


@register
class TypiClust(AcquisitionStrategy):
    """Most typical item of each large uncovered cluster."""

    name = "typiclust"
    neighbours: ClassVar[int] = 20
    max_points: ClassVar[int] = 5000

    def score(self, ctx: ScoringContext, rng: np.random.Generator) -> np.ndarray:
        return typicality(ctx.features[: self.max_points], self.neighbours) if ctx.n <= self.max_points else np.zeros(ctx.n)

    def select(self, ctx: ScoringContext, k: int, rng: np.random.Generator) -> Selection:
        n = ctx.n
        k = min(k, n)
        if k == 0:
            return Selection(np.zeros(0, np.int64), np.zeros(0))
        x = ctx.features.astype(np.float64)
        labels, _ = kmeans(x, min(n, k), rng)
        sizes = np.bincount(labels, minlength=labels.max() + 1)
        chosen, utils = [], []
        for c in np.argsort(-sizes, kind="stable"):
            members = np.flatnonzero(labels == c)
            if not len(members):
                continue
            t = typicality(x[members], self.neighbours)
            best = int(np.argmax(t))
            chosen.append(int(members[best]))
            utils.append(float(sizes[c]))
            if len(chosen) == k:
                break
        if len(chosen) < k:  # fewer non-empty clusters than k: fill by distance to the chosen
            rest = np.setdiff1d(np.arange(n), chosen)
            far = nearest_sqdist(x[rest], x[chosen])
            extra = rest[np.argsort(-far, kind="stable")[: k - len(chosen)]]
            chosen += extra.tolist()
            utils += [0.0] * len(extra)
        return Selection(np.array(chosen, dtype=np.int64), np.array(utils))
