"""Pseudonymous sample ids: HMAC-SHA256 of the local id under a per-device key.

The key never leaves the device. The server sees only pseudonyms, stable for as long as
the key lives, so it can ask for a candidate again; it cannot link them to local ids or
across devices. :meth:`Pseudonymizer.erase` deletes the key: the ids issued so far
become unlinkable for everyone, the device included, and a fresh key gives new ids.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

from .errors import PseudonymError

logger = logging.getLogger(__name__)

KEY_BYTES = 32
MAX_ID_CHARS = 1024


def _write_new_key(path: Path) -> bytes:
    key = secrets.token_bytes(KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: never overwrite a key another process just created; 0600 from the start.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    logger.info("created pseudonym key %s", path)
    return key


def _read_key(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PseudonymError(f"pseudonym key file {path}: permissions are {oct(mode)}; the limit is 0o600 "
                             f"(owner only)")
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise PseudonymError(f"pseudonym key file {path}: {len(key)} bytes; expected {KEY_BYTES}")
    return key


class Pseudonymizer:
    """Keyed pseudonyms for local sample ids.

    Parameters
    ----------
    key_file : str or Path
        Where the device key lives. Created (32 random bytes, mode 0600) when absent.
    create : bool
        When False, a missing key file is an error instead of being created.
    """

    def __init__(self, key_file: str | Path, create: bool = True) -> None:
        self.key_file = Path(key_file)
        try:
            if self.key_file.exists():
                self._key: bytes | None = _read_key(self.key_file)
            elif create:
                self._key = _write_new_key(self.key_file)
            else:
                raise PseudonymError(f"pseudonym key file {self.key_file} does not exist")
        except OSError as exc:
            raise PseudonymError(f"pseudonym key file {self.key_file}: {exc.strerror}") from exc

    def _require_key(self) -> bytes:
        if self._key is None:
            raise PseudonymError(f"pseudonym key {self.key_file} was erased; create a new Pseudonymizer")
        return self._key

    def pseudonym(self, sample_id: str) -> str:
        """The pseudonymous id of a local sample id.

        Parameters
        ----------
        sample_id : str
            Local id, 1 to 1024 characters.

        Returns
        -------
        str
            64 hex characters: HMAC-SHA256(device key, sample_id).
        """
        if not isinstance(sample_id, str) or not 0 < len(sample_id) <= MAX_ID_CHARS:
            raise PseudonymError(f"sample_id {sample_id!r:.80}: must be a str of 1 to {MAX_ID_CHARS} characters")
        key = self._require_key()
        return hmac.new(key, sample_id.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def derive_key(self, purpose: str) -> bytes:
        """A 32-byte subkey for another keyed use on the device (e.g. the ``hash`` masker).

        Parameters
        ----------
        purpose : str
            Domain-separation label; different labels give independent keys.

        Returns
        -------
        bytes
        """
        key = self._require_key()
        return hmac.new(key, b"fedsift/derive/" + purpose.encode("utf-8"), hashlib.sha256).digest()

    def erase(self) -> None:
        """Delete the key: overwrite the file, unlink it and forget the in-memory copy.

        Overwriting is best effort (SSDs and journaling file systems may keep old
        blocks); unlinking plus dropping the key is what makes the ids unlinkable here.
        """
        try:
            if self.key_file.exists():
                with open(self.key_file, "r+b") as fh:
                    fh.write(b"\0" * KEY_BYTES)
                    fh.flush()
                    os.fsync(fh.fileno())
                self.key_file.unlink()
        except OSError as exc:
            raise PseudonymError(f"pseudonym key file {self.key_file}: cannot erase: {exc.strerror}") from exc
        self._key = None
        logger.info("erased pseudonym key %s", self.key_file)

    @property
    def erased(self) -> bool:
        """Whether :meth:`erase` was called on this instance."""
        return self._key is None
