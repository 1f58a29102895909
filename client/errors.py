"""Errors raised by the fedsift client (device agent)."""

from __future__ import annotations


class ClientError(Exception):
    """Base class of every client error."""


class PoolError(ClientError):
    """The local data pool is missing or malformed."""


class NoLabelsError(ClientError):
    """Training or evaluation was asked for but the device holds no labels yet."""


class StaleRoundError(ClientError):
    """A message names a round older than the newest one this device has seen (replayed or stale)."""
