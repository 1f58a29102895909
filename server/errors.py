"""Errors raised by the fedsift server."""

from __future__ import annotations


class ServerError(Exception):
    """Base class of every server error."""


class ConfigError(ServerError):
    """A campaign setting is out of range; names the field, value and limit."""

    def __init__(self, field: str, value: object, limit: str) -> None:
        super().__init__(f"config '{field}' = {value!r}: {limit}")
        self.field = field


class UnknownPolicyError(ServerError):
    """No allocation policy is registered under the requested name."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown allocation policy '{name}'; registered: {', '.join(sorted(known))}")


class NoNodesError(ServerError):
    """Not enough devices connected in time."""


class NoRepliesError(ServerError):
    """No device answered a round's query validly; names the first problems."""


class StateError(ServerError):
    """The state store cannot be opened, or an operation on it names something it does not hold."""


class PhaseError(ServerError):
    """A phase was asked for that the campaign's state does not allow (e.g. deliver with no open round)."""
