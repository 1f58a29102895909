"""Errors raised by the fedsift root package (configuration loading, CLI)."""

from __future__ import annotations


class FedsiftError(Exception):
    """Base class of errors in the root package."""


class ConfigFileError(FedsiftError):
    """A TOML config file is unreadable or holds an unknown or ill-typed key."""
