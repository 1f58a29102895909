"""The device's model cache: verify every model the server sends before running it.

A device pins the server's model-signing public key. A model whose signature is
missing or wrong is refused with :class:`ModelSignatureError`; the cached last good
model stays in place (in ``context.state``, which survives between messages and
processes, or in the device's SQLite store when the node config names one), so a bad
artifact never replaces a good one.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flwr.app import ConfigRecord, Context

from .errors import ClientError
from .labels import device_store

logger = logging.getLogger(__name__)

_KEY = "fedsift.model"
DOMAIN = b"fedsift-model-v1\x00"  # must match fedsift.server.signing (the client may not import the server)


class ModelSignatureError(ClientError):
    """A model artifact is unsigned or its signature does not verify against the pinned key."""


class ModelVerifier:
    """Checks model signatures against a pinned Ed25519 public key (kept as raw bytes: picklable)."""

    def __init__(self, public_key: Ed25519PublicKey | bytes) -> None:
        if isinstance(public_key, Ed25519PublicKey):
            public_key = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.raw = bytes(public_key)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.raw)

    @classmethod
    def from_pem(cls, path: str | Path) -> ModelVerifier:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise ModelSignatureError(f"pinned model key {path}: not an Ed25519 public key")
        return cls(key)

    def verify(self, version: int, onnx: bytes, signature: bytes) -> None:
        """Raise :class:`ModelSignatureError` unless ``signature`` is the server's over this model."""
        if not signature:
            raise ModelSignatureError(f"model v{version} is unsigned: refusing it, keeping the last good model")
        message = DOMAIN + int(version).to_bytes(8, "big") + hashlib.sha256(onnx).digest()
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            raise ModelSignatureError(f"model v{version}: signature does not verify against the pinned key; "
                                      "refusing it, keeping the last good model") from None


def last_good_model(context: Context) -> tuple[int, bytes] | None:
    """The last verified model (version, ONNX bytes), if any (from the device store when there is one)."""
    store = device_store(context)
    if store is not None:
        with store:
            kept = store.models()
        return kept[-1] if kept else None
    if _KEY not in context.state:
        return None
    rec = context.state[_KEY]
    return int(rec["version"]), bytes(rec["onnx"])


def accept_model(context: Context, verifier: ModelVerifier | None, version: int, onnx: bytes,
                 signature: bytes) -> bytes:
    """Verify (when a key is pinned) and cache a model; return the bytes to score with."""
    if verifier is not None:
        try:
            verifier.verify(version, onnx, signature)
        except ModelSignatureError:
            good = last_good_model(context)
            logger.error("refused model v%d; last good model is %s", version,
                         f"v{good[0]}" if good else "none")
            raise
    store = device_store(context)
    if store is not None:
        with store:
            store.save_model(version, onnx)
    else:
        context.state[_KEY] = ConfigRecord({"version": version, "onnx": onnx})
    return onnx
