"""Acquisition strategies, registered by name (see :func:`get_strategy`)."""

from . import random, uncertainty  # noqa: F401  (importing registers them)
from .base import AcquisitionStrategy, available_strategies, get_strategy, register

__all__ = ["AcquisitionStrategy", "available_strategies", "get_strategy", "register"]
