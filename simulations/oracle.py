"""A simulated annotator: labels a released sample by looking at its content.

It recognizes a sample by the hash of its feature bytes (a person would recognize the
image), so it needs nothing from the device but the released payload. Optional label
noise flips a share of answers to another class.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence

import numpy as np

from fedsift.client.privacy_gate import unpack_sample
from fedsift.client.release import npy_to_sample
from fedsift.privacy.errors import PrivacyError
from fedsift.privacy.sealing import LabelingService, SealedRelease
from fedsift.server.labeling import LabeledSample, ReleasedSample

logger = logging.getLogger(__name__)


def _key(row: np.ndarray) -> bytes:
    return hashlib.sha256(np.ascontiguousarray(row, dtype=np.float32).tobytes()).digest()


class SimulatedOracle:
    """Ground-truth labels for released samples, with optional noise.

    Parameters
    ----------
    x, y : ndarray
        The pool it can recognize.
    noise : float
        Probability of answering a wrong class.
    seed : int
        Seed of the noise.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, noise: float = 0.0, seed: int = 0,
                 opener: Callable[[ReleasedSample], bytes] | None = None) -> None:
        if not 0.0 <= noise < 1.0:
            raise ValueError(f"oracle noise must be in [0, 1); got {noise}")
        self.truth: dict[bytes, int] = {}
        self.row_of: dict[bytes, int] = {}  # sample key -> its first row in ``x`` (whose label is the truth)
        for i, (row, label) in enumerate(zip(x, y)):
            key = _key(row)
            if key not in self.row_of:
                self.row_of[key], self.truth[key] = i, int(label)
        self.labeled_rows: list[int] = []  # rows of ``x`` answered so far, in order
        self.num_classes = int(np.max(y)) + 1
        self.noise = noise
        self.rng = np.random.default_rng(seed)
        self.answered = 0
        self.opener = opener

    def label(self, samples: Sequence[ReleasedSample]) -> list[LabeledSample]:
        out = []
        for s in samples:
            try:
                if s.content_type == "npy":
                    payload = s.payload
                elif self.opener is not None:
                    payload = self.opener(s)
                else:
                    raise ValueError(f"cannot read content type {s.content_type!r}")
                key = _key(npy_to_sample(payload))
                label = self.truth[key]
            except (KeyError, ValueError, PrivacyError) as exc:
                logger.error("oracle does not recognize sample %s from %s: %r", s.candidate_id, s.device_id, exc)
                continue
            if self.noise and self.rng.random() < self.noise:
                label = int((label + self.rng.integers(1, self.num_classes)) % self.num_classes)
            out.append(LabeledSample(s.device_id, s.candidate_id, label, "simulated-oracle", s.random_slice))
            self.answered += 1
            self.labeled_rows.append(self.row_of[key])
        return out


def sealed_opener(service: LabelingService) -> Callable[[ReleasedSample], bytes]:
    """Open HPKE-sealed releases as the labeling service, checking each header matches the request."""

    def open_release(s: ReleasedSample) -> bytes:
        try:
            sealed = SealedRelease.from_dict(json.loads(s.payload))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"malformed sealed release: {exc}") from exc
        plain = service.open(sealed, candidate_id=s.candidate_id, round=s.round, device_id=s.device_id)
        return unpack_sample(plain)[0]

    return open_release
