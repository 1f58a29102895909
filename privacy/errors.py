"""Errors raised by fedsift.privacy. Each names the bad field, its value and the limit."""

from __future__ import annotations


class PrivacyError(Exception):
    """Base class of every error in fedsift.privacy."""


# --- provenance log, checkpoints and audit (issue 5) ---


class ProvenanceError(PrivacyError):
    """The provenance log cannot do what was asked (bad index, size, key or file)."""


class NonCanonicalEventError(ProvenanceError):
    """An event payload cannot be written as canonical JSON (a float, a non-string key...)."""


class TamperError(ProvenanceError):
    """The provenance log or a checkpoint does not verify: it was altered, truncated or forged."""


# --- device-side privacy: masking, consent, sealing, key sets, DP (issue 4) ---


class MaskingError(PrivacyError):
    """A text or record cannot be masked (bad policy, oversized field, missing key)."""


class PseudonymError(PrivacyError):
    """The per-device pseudonym key is missing, unreadable or malformed."""


class ConsentError(PrivacyError):
    """The consent store was asked something invalid (unknown scope, bad expiry, bad id)."""


class SealingError(PrivacyError):
    """A release cannot be sealed or opened (tampered, moved header, wrong key id)."""


class KeySetError(SealingError):
    """The labeling service's key set is unsigned, badly signed, expired or has no valid key."""


class PrivacyBudgetExceeded(PrivacyError):
    """A DP release would spend more epsilon than the device's total budget allows."""


class DPError(PrivacyError):
    """A DP mechanism was given an invalid parameter (epsilon, delta, sensitivity, counts)."""
