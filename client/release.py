"""The seam between the client and the privacy layer.

Everything that decides what may leave the device goes through one object, a
:class:`ReleaseGate`: the ids candidates carry, which items are consented, and how a
released sample is packaged. The client calls nothing else.

:class:`UnprotectedGate` is the only gate in the walking skeleton and says so: local ids
go out as they are, every item counts as consented, samples leave as raw ``npy``
bytes. It is meant for simulations over public data only; the privacy layer
(pseudonymous ids, consent store, Presidio masking, HPKE sealing) provides the gate for
real devices.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

SCOPE_LABELING = "labeling"
SCOPE_TRAINING = "training"


@dataclass(frozen=True)
class ReleasedItem:
    """One sample packaged for the labeling service."""

    candidate_id: str
    payload: bytes
    content_type: str


@dataclass(frozen=True)
class Refusal:
    """A requested sample that will not leave the device, and why."""

    candidate_id: str
    reason: str


class ReleaseGate(Protocol):
    """What the client asks the privacy layer."""

    def outgoing_ids(self, local_ids: Sequence[str]) -> list[str]:
        """The ids that stand for these samples outside the device."""
        ...

    def consented(self, local_ids: Sequence[str], scope: str) -> np.ndarray:
        """Boolean mask: which samples may be used for ``scope`` now."""
        ...

    def masked_metadata(self, metadata: Sequence[dict[str, str]]) -> list[dict[str, str]]:
        """Metadata as it may leave the device."""
        ...

    def release(self, round_: int, device_id: str, local_id: str, candidate_id: str, sample: np.ndarray,
                metadata: dict[str, str]) -> ReleasedItem | Refusal:
        """Package one sample for labeling, or refuse with a reason."""
        ...

    def noise_summary(self, histogram: np.ndarray, class_counts: np.ndarray,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
        """Summary counts as they may leave (DP noise), and the device's total ε spent."""
        ...

    def checkpoint(self) -> str:
        """Signed checkpoint of the device's provenance log ("" when it keeps none)."""
        ...


def sample_to_npy(sample: np.ndarray) -> bytes:
    """Serialize a feature vector as ``.npy`` bytes (no pickle)."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(sample, dtype=np.float32), allow_pickle=False)
    return buf.getvalue()


def npy_to_sample(payload: bytes) -> np.ndarray:
    """Inverse of :func:`sample_to_npy`; rejects pickled content."""
    return np.load(io.BytesIO(payload), allow_pickle=False)


class UnprotectedGate:
    """No privacy: plain ids, everything consented, raw samples. Simulations on public data only."""

    content_type = "npy"

    def outgoing_ids(self, local_ids: Sequence[str]) -> list[str]:
        return list(local_ids)

    def consented(self, local_ids: Sequence[str], scope: str) -> np.ndarray:
        return np.ones(len(local_ids), dtype=bool)

    def masked_metadata(self, metadata: Sequence[dict[str, str]]) -> list[dict[str, str]]:
        return [{} for _ in metadata]

    def release(self, round_: int, device_id: str, local_id: str, candidate_id: str, sample: np.ndarray,
                metadata: dict[str, str]) -> ReleasedItem | Refusal:
        return ReleasedItem(candidate_id, sample_to_npy(sample), self.content_type)

    def noise_summary(self, histogram: np.ndarray, class_counts: np.ndarray,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
        return histogram, class_counts, 0.0

    def checkpoint(self) -> str:
        return ""
