"""The privacy layer's release gate: what the skeleton's seam plugs in for real devices.

- ids leave as keyed HMACs of the local id (:class:`Pseudonymizer`); deleting the key
  makes every id unlinkable;
- only items with a recorded, unexpired consent for the scope are candidates, are
  released, or are trained on (:class:`ConsentStore`);
- metadata leaves only masked (:class:`Masker`, Presidio with fedsift's recognizers);
- summary histograms and class counts get Laplace/Gaussian noise with a per-round ε
  charged to the device's accountant, which refuses once the total is spent;
- a released sample (features as ``.npy`` plus its masked metadata) is sealed with
  HPKE to the labeling service's current key (:class:`Sealer`), bound to its candidate
  id, round and device; the server relays ciphertext only.

Everything here is numpy + cryptography (+ Presidio for metadata): no torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from fedsift.privacy.consent import ConsentStore
from fedsift.privacy import provenance as pv
from fedsift.privacy.checkpoint import CheckpointSigner
from fedsift.privacy.dp import BudgetAccountant, DPConfig, privatize
from fedsift.privacy.errors import PrivacyError
from fedsift.privacy.keyset import KeySet
from fedsift.privacy.pseudonym import Pseudonymizer
from fedsift.privacy.sealing import Sealer

from .release import Refusal, ReleasedItem, sample_to_npy

if TYPE_CHECKING:  # Presidio is imported only by a device whose pool carries metadata
    from fedsift.privacy.masking import Masker

logger = logging.getLogger(__name__)

SEALED_CONTENT_TYPE = "hpke"


def pack_sample(sample: np.ndarray, metadata: dict[str, str]) -> bytes:
    """``len(meta) (4 bytes) | masked metadata JSON | .npy features``: what gets sealed."""
    meta = json.dumps(metadata, sort_keys=True).encode()
    return len(meta).to_bytes(4, "big") + meta + sample_to_npy(sample)


def unpack_sample(data: bytes) -> tuple[bytes, dict[str, str]]:
    """Inverse of :func:`pack_sample`: (``.npy`` bytes, metadata)."""
    n = int.from_bytes(data[:4], "big")
    if n > len(data) - 4:
        raise ValueError("sealed sample envelope is truncated")
    return data[4 + n:], json.loads(data[4:4 + n])


class PrivacyGate:
    """Pseudonyms, consent, masking and sealing for one device.

    Parameters
    ----------
    pseudonyms : Pseudonymizer
        The device's id key.
    consent : ConsentStore
        The device's consent records.
    masker : Masker
        Metadata masking policy and recognizers.
    sealer : Sealer
        Seals to the labeling service (its signer pinned).
    keyset : callable
        Returns the labeling service's current signed key set.
    source_field : str
        Metadata field naming an item's source, for source-level consent.
    metadata : callable, optional
        Local id -> raw metadata (for source-level consent of items not in hand).
    dp : tuple of (DPConfig, BudgetAccountant), optional
        Differential privacy for summaries; off when absent or not enabled.
    log : tuple of (ProvenanceLog, CheckpointSigner), optional
        The device's own provenance log of consent decisions, masking and releases;
        its signed checkpoint goes out with every release.
    """

    content_type = SEALED_CONTENT_TYPE

    def __init__(self, pseudonyms: Pseudonymizer, consent: ConsentStore, masker: Masker, sealer: Sealer,
                 keyset: Callable[[], KeySet], source_field: str = "source",
                 metadata: Callable[[str], dict[str, str]] | None = None,
                 dp: tuple[DPConfig, BudgetAccountant] | None = None,
                 log: tuple[pv.ProvenanceLog, CheckpointSigner] | None = None) -> None:
        self.pseudonyms = pseudonyms
        self.consent = consent
        self.masker = masker
        self.sealer = sealer
        self.keyset = keyset
        self.source_field = source_field
        self.sources = metadata or (lambda local_id: {})
        self.dp = dp
        self.log = log

    def outgoing_ids(self, local_ids: Sequence[str]) -> list[str]:
        return [self.pseudonyms.pseudonym(i) for i in local_ids]

    def consented(self, local_ids: Sequence[str], scope: str) -> np.ndarray:
        return np.array([self.consent.check(i, self.sources(i).get(self.source_field), scope).granted
                         for i in local_ids], dtype=bool)

    def masked_metadata(self, metadata: Sequence[dict[str, str]]) -> list[dict[str, str]]:
        return [self.masker.mask_record(m)[0] for m in metadata]

    def release(self, round_: int, device_id: str, local_id: str, candidate_id: str, sample: np.ndarray,
                metadata: dict[str, str]) -> ReleasedItem | Refusal:
        decision = self.consent.check(local_id, metadata.get(self.source_field), "labeling")
        self._event(pv.CONSENT_DECISION, {pv.ROUND: round_, pv.DEVICE_ID: device_id, pv.CANDIDATE_ID: candidate_id,
                                          pv.DECISION: pv.GRANTED if decision.granted else pv.REFUSED,
                                          pv.SCOPE: "label", "reason": decision.reason})
        if not decision.granted:
            return Refusal(candidate_id, f"consent:{decision.reason}")
        masked, report = self.masker.mask_record(metadata)
        self._event(pv.MASKING_REPORT, {pv.ROUND: round_, pv.DEVICE_ID: device_id, pv.CANDIDATE_ID: candidate_id,
                                        "entities": {k: int(v) for k, v in report.totals().items()}})
        try:
            sealed = self.sealer.seal(pack_sample(sample, masked), self.keyset(), candidate_id=candidate_id,
                                      round=round_, device_id=device_id)
        except PrivacyError as exc:  # no valid key: refuse to send rather than send in the clear
            logger.error("device %s refuses to release %s: %s", device_id, candidate_id, exc)
            return Refusal(candidate_id, f"sealing:{type(exc).__name__}")
        payload = json.dumps(sealed.to_dict(), sort_keys=True).encode()
        self._event(pv.RELEASE, {pv.ROUND: round_, pv.DEVICE_ID: device_id, pv.CANDIDATE_ID: candidate_id,
                                 "sealed_to": sealed.header.key_id,
                                 "payload_sha256": hashlib.sha256(payload).hexdigest()})
        return ReleasedItem(candidate_id, payload, self.content_type)

    def _event(self, kind: str, payload: dict) -> None:
        if self.log is not None:
            self.log[0].append(kind, payload)

    def checkpoint(self) -> str:
        """Sign the device log's head now ("" without a log)."""
        return self.log[0].checkpoint(self.log[1]) if self.log is not None else ""

    def noise_summary(self, histogram: np.ndarray, class_counts: np.ndarray,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
        """Noise the counts (raises PrivacyBudgetExceeded once the device's total ε is spent)."""
        if self.dp is None or not self.dp[0].enabled:
            return histogram, class_counts, 0.0
        config, accountant = self.dp
        rel = privatize({"histogram": histogram, "class_counts": class_counts}, config, accountant, rng)
        return rel.arrays["histogram"], rel.arrays["class_counts"], float(rel.spent_epsilon)
