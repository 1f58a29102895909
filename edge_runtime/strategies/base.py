"""Acquisition strategy base class and the by-name registry.

A strategy turns model outputs over a device's pool into one informativeness score
per item (higher = ask for it sooner). Strategies are small classes registered by name
so the server config and CLI can pick them (``--strategy entropy``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from ..errors import UnknownStrategyError

_REGISTRY: dict[str, type[AcquisitionStrategy]] = {}


class AcquisitionStrategy(ABC):
    """Score every pool item; subclasses set ``name`` and implement :meth:`score`."""

    name: ClassVar[str]

    @abstractmethod
    def score(self, probs: np.ndarray, embedding: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Informativeness of each item.

        Parameters
        ----------
        probs : ndarray, shape (n, classes)
            Predicted class probabilities.
        embedding : ndarray, shape (n, hidden)
            Penultimate-layer embeddings.
        rng : numpy.random.Generator
            Source of randomness, seeded per device and round.

        Returns
        -------
        ndarray of float, shape (n,)
            Scores; higher means more informative.
        """


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
