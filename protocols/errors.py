"""Errors raised while encoding, decoding or validating protocol messages."""

from __future__ import annotations


class ProtocolError(Exception):
    """Base class of every protocol error."""


class MessageValidationError(ProtocolError):
    """A message field is missing, malformed, oversized or not allowed.

    The message names the field, the value seen (shortened) and the limit, so a log
    line says exactly which part of which reply was wrong.
    """

    def __init__(self, field: str, problem: str, value: object = None) -> None:
        self.field = field
        self.problem = problem
        shown = "" if value is None else f" (got {_short(value)})"
        super().__init__(f"field '{field}': {problem}{shown}")


class ProtocolVersionError(MessageValidationError):
    """The peer speaks another protocol version."""


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
