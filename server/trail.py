"""The campaign's provenance trail: each round phase as events in the provenance log.

A thin mapping from campaign steps to :mod:`fedsift.privacy.provenance` events, batched
one transaction per phase, with a signed checkpoint after every round. Floats are not
canonical JSON, so accuracies are written as parts per million.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from fedsift.privacy import provenance as pv
from fedsift.privacy.checkpoint import CheckpointSigner, generate_signer, load_signer
from fedsift.protocols import Summary

from .allocation import Allocation
from .labeling import LabeledSample, ReleasedSample


def _ppm(x: float) -> int | None:
    return None if x != x else int(round(x * 1_000_000))


class CampaignTrail:
    """Writes a campaign's events; a no-op stand-in is simply ``None`` in the campaign."""

    def __init__(self, log: pv.ProvenanceLog, signer: CheckpointSigner | None = None) -> None:
        self.log = log
        self.signer = signer

    @classmethod
    def open(cls, folder: str | Path) -> CampaignTrail:
        """The trail in ``folder``: ``provenance.db`` and the checkpoint key ``checkpoint.key`` (created if missing)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        key = folder / "checkpoint.key"
        signer = load_signer(key, pv.DEFAULT_ORIGIN) if key.exists() else generate_signer(key, pv.DEFAULT_ORIGIN)
        return cls(pv.ProvenanceLog(folder / "provenance.db", origin=pv.DEFAULT_ORIGIN), signer)

    def round_started(self, rnd: int, strategy: str, budget: int, reasons: Sequence[str]) -> None:
        self.log.append(pv.ROUND_STARTED, {pv.ROUND: rnd, "strategy": strategy, "budget": budget,
                                           "reasons": list(reasons)})

    def model_published(self, version: int, onnx: bytes) -> None:
        self.log.append(pv.MODEL_PUBLISHED, {pv.MODEL_VERSION: version, "sha256": hashlib.sha256(onnx).hexdigest(),
                                             "bytes": len(onnx)})

    def summaries(self, rnd: int, model_version: int, strategy: str, summaries: Sequence[Summary]) -> None:
        events = [(pv.QUERY_SENT, {pv.ROUND: rnd, pv.MODEL_VERSION: model_version, "strategy": strategy})]
        events += [(pv.SUMMARY_RECEIVED, {pv.ROUND: rnd, pv.DEVICE_ID: s.device_id, "pool_size": s.pool_size,
                                          "candidates": len(s.candidate_ids), "consented": s.consented_count,
                                          "epsilon_ppm": _ppm(s.epsilon_spent)}) for s in summaries]
        self.log.append_many(events)

    def selection(self, rnd: int, allocation: Allocation, policy_version: str, strategy: str) -> None:
        picks = [{pv.DEVICE_ID: p.device_id, pv.CANDIDATE_ID: p.candidate_id, "utility_ppm": _ppm(p.score),
                  "reason": p.reason} for p in allocation.picks]
        events = [(pv.SELECTION_DECISION, {pv.ROUND: rnd, "policy": allocation.policy, "policy_version": policy_version,
                                           "strategy": strategy, "budget": allocation.budget, "picks": picks})]
        events += [(pv.LABEL_REQUEST, {pv.ROUND: rnd, pv.DEVICE_ID: p.device_id, pv.CANDIDATE_ID: p.candidate_id,
                                       "reason": p.reason}) for p in allocation.picks]
        self.log.append_many(events)

    def releases(self, rnd: int, released: Sequence[ReleasedSample], refusals: Sequence[tuple[str, str, str]],
                 device_checkpoints: dict[str, str] | None = None) -> None:
        events = [(pv.RELEASE, {pv.ROUND: rnd, pv.DEVICE_ID: r.device_id, pv.CANDIDATE_ID: r.candidate_id,
                                "content_type": r.content_type,
                                "payload_sha256": hashlib.sha256(r.payload).hexdigest()}) for r in released]
        events += [(pv.CONSENT_DECISION, {pv.ROUND: rnd, pv.DEVICE_ID: d, pv.CANDIDATE_ID: c, pv.DECISION: pv.REFUSED,
                                          pv.SCOPE: "label", "reason": why}) for d, c, why in refusals]
        events += [(pv.DEVICE_CHECKPOINT, {pv.ROUND: rnd, pv.DEVICE_ID: d, "checkpoint": note})
                   for d, note in sorted((device_checkpoints or {}).items())]
        if events:
            self.log.append_many(events)

    def labels(self, rnd: int, labeled: Sequence[LabeledSample]) -> None:
        events = [(pv.LABEL_RECEIVED, {pv.ROUND: rnd, pv.DEVICE_ID: s.device_id, pv.CANDIDATE_ID: s.candidate_id,
                                       "label": s.label, "annotator": s.annotator,
                                       "validation": s.random_slice}) for s in labeled]
        by_device: dict[str, list[str]] = {}
        for s in labeled:
            by_device.setdefault(s.device_id, []).append(s.candidate_id)
        events += [(pv.LABELS_DELIVERED, {pv.ROUND: rnd, pv.DEVICE_ID: d, pv.CANDIDATE_IDS: ids})
                   for d, ids in sorted(by_device.items())]
        if events:
            self.log.append_many(events)

    def trained(self, rnd: int, model_version: int, devices: int, accuracy: float, validation: float) -> None:
        self.log.append_many([
            (pv.TRAINING_AGGREGATED, {pv.ROUND: rnd, pv.MODEL_VERSION: model_version, "devices": devices,
                                      "aggregator": "flwr.FedAvg"}),
            (pv.EVALUATION, {pv.ROUND: rnd, pv.MODEL_VERSION: model_version, "accuracy_ppm": _ppm(accuracy),
                             "validation_accuracy_ppm": _ppm(validation), pv.DECISION: "published"}),
        ])

    def checkpoint(self) -> str | None:
        """Sign the log's head (after every round)."""
        return self.log.checkpoint(self.signer) if self.signer is not None else None
