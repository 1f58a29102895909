"""Signing published model artifacts (Ed25519) so devices run only the server's models.

The signature covers a domain tag, the model version and the SHA-256 of the ONNX
bytes; devices verify it against a pinned public key (``fedsift.client.model_cache``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .errors import ConfigError

DOMAIN = b"fedsift-model-v1\x00"


def signed_message(version: int, onnx: bytes) -> bytes:
    """What a model signature covers."""
    return DOMAIN + int(version).to_bytes(8, "big") + hashlib.sha256(onnx).digest()


class ModelSigner:
    """Signs model artifacts with an Ed25519 key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self.private_key = private_key

    def sign(self, version: int, onnx: bytes) -> bytes:
        return self.private_key.sign(signed_message(version, onnx))

    def public_key_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo)

    @classmethod
    def load_or_create(cls, path: str | Path) -> ModelSigner:
        """Load the PEM key at ``path`` or create it (mode 0600) with ``path.pub`` beside it."""
        path = Path(path)
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ConfigError("model_signing_key", str(path), "must be an Ed25519 private key (PEM)")
            return cls(key)
        signer = cls(Ed25519PrivateKey.generate())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(signer.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
        Path(f"{path}.pub").write_bytes(signer.public_key_pem())
        return signer
