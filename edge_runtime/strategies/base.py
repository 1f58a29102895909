"""Acquisition strategy base class, the scoring context and the by-name registry.

A strategy looks at model outputs over a device's unlabeled pool and proposes ``k``
candidates with a utility each (higher = ask for it sooner). Per-item strategies
(margin, entropy, ...) only implement :meth:`AcquisitionStrategy.score`; batch strategies
(core-set, BADGE, hybrid, TypiClust) override :meth:`AcquisitionStrategy.select` to pick
a diverse batch. Strategies are small classes registered by name so the server config
and CLI can pick them (``--strategy margin``); each declares in ``needs`` which extra
model outputs the device must compute for it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import UnknownStrategyError

_REGISTRY: dict[str, type[AcquisitionStrategy]] = {}

NEEDS_LABELED = "labeled_embedding"
NEEDS_MC = "mc_probs"
NEEDS_COMMITTEE = "committee_probs"


@dataclass(frozen=True)
class ScoringContext:
    """What a device knows about its unlabeled pool under the current model.

    Parameters
    ----------
    probs : ndarray, shape (n, classes)
        Predicted class probabilities.
    embedding : ndarray, shape (n, hidden)
        Penultimate-layer embeddings.
    features : ndarray, shape (n, d)
        The raw inputs.
    labeled_embedding : ndarray, shape (m, hidden), optional
        Embeddings of the items the device already holds labels for.
    mc_probs : ndarray, shape (T, n, classes), optional
        Probabilities under T Monte-Carlo dropout masks.
    committee_probs : ndarray, shape (M, n, classes), optional
        Probabilities under the last M global models.
    """

    probs: np.ndarray
    embedding: np.ndarray
    features: np.ndarray
    labeled_embedding: np.ndarray | None = None
    mc_probs: np.ndarray | None = None
    committee_probs: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.probs.shape[0])


@dataclass(frozen=True)
class Selection:
    """Chosen pool indices (best first) and the utility of each, for the summary and the audit."""

    indices: np.ndarray
    utilities: np.ndarray


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first; ties broken by position."""
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(scores.shape[0]), -scores))
    return order[:k]


class AcquisitionStrategy(ABC):
    """Score every pool item, or select a batch; subclasses set ``name``."""

    name: ClassVar[str]
    needs: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def score(self, ctx: ScoringContext, rng: np.random.Generator) -> np.ndarray:
        """Informativeness of each item, shape (n,); higher means more informative."""

    def select(self, ctx: ScoringContext, k: int, rng: np.random.Generator) -> Selection:
        """The ``k`` best items; per-item strategies take the top scores.

        Parameters
        ----------
        ctx : ScoringContext
            Model outputs over the pool.
        k : int
            Batch size.
        rng : numpy.random.Generator
            Seeded per device and round.

        Returns
        -------
        Selection
        """
        scores = np.asarray(self.score(ctx, rng), dtype=np.float64)
        idx = top_k(scores, k)
        return Selection(idx, scores[idx])


def register(cls: type[AcquisitionStrategy]) -> type[AcquisitionStrategy]:
    """Class decorator adding a strategy to the registry under ``cls.name``."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"acquisition strategy '{cls.name}' is already registered")
    _REGISTRY[cls.name] = cls
    return cls


def get_strategy(name: str) -> AcquisitionStrategy:
    """Instantiate the strategy registered under ``name``."""
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise UnknownStrategyError(name, list(_REGISTRY)) from None


def available_strategies() -> list[str]:
    """Names of all registered strategies."""
    return sorted(_REGISTRY)
