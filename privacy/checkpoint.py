"""Signed checkpoints of the provenance log: C2SP tlog-checkpoint bodies in C2SP signed notes.

A checkpoint commits the log's origin, tree size and RFC 9162 root hash; the note carries
one Ed25519 signature line per key (``— <name> base64(key ID || signature)``). Signing and
key files live here; opening a checkpoint is the standalone verifier's job, re-exported so
the log and the verifier can never disagree on the format.

References
----------
c2sp.org/tlog-checkpoint and c2sp.org/signed-note (key ID = SHA-256(name || 0x0A || 0x01 ||
public key)[:4]); the key strings follow golang.org/x/mod/sumdb/note.
"""

from __future__ import annotations

import base64
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fedsift.privacy.errors import ProvenanceError
from fedsift.privacy.verifier import (
    Checkpoint,
    VerifierKey,
    VerifyError,
    key_id,
    load_verifier_key,
    open_checkpoint,
)

__all__ = [
    "Checkpoint",
    "CheckpointSigner",
    "VerifierKey",
    "VerifyError",
    "checkpoint_text",
    "generate_signer",
    "key_id",
    "load_signer",
    "load_verifier_key",
    "open_checkpoint",
    "sign_note",
    "vkey",
]

logger = logging.getLogger(__name__)
_ED25519 = b"\x01"  # signed-note signature type of Ed25519


def _check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise ProvenanceError(f"key name {name!r}: must be non-empty, without spaces or '+'")


@dataclass(frozen=True)
class CheckpointSigner:
    """An Ed25519 private key and the signed-note key name it signs as.

    Parameters
    ----------
    name : str
        Key name, by convention the log's origin (e.g. ``fedsift.example/provenance``).
    private_key : Ed25519PrivateKey
        The signing key.
    """

    name: str
    private_key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        _check_name(self.name)

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The matching public key."""
        return self.private_key.public_key()

    @property
    def verifier_key(self) -> VerifierKey:
        """What a verifier needs to check this signer's notes."""
        return VerifierKey(self.name, self.public_key)


def checkpoint_text(origin: str, size: int, root_hash: bytes) -> str:
    """Format the note text of a checkpoint (origin, decimal size, base64 root; newline-ended).

    Parameters
    ----------
    origin : str
        The log's identity, non-empty, one line.
    size : int
        Tree size, ``>= 0``.
    root_hash : bytes
        RFC 9162 root hash, 32 bytes.

    Returns
    -------
    str
        The three-line note text.
    """
    if not origin or "\n" in origin:
        raise ProvenanceError(f"checkpoint origin {origin!r}: must be one non-empty line")
    if size < 0 or len(root_hash) != 32:
        raise ProvenanceError(f"checkpoint: size {size} must be >= 0 and the root 32 bytes, got {len(root_hash)}")
    return f"{origin}\n{size}\n{base64.b64encode(root_hash).decode()}\n"


def sign_note(text: str, signer: CheckpointSigner) -> str:
    """Sign note text, returning the signed note (text, blank line, signature line).

    Parameters
    ----------
    text : str
        Note text ending in a newline.
    signer : CheckpointSigner
        Key and name to sign with.

    Returns
    -------
    str
        ``text + "\\n— <name> <base64(key ID || Ed25519 signature)>\\n"``.
    """
    if not text.endswith("\n"):
        raise ProvenanceError("note text must end with a newline")
    sig = signer.private_key.sign(text.encode("utf-8"))
    blob = base64.b64encode(key_id(signer.name, signer.public_key) + sig).decode()
    return f"{text}\n\u2014 {signer.name} {blob}\n"


def vkey(name: str, public_key: Ed25519PublicKey) -> str:
    """Signed-note verifier key string ``<name>+<key ID hex>+<base64(0x01 || key)>``."""
    _check_name(name)
    raw = _ED25519 + public_key.public_bytes_raw()
    return f"{name}+{key_id(name, public_key).hex()}+{base64.b64encode(raw).decode()}"


def generate_signer(path: str | Path, name: str) -> CheckpointSigner:
    """Create a new Ed25519 key, write it as PEM (mode 0600) with ``.pub`` and ``.vkey`` beside it.

    Parameters
    ----------
    path : str or Path
        Where the private key goes; ``<path>.pub`` (PEM) and ``<path>.vkey`` are written too.
    name : str
        Signed-note key name.

    Returns
    -------
    CheckpointSigner
        The new signer.
    """
    path = Path(path)
    if path.exists():
        raise ProvenanceError(f"key file {path} exists: refusing to overwrite a signing key")
    signer = CheckpointSigner(name, Ed25519PrivateKey.generate())
    pem = signer.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    pub = signer.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    Path(f"{path}.pub").write_bytes(pub)
    Path(f"{path}.vkey").write_text(vkey(name, signer.public_key) + "\n")
    logger.info("generated checkpoint key %s (%s)", path, key_id(name, signer.public_key).hex())
    return signer


def load_signer(path: str | Path, name: str | None = None) -> CheckpointSigner:
    """Load a signing key from PEM (PKCS8), a 32-byte raw seed, or a ``PRIVATE+KEY+...`` string.

    Parameters
    ----------
    path : str or Path
        The key file.
    name : str, optional
        Key name; required for PEM and raw keys, read from the file for ``PRIVATE+KEY`` ones.

    Returns
    -------
    CheckpointSigner
        The signer.
    """
    data = Path(path).read_bytes()
    if data.lstrip().startswith(b"-----BEGIN"):
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ProvenanceError(f"{path}: not an Ed25519 private key")
    elif len(data) == 32:
        key = Ed25519PrivateKey.from_private_bytes(data)
    elif data.startswith(b"PRIVATE+KEY+"):
        parts = data.decode().strip().split("+", 4)
        raw = base64.b64decode(parts[4], validate=True)
        if len(raw) != 33 or raw[:1] != _ED25519:
            raise ProvenanceError(f"{path}: PRIVATE+KEY is not an Ed25519 (type 0x01) key")
        key, name = Ed25519PrivateKey.from_private_bytes(raw[1:]), name or parts[2]
        if key_id(parts[2], key.public_key()).hex() != parts[3]:
            raise ProvenanceError(f"{path}: key hash {parts[3]} does not match the key")
    else:
        raise ProvenanceError(f"{path}: not a PEM, raw 32-byte or PRIVATE+KEY signing key")
    if name is None:
        raise ProvenanceError(f"{path}: a key name is needed to sign with this key")
    return CheckpointSigner(name, key)
