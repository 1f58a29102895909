"""Uncertainty sampling: least confidence, margin and entropy.

References
----------
Lewis & Gale, "A sequential algorithm for training text classifiers", SIGIR 1994.
Scheffer et al., "Active hidden Markov models for information extraction", IDA 2001 (margin).
Settles, "Active Learning Literature Survey", 2009 (entropy).
"""

from __future__ import annotations

import numpy as np

from .base import AcquisitionStrategy, register


@register
class LeastConfidence(AcquisitionStrategy):
    """1 - max_c p(c|x): items whose top prediction is least certain."""

    name = "least_confidence"

    def score(self, probs: np.ndarray, embedding: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return 1.0 - probs.max(axis=1)


@register
class Margin(AcquisitionStrategy):
    """Negative gap between the two most likely classes: small gap scores high."""

    name = "margin"

    def score(self, probs: np.ndarray, embedding: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if probs.shape[1] < 2:
            return np.zeros(probs.shape[0])
        top2 = np.partition(probs, -2, axis=1)[:, -2:]
        return 1.0 - (top2[:, 1] - top2[:, 0])


@register
class Entropy(AcquisitionStrategy):
    """Shannon entropy of the predicted distribution."""

    name = "entropy"

    def score(self, probs: np.ndarray, embedding: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        p = np.clip(probs, 1e-12, 1.0)
        return -(p * np.log(p)).sum(axis=1)
