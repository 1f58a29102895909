"""Errors raised by fedsift.privacy. Each names the bad field, its value and the limit."""

from __future__ import annotations


class PrivacyError(Exception):
    """Base class of every error in fedsift.privacy."""
