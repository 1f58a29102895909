"""The labeling service's published sealing keys, signed with Ed25519.

A :class:`KeySet` lists X25519 public keys, each with a validity window, plus the
set's own issue and expiry times, signed by the labeling service's Ed25519 key.
Devices pin that signer's public key, :func:`verify_keyset` what they receive, and
seal to :func:`current_key`: among the keys valid now, the one that became valid last,
so that during a rotation's overlap window new releases already use the new key
while the old one still opens releases in flight.

The signed bytes are a canonical JSON encoding (sorted keys, no spaces, ASCII, integer
times, base64url keys without padding), prefixed by a domain-separation label.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from .errors import KeySetError

logger = logging.getLogger(__name__)

KEYSET_CONTEXT = b"fedsift/keyset/v1\n"
MAX_KEYS = 64
MAX_KEY_ID_CHARS = 128


def b64e(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str, name: str) -> bytes:
    """Decode base64url (padding optional), with an error naming ``name``."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise KeySetError(f"{name}: not base64url: {text!r:.60}") from exc


@dataclass(frozen=True)
class KeyEntry:
    """One sealing key: id, raw X25519 public key (32 bytes), validity [not_before, not_after)."""

    key_id: str
    public_key: bytes
    not_before: int
    not_after: int

    def __post_init__(self) -> None:
        if not isinstance(self.key_id, str) or not 0 < len(self.key_id) <= MAX_KEY_ID_CHARS:
            raise KeySetError(f"key_id {self.key_id!r:.60}: must be a str of 1 to {MAX_KEY_ID_CHARS} characters")
        if len(self.public_key) != 32:
            raise KeySetError(f"key {self.key_id!r} public_key: {len(self.public_key)} bytes; expected 32 (X25519)")
        if not self.not_before < self.not_after:
            raise KeySetError(f"key {self.key_id!r} not_after {self.not_after}: must be after not_before "
                              f"{self.not_before}")

    def valid_at(self, now: float) -> bool:
        """Whether ``now`` lies in [not_before, not_after)."""
        return self.not_before <= now < self.not_after

    def x25519(self) -> X25519PublicKey:
        """The public key as a ``cryptography`` object."""
        return X25519PublicKey.from_public_bytes(self.public_key)

    def to_dict(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "public_key": b64e(self.public_key),
                "not_before": int(self.not_before), "not_after": int(self.not_after)}


@dataclass(frozen=True)
class KeySet:
    """Sealing keys plus the set's validity and the signer's Ed25519 signature (None = unsigned)."""

    keys: tuple[KeyEntry, ...]
    issued_at: int
    expires_at: int
    signature: bytes | None = None

    def signed_bytes(self) -> bytes:
        """The canonical bytes the signature covers."""
        body = {"expires_at": int(self.expires_at), "issued_at": int(self.issued_at),
                "keys": [k.to_dict() for k in self.keys]}
        return KEYSET_CONTEXT + json.dumps(body, sort_keys=True, separators=(",", ":"),
                                           ensure_ascii=True).encode("ascii")

    def to_json(self) -> str:
        """The published form."""
        body: dict[str, Any] = {"issued_at": int(self.issued_at), "expires_at": int(self.expires_at),
                                "keys": [k.to_dict() for k in self.keys]}
        if self.signature is not None:
            body["signature"] = b64e(self.signature)
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> KeySet:
        """Parse the published form (does not verify: see :func:`verify_keyset`)."""
        try:
            data = json.loads(text)
            keys = data["keys"]
            if not isinstance(keys, list) or len(keys) > MAX_KEYS:
                raise KeySetError(f"keyset keys: expected a list of at most {MAX_KEYS} entries")
            entries = tuple(KeyEntry(key_id=k["key_id"], public_key=b64d(k["public_key"], "public_key"),
                                     not_before=int(k["not_before"]), not_after=int(k["not_after"])) for k in keys)
            sig = data.get("signature")
            return cls(keys=entries, issued_at=int(data["issued_at"]), expires_at=int(data["expires_at"]),
                       signature=None if sig is None else b64d(sig, "signature"))
        except (ValueError, KeyError, TypeError) as exc:
            raise KeySetError(f"keyset: malformed ({type(exc).__name__}: {exc})") from exc


def sign_keyset(keys: list[KeyEntry], signer: Ed25519PrivateKey, issued_at: int, expires_at: int) -> KeySet:
    """Build and sign a key set.

    Parameters
    ----------
    keys : list of KeyEntry
    signer : Ed25519PrivateKey
        The labeling service's signing key; devices pin its public key.
    issued_at, expires_at : int
        POSIX seconds; devices refuse the set outside [issued_at, expires_at).

    Returns
    -------
    KeySet
    """
    if not keys or len(keys) > MAX_KEYS:
        raise KeySetError(f"keyset keys: {len(keys)} entries; expected 1 to {MAX_KEYS}")
    if len({k.key_id for k in keys}) != len(keys):
        raise KeySetError(f"keyset keys: duplicate key_id in {[k.key_id for k in keys]}")
    if not issued_at < expires_at:
        raise KeySetError(f"keyset expires_at {expires_at}: must be after issued_at {issued_at}")
    unsigned = KeySet(keys=tuple(keys), issued_at=int(issued_at), expires_at=int(expires_at))
    return KeySet(unsigned.keys, unsigned.issued_at, unsigned.expires_at, signer.sign(unsigned.signed_bytes()))


def verify_keyset(keyset: KeySet, signer_public_key: Ed25519PublicKey, now: float) -> KeySet:
    """Check the signature against the pinned signer and the set's validity at ``now``.

    Parameters
    ----------
    keyset : KeySet
    signer_public_key : Ed25519PublicKey
        Pinned on the device; never taken from the key set itself.
    now : float
        POSIX seconds.

    Returns
    -------
    KeySet
        The same set, verified.

    Raises
    ------
    KeySetError
        Unsigned, bad signature (wrong signer or altered), not yet valid or expired.
    """
    if keyset.signature is None:
        raise KeySetError("keyset signature: missing; refusing an unsigned key set")
    try:
        signer_public_key.verify(keyset.signature, keyset.signed_bytes())
    except InvalidSignature:
        raise KeySetError("keyset signature: does not verify with the pinned signer key "
                          "(wrong signer or altered key set)") from None
    if now < keyset.issued_at:
        raise KeySetError(f"keyset issued_at {keyset.issued_at}: in the future (now {int(now)})")
    if now >= keyset.expires_at:
        raise KeySetError(f"keyset expires_at {keyset.expires_at}: expired (now {int(now)})")
    return keyset


def current_key(keyset: KeySet, now: float) -> KeyEntry:
    """The key to seal to at ``now``: the valid one with the latest ``not_before``.

    Raises
    ------
    KeySetError
        When no key of the set is valid at ``now``.
    """
    valid = [k for k in keyset.keys if k.valid_at(now)]
    if not valid:
        windows = ", ".join(f"{k.key_id}=[{k.not_before},{k.not_after})" for k in keyset.keys)
        raise KeySetError(f"keyset: no key valid at {int(now)}; windows: {windows}")
    return max(valid, key=lambda k: (k.not_before, k.key_id))
