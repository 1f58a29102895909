"""Acquisition strategies, registered by name (see :func:`get_strategy`)."""

from . import badge, bald, coreset, hybrid, qbc, random, typiclust, uncertainty  # noqa: F401  (registers them)
from .base import (
    NEEDS_COMMITTEE,
    NEEDS_LABELED,
    NEEDS_MC,
    AcquisitionStrategy,
    ScoringContext,
    Selection,
    available_strategies,
    get_strategy,
    register,
    top_k,
)

__all__ = [
    "NEEDS_COMMITTEE", "NEEDS_LABELED", "NEEDS_MC", "AcquisitionStrategy", "ScoringContext", "Selection",
    "available_strategies", "get_strategy", "register", "top_k",
]
