"""Sealed release: a consented, masked sample encrypted to the labeling service (HPKE).

HPKE (RFC 9180) base mode with X25519 / HKDF-SHA256 / ChaCha20-Poly1305, from
``cryptography``. The :class:`ReleaseHeader` (key id, candidate id, round, device id)
travels in clear beside the ciphertext and is bound to it as HPKE ``info``: its
canonical encoding feeds the key schedule, so a header edited or moved to another
sample, round or device derives another key and the AEAD open fails. The server in
between can route on the header but neither read nor re-target the payload.

Device side: :class:`Sealer` (pinned signer key, verified :class:`KeySet`).
Labeling side: :class:`LabelingService` (X25519 private keys, signed key sets, open).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from .errors import SealingError
from .keyset import KeyEntry, KeySet, b64d, b64e, current_key, sign_keyset, verify_keyset

logger = logging.getLogger(__name__)

SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.CHACHA20_POLY1305)
SUITE_NAME = "X25519-HKDF-SHA256-ChaCha20Poly1305"
INFO_CONTEXT = b"fedsift/release/v1\n"
MAX_PLAINTEXT_BYTES = 8 << 20
MAX_ID_CHARS = 256


@dataclass(frozen=True)
class ReleaseHeader:
    """Who sealed what for whom; in clear, bound to the ciphertext."""

    key_id: str
    candidate_id: str
    round: int
    device_id: str

    def __post_init__(self) -> None:
        for name in ("key_id", "candidate_id", "device_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_CHARS:
                raise SealingError(f"release header {name} {value!r:.60}: must be a str of 1 to "
                                   f"{MAX_ID_CHARS} characters")
        if not isinstance(self.round, int) or isinstance(self.round, bool) or self.round < 0:
            raise SealingError(f"release header round {self.round!r}: must be a non-negative int")

    def canonical(self) -> bytes:
        """The HPKE ``info``: domain label + canonical JSON (sorted keys, no spaces, ASCII)."""
        body = {"candidate_id": self.candidate_id, "device_id": self.device_id, "key_id": self.key_id,
                "round": self.round, "suite": SUITE_NAME}
        return INFO_CONTEXT + json.dumps(body, sort_keys=True, separators=(",", ":"),
                                         ensure_ascii=True).encode("ascii")

    def to_dict(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "candidate_id": self.candidate_id, "round": self.round,
                "device_id": self.device_id}


@dataclass(frozen=True)
class SealedRelease:
    """Header plus HPKE output (encapsulated key || AEAD ciphertext)."""

    header: ReleaseHeader
    ciphertext: bytes

    def to_dict(self) -> dict[str, Any]:
        return {"header": self.header.to_dict(), "ciphertext": b64e(self.ciphertext)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SealedRelease:
        try:
            h = data["header"]
            header = ReleaseHeader(key_id=h["key_id"], candidate_id=h["candidate_id"], round=h["round"],
                                   device_id=h["device_id"])
            return cls(header=header, ciphertext=b64d(data["ciphertext"], "ciphertext"))
        except (KeyError, TypeError) as exc:
            raise SealingError(f"sealed release: malformed ({type(exc).__name__}: {exc})") from exc


class Sealer:
    """Device side: seals releases to the labeling service's current key.

    Parameters
    ----------
    signer_public_key : Ed25519PublicKey
        The labeling service's key-set signer, pinned in the device config.
    clock : callable, optional
        POSIX time source; defaults to :func:`time.time`.
    """

    def __init__(self, signer_public_key: Ed25519PublicKey, clock: Callable[[], float] = time.time) -> None:
        self.signer_public_key = signer_public_key
        self._clock = clock

    def seal(self, plaintext: bytes, keyset: KeySet, *, candidate_id: str, round: int, device_id: str,
             now: float | None = None) -> SealedRelease:
        """Encrypt ``plaintext`` to the key set's current key, binding the header.

        Parameters
        ----------
        plaintext : bytes
            The masked release (at most 8 MiB).
        keyset : KeySet
            As received; verified here against the pinned signer.
        candidate_id : str
            Pseudonymous id of the released sample.
        round : int
        device_id : str
        now : float, optional
            Defaults to the clock.

        Returns
        -------
        SealedRelease

        Raises
        ------
        KeySetError
            Unsigned, badly signed or expired key set, or no key valid now: nothing is sealed.
        SealingError
            Oversized plaintext or a bad header field.
        """
        if len(plaintext) > MAX_PLAINTEXT_BYTES:
            raise SealingError(f"release plaintext: {len(plaintext)} bytes; the limit is {MAX_PLAINTEXT_BYTES}")
        when = self._clock() if now is None else now
        verify_keyset(keyset, self.signer_public_key, when)
        key = current_key(keyset, when)
        header = ReleaseHeader(key_id=key.key_id, candidate_id=candidate_id, round=round, device_id=device_id)
        ciphertext = SUITE.encrypt(bytes(plaintext), key.x25519(), info=header.canonical())
        logger.debug("sealed %d bytes for candidate in round %d to key %s", len(plaintext), round, key.key_id)
        return SealedRelease(header=header, ciphertext=ciphertext)


@dataclass
class _ServiceKey:
    entry: KeyEntry
    private_key: X25519PrivateKey


class LabelingService:
    """Labeling side: holds X25519 private keys, publishes signed key sets, opens releases.

    Parameters
    ----------
    signer : Ed25519PrivateKey
        Signs key sets; its public key (:attr:`signer_public_key`) is pinned on devices.
    """

    def __init__(self, signer: Ed25519PrivateKey) -> None:
        self.signer = signer
        self._keys: dict[str, _ServiceKey] = {}

    @property
    def signer_public_key(self) -> Ed25519PublicKey:
        return self.signer.public_key()

    def add_key(self, key_id: str, not_before: int, not_after: int,
                private_key: X25519PrivateKey | None = None) -> KeyEntry:
        """Create (or import) a sealing key valid in [not_before, not_after)."""
        if key_id in self._keys:
            raise SealingError(f"labeling service key_id {key_id!r}: already present")
        priv = private_key or X25519PrivateKey.generate()
        entry = KeyEntry(key_id=key_id, public_key=priv.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
                         not_before=int(not_before), not_after=int(not_after))
        self._keys[key_id] = _ServiceKey(entry, priv)
        return entry

    def retire(self, key_id: str) -> None:
        """Delete a private key: releases sealed to it can no longer be opened."""
        if self._keys.pop(key_id, None) is None:
            raise SealingError(f"labeling service key_id {key_id!r}: unknown")

    def publish(self, issued_at: int, expires_at: int) -> KeySet:
        """A key set of every key not yet expired at ``issued_at``, signed."""
        entries = [k.entry for k in self._keys.values() if k.entry.not_after > issued_at]
        return sign_keyset(entries, self.signer, issued_at, expires_at)

    def open(self, sealed: SealedRelease, *, candidate_id: str | None = None, round: int | None = None,
             device_id: str | None = None) -> bytes:
        """Decrypt a release; optionally check it is the one that was asked for.

        Parameters
        ----------
        sealed : SealedRelease
        candidate_id, round, device_id : optional
            What the server requested; a header naming something else is refused
            before decryption.

        Returns
        -------
        bytes
            The plaintext.

        Raises
        ------
        SealingError
            Unknown key id, a header not matching the request, or a ciphertext that does
            not open under this header (tampered, or header moved to another
            sample/round/device/key).
        """
        header = sealed.header
        for name, expected in (("candidate_id", candidate_id), ("round", round), ("device_id", device_id)):
            if expected is not None and getattr(header, name) != expected:
                raise SealingError(f"sealed release header {name} {getattr(header, name)!r}: "
                                   f"the request was for {expected!r}")
        key = self._keys.get(header.key_id)
        if key is None:
            raise SealingError(f"sealed release key_id {header.key_id!r}: unknown to this labeling service "
                               f"(known: {', '.join(sorted(self._keys)) or 'none'})")
        try:
            return SUITE.decrypt(sealed.ciphertext, key.private_key, info=header.canonical())
        except (InvalidTag, ValueError) as exc:
            raise SealingError(f"sealed release for candidate {header.candidate_id!r} round {header.round} "
                               f"device {header.device_id!r}: does not open with key {header.key_id!r} "
                               "(ciphertext tampered, or header moved to another sample/round/device)") from exc

    def save_keys(self, path: str | Path) -> None:
        """Write the private keys to ``path`` (JSON, mode 0600, replaced atomically)."""
        path = Path(path)
        data = [{**k.entry.to_dict(), "private_key": b64e(k.private_key.private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption()))} for k in self._keys.values()]
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    @classmethod
    def load_keys(cls, path: str | Path, signer: Ed25519PrivateKey) -> LabelingService:
        """A service with the private keys saved by :meth:`save_keys`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            service = cls(signer)
            for k in data:
                priv = X25519PrivateKey.from_private_bytes(b64d(k["private_key"], "private_key"))
                service.add_key(k["key_id"], k["not_before"], k["not_after"], private_key=priv)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SealingError(f"labeling service key file {path}: unreadable ({exc})") from exc
        return service
