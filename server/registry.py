"""Model registry: every published global model, its ONNX artifact and hash."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from .model import Layers, export_onnx
from .signing import ModelSigner

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelVersion:
    """One published model."""

    version: int
    layers: Layers
    onnx: bytes
    sha256: str
    signature: bytes = b""


class ModelRegistry:
    """In-memory registry of published models (version 0 is the initial model), signed when a signer is set."""

    def __init__(self, signer: ModelSigner | None = None) -> None:
        self._versions: list[ModelVersion] = []
        self.signer = signer

    def publish(self, layers: Layers) -> ModelVersion:
        """Export ``layers`` to ONNX and record them as the next version."""
        onnx = export_onnx(layers)
        version = len(self._versions)
        signature = self.signer.sign(version, onnx) if self.signer else b""
        mv = ModelVersion(version, layers, onnx, hashlib.sha256(onnx).hexdigest(), signature)
        self._versions.append(mv)
        logger.info("published model v%d (%d bytes, sha256 %s)", mv.version, len(onnx), mv.sha256[:12])
        return mv

    def restore(self, versions: list[ModelVersion]) -> None:
        """Reload published versions from the state store (after a restart)."""
        self._versions = list(versions)

    @property
    def latest(self) -> ModelVersion:
        if not self._versions:
            raise LookupError("no model has been published yet")
        return self._versions[-1]

    def get(self, version: int) -> ModelVersion:
        return self._versions[version]
