"""Errors raised by fedsift.simulations."""

from __future__ import annotations


class SimulationError(Exception):
    """A simulation setting or input is invalid."""
