"""Errors raised by the on-device runtime."""

from __future__ import annotations


class EdgeRuntimeError(Exception):
    """Base class of every edge-runtime error."""


class ModelLoadError(EdgeRuntimeError):
    """An ONNX artifact could not be loaded or lacks the expected inputs/outputs."""


class UnknownStrategyError(EdgeRuntimeError):
    """No acquisition strategy is registered under the requested name."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown acquisition strategy '{name}'; registered: {', '.join(sorted(known))}")
        self.name = name
