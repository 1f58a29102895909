"""Uncertainty sampling: least confidence, margin and entropy.

References
----------
Lewis & Gale, "A sequential algorithm for training text classifiers", SIGIR 1994.
Scheffer et al., "Active hidden Markov models for information extraction", IDA 2001 (margin).
Settles, "Active Learning Literature Survey", 2009 (entropy).
"""

from __future__ import annotations

import numpy as np

from .base import AcquisitionStrategy, ScoringContext, register


def least_confidence(probs: np.ndarray) -> np.ndarray:
    """1 - max_c p(c|x)."""
    return 1.0 - probs.max(axis=1)


def margin(probs: np.ndarray) -> np.ndarray:
    """1 - (p_top1 - p_top2): 1 when the two best classes tie."""
    if probs.shape[1] < 2:
        return np.zeros(probs.shape[0])
    top2 = np.partition(probs, -2, axis=1)[:, -2:]
    return 1.0 - (top2[:, 1] - top2[:, 0])


def entropy(probs: np.ndarray) -> np.ndarray:
    """Shannon entropy of each row (nats)."""
    p = np.clip(probs, 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=1)


@register
class LeastConfidence(AcquisitionStrategy):
    """1 - max_c p(c|x): items whose top prediction is least certain."""

    name = "least_confidence"

    def score(self, ctx: ScoringContext, rng: np.random.Generator) -> np.ndarray:
        return least_confidence(ctx.probs)


@register
class Margin(AcquisitionStrategy):
    """Negative gap between the two most likely classes: small gap scores high."""

    name = "margin"

    def score(self, ctx: ScoringContext, rng: np.random.Generator) -> np.ndarray:
        return margin(ctx.probs)


@register
class Entropy(AcquisitionStrategy):
    """Shannon entropy of the predicted distribution."""

    name = "entropy"

    def score(self, ctx: ScoringContext, rng: np.random.Generator) -> np.ndarray:
        return entropy(ctx.probs)
