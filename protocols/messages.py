"""Typed messages of one fedsift round and their Flower record encoding.

Every message is a frozen dataclass with ``to_recorddict()`` and a validating
``from_recorddict()``. Only Flower records cross the wire (ConfigRecord for scalars,
ids and bytes; ArrayRecord for numeric arrays); decoders reject unknown fields, wrong
shapes or dtypes, NaN/inf, oversized payloads and other protocol versions.

Message types (Flower's ``Message.metadata.message_type``)::

    query                 server -> device   Query        -> Summary
    query.label_request   server -> device   LabelRequest -> Release
    query.labels          server -> device   Labels       -> LabelsAck
    train                 server -> device   TrainInstruction -> TrainReply (FedAvg format)
    evaluate              server -> device   TrainInstruction -> EvaluateReply
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, MetricRecord, RecordDict

from .errors import MessageValidationError, ProtocolVersionError
from .limits import DEFAULT_LIMITS, Limits
from .validation import (
    check_array,
    check_bytes,
    check_float,
    check_int,
    check_str,
    check_str_list,
    require_keys,
)
from .version import PROTOCOL_VERSION

QUERY = "query"
LABEL_REQUEST = "query.label_request"
LABELS = "query.labels"
TRAIN = "train"
EVALUATE = "evaluate"


def _record(rd: RecordDict, key: str, kind: type, name: str):  # type: ignore[no-untyped-def]
    if not isinstance(rd, RecordDict):
        raise MessageValidationError(name, "content must be a RecordDict", type(rd).__name__)
    if key not in rd:
        raise MessageValidationError(f"{name}.{key}", "record is missing")
    rec = rd[key]
    if not isinstance(rec, kind):
        raise MessageValidationError(f"{name}.{key}", f"must be a {kind.__name__}", type(rec).__name__)
    return rec


def _version(value: object, name: str) -> int:
    version = check_int(value, f"{name}.protocol_version")
    if version != PROTOCOL_VERSION:
        raise ProtocolVersionError(f"{name}.protocol_version", f"must be {PROTOCOL_VERSION}", version)
    return version


def _arrays(rec: ArrayRecord, name: str, keys: list[str]) -> dict[str, np.ndarray]:
    require_keys(rec, name, keys)
    try:
        return {k: rec[k].numpy() for k in keys}
    except Exception as exc:  # a corrupt Array cannot be turned into numpy
        raise MessageValidationError(name, f"arrays could not be decoded: {exc}") from exc


# --------------------------------------------------------------------------- query
@dataclass(frozen=True)
class Query:
    """Server -> device: score your pool with this model and propose candidates.

    Parameters
    ----------
    round : int
        Campaign round (1-based).
    model_version : int
        Version of the global model to score with.
    strategy : str
        Registered acquisition strategy name.
    top_k : int
        Candidates to propose.
    num_bins : int
        Bins of the score histogram.
    sketch_dim : int
        Width of the random-projection sketch of each candidate (0 = none).
    sketch_seed : int
        Seed of the projection, fixed by the server so all sketches share one basis.
    model_onnx : bytes
        The ONNX artifact of ``model_version``.
    random_k : int
        Uniformly random unlabeled items to offer for the random (validation) slice.
    mc_passes : int
        Monte-Carlo dropout passes for BALD (0 = none).
    mc_dropout : float
        Dropout rate of those passes, applied to the embedding.
    head : tuple of ndarray, optional
        Last layer (weight (classes, hidden), bias (classes,)) for the MC passes.
    model_signature : bytes
        The server's Ed25519 signature over the model (see ``fedsift.server.signing``).
    """

    round: int
    model_version: int
    strategy: str
    top_k: int
    num_bins: int = 10
    sketch_dim: int = 0
    sketch_seed: int = 0
    model_onnx: bytes = b""
    random_k: int = 0
    mc_passes: int = 0
    mc_dropout: float = 0.0
    head: tuple[np.ndarray, np.ndarray] | None = None
    model_signature: bytes = b""
    protocol_version: int = PROTOCOL_VERSION

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Query):
            return NotImplemented
        plain = [f for f in self.__dataclass_fields__ if f != "head"]
        same_head = (self.head is None) == (other.head is None) and (
            self.head is None or all(np.array_equal(a, b) for a, b in zip(self.head, other.head)))  # type: ignore[arg-type]
        return same_head and all(getattr(self, f) == getattr(other, f) for f in plain)

    __hash__ = None  # type: ignore[assignment]

    def to_recorddict(self) -> RecordDict:
        rd = RecordDict({"query": ConfigRecord({
            "random_k": self.random_k, "mc_passes": self.mc_passes, "mc_dropout": float(self.mc_dropout),
            "model_signature": self.model_signature,
            "protocol_version": self.protocol_version, "round": self.round,
            "model_version": self.model_version, "strategy": self.strategy,
            "top_k": self.top_k, "num_bins": self.num_bins, "sketch_dim": self.sketch_dim,
            "sketch_seed": self.sketch_seed, "model_onnx": self.model_onnx,
        })})
        if self.head is not None:
            rd["head"] = ArrayRecord({"weight": Array(np.asarray(self.head[0], np.float32)),
                                      "bias": Array(np.asarray(self.head[1], np.float32))})
        return rd

    @classmethod
    def from_recorddict(cls, rd: RecordDict, limits: Limits = DEFAULT_LIMITS) -> Query:
        rec = _record(rd, "query", ConfigRecord, "query")
        require_keys(rec, "query", ["protocol_version", "round", "model_version", "strategy", "top_k",
                                    "num_bins", "sketch_dim", "sketch_seed", "model_onnx", "random_k",
                                    "mc_passes", "mc_dropout", "model_signature"])
        extra = sorted(set(rd.keys()) - {"query", "head"})
        if extra:
            raise MessageValidationError(f"query.{extra[0]}", "is not a known record")
        head = None
        if "head" in rd:
            arrays = _arrays(_record(rd, "head", ArrayRecord, "query"), "query.head", ["weight", "bias"])
            w = check_array(arrays["weight"], "query.head.weight", "float32", (None, None))
            b = check_array(arrays["bias"], "query.head.bias", "float32", (w.shape[0],))
            if w.shape[0] > limits.max_classes or w.shape[1] > 1 << 14:
                raise MessageValidationError("query.head.weight", "is too large", w.shape)
            head = (w, b)
        return cls(
            head=head,
            model_signature=check_bytes(rec["model_signature"], "query.model_signature", 256),
            mc_passes=check_int(rec["mc_passes"], "query.mc_passes", 0, 256),
            mc_dropout=check_float(rec["mc_dropout"], "query.mc_dropout", 0.0, 0.95),
            protocol_version=_version(rec["protocol_version"], "query"),
            round=check_int(rec["round"], "query.round", 0),
            model_version=check_int(rec["model_version"], "query.model_version", 0),
            strategy=check_str(rec["strategy"], "query.strategy", 64),
            top_k=check_int(rec["top_k"], "query.top_k", 0, limits.max_candidates),
            num_bins=check_int(rec["num_bins"], "query.num_bins", 1, limits.max_bins),
            sketch_dim=check_int(rec["sketch_dim"], "query.sketch_dim", 0, limits.max_sketch_dim),
            sketch_seed=check_int(rec["sketch_seed"], "query.sketch_seed", 0),
            model_onnx=check_bytes(rec["model_onnx"], "query.model_onnx", limits.max_model_bytes),
            random_k=check_int(rec["random_k"], "query.random_k", 0, limits.max_candidates),
        )


# ------------------------------------------------------------------------- summary
@dataclass(frozen=True)
class Summary:
    """Device -> server: what the device's pool looks like under the current model.

    Only aggregate statistics and pseudonymous candidates leave the device: no sample.

    Parameters
    ----------
    round, model_version : int
        Echo of the query.
    device_id : str
        Stable device name (``node_config['device-id']``).
    pool_size : int
        Unlabeled items in the local pool.
    labeled_count : int
        Items the device holds labels for.
    consented_count : int
        Unlabeled items with a valid labeling consent.
    histogram : ndarray of int64, shape (num_bins,)
        Counts of acquisition scores over ``hist_range``.
    hist_range : tuple of float
        Lower and upper edge of the histogram.
    class_counts : ndarray of int64, shape (num_classes,)
        Predicted-class counts over the pool.
    candidate_ids : list of str
        Pseudonymous ids of the top-k candidates, best first.
    scores : ndarray of float32, shape (k,)
        Acquisition score of each candidate (higher = more informative).
    sketches : ndarray of float32, shape (k, sketch_dim)
        Random projection of each candidate's embedding.
    metadata : list of dict
        Masked metadata per candidate (str -> str), possibly empty dicts.
    random_ids : list of str
        Pseudonymous ids of uniformly random unlabeled items (for the random slice).
    epsilon_spent : float
        Differential-privacy budget spent on this summary (0 when DP is off).
    """

    round: int
    model_version: int
    device_id: str
    pool_size: int
    labeled_count: int
    consented_count: int
    histogram: np.ndarray
    hist_range: tuple[float, float]
    class_counts: np.ndarray
    candidate_ids: list[str]
    scores: np.ndarray
    sketches: np.ndarray
    metadata: list[dict[str, str]] = field(default_factory=list)
    random_ids: list[str] = field(default_factory=list)
    epsilon_spent: float = 0.0
    protocol_version: int = PROTOCOL_VERSION

    def to_recorddict(self) -> RecordDict:
        meta = self.metadata or [{} for _ in self.candidate_ids]
        return RecordDict({
            "summary": ConfigRecord({
                "protocol_version": self.protocol_version, "round": self.round,
                "model_version": self.model_version, "device_id": self.device_id,
                "pool_size": self.pool_size, "labeled_count": self.labeled_count,
                "consented_count": self.consented_count,
                "hist_range": [float(self.hist_range[0]), float(self.hist_range[1])],
                "candidate_ids": list(self.candidate_ids),
                "random_ids": list(self.random_ids),
                "metadata": [json.dumps(m, sort_keys=True) for m in meta],
                "epsilon_spent": float(self.epsilon_spent),
            }),
            "arrays": ArrayRecord({
                "histogram": Array(np.asarray(self.histogram, dtype=np.int64)),
                "class_counts": Array(np.asarray(self.class_counts, dtype=np.int64)),
                "scores": Array(np.asarray(self.scores, dtype=np.float32)),
                "sketches": Array(np.asarray(self.sketches, dtype=np.float32)),
            }),
        })

    @classmethod
    def from_recorddict(cls, rd: RecordDict, limits: Limits = DEFAULT_LIMITS) -> Summary:
        rec = _record(rd, "summary", ConfigRecord, "summary")
        require_keys(rec, "summary", ["protocol_version", "round", "model_version", "device_id", "pool_size",
                                      "labeled_count", "consented_count", "hist_range", "candidate_ids",
                                      "random_ids", "metadata", "epsilon_spent"])
        version = _version(rec["protocol_version"], "summary")
        ids = check_str_list(rec["candidate_ids"], "summary.candidate_ids", limits.max_candidates,
                             limits.max_id_length, unique=True)
        k = len(ids)
        arrays = _arrays(_record(rd, "arrays", ArrayRecord, "summary"), "summary.arrays",
                         ["histogram", "class_counts", "scores", "sketches"])
        hist = check_array(arrays["histogram"], "summary.arrays.histogram", "int64", (None,), nonnegative=True)
        if not 1 <= hist.shape[0] <= limits.max_bins:
            raise MessageValidationError("summary.arrays.histogram", f"must have 1..{limits.max_bins} bins", hist.shape)
        counts = check_array(arrays["class_counts"], "summary.arrays.class_counts", "int64", (None,), nonnegative=True)
        if counts.shape[0] > limits.max_classes:
            raise MessageValidationError("summary.arrays.class_counts", f"has more than {limits.max_classes} classes", counts.shape)
        scores = check_array(arrays["scores"], "summary.arrays.scores", "float32", (k,))
        sketches = check_array(arrays["sketches"], "summary.arrays.sketches", "float32", (k, None))
        if sketches.shape[1] > limits.max_sketch_dim:
            raise MessageValidationError("summary.arrays.sketches", f"is wider than {limits.max_sketch_dim}", sketches.shape)
        hr = rec["hist_range"]
        if not isinstance(hr, list) or len(hr) != 2:
            raise MessageValidationError("summary.hist_range", "must be a list of two numbers", hr)
        lo, hi = check_float(hr[0], "summary.hist_range[0]"), check_float(hr[1], "summary.hist_range[1]")
        meta_raw = check_str_list_allow_empty(rec["metadata"], "summary.metadata", k, limits)
        return cls(
            protocol_version=version,
            round=check_int(rec["round"], "summary.round", 0),
            model_version=check_int(rec["model_version"], "summary.model_version", 0),
            device_id=check_str(rec["device_id"], "summary.device_id", limits.max_id_length),
            pool_size=check_int(rec["pool_size"], "summary.pool_size", 0),
            labeled_count=check_int(rec["labeled_count"], "summary.labeled_count", 0),
            consented_count=check_int(rec["consented_count"], "summary.consented_count", 0),
            histogram=hist, hist_range=(lo, hi), class_counts=counts,
            candidate_ids=ids, scores=scores, sketches=sketches, metadata=meta_raw,
            random_ids=check_str_list(rec["random_ids"], "summary.random_ids", limits.max_candidates,
                                      limits.max_id_length, unique=True),
            epsilon_spent=check_float(rec["epsilon_spent"], "summary.epsilon_spent", 0.0),
        )


def check_str_list_allow_empty(value: object, field_name: str, k: int, limits: Limits) -> list[dict[str, str]]:
    """Decode per-candidate masked metadata (JSON objects of str -> str)."""
    if not isinstance(value, list) or len(value) != k:
        raise MessageValidationError(field_name, f"must be a list of {k} JSON objects", value)
    out: list[dict[str, str]] = []
    for i, item in enumerate(value):
        name = f"{field_name}[{i}]"
        text = check_str(item, name, limits.max_metadata_chars * limits.max_metadata_fields, allow_empty=False)
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MessageValidationError(name, "is not valid JSON", text) from exc
        if not isinstance(obj, dict) or len(obj) > limits.max_metadata_fields:
            raise MessageValidationError(name, f"must be an object of at most {limits.max_metadata_fields} fields", obj)
        for key, val in obj.items():
            check_str(key, f"{name}.key", 64)
            check_str(val, f"{name}.{key}", limits.max_metadata_chars, allow_empty=True)
        out.append(obj)
    return out


# ------------------------------------------------------------------- label request
@dataclass(frozen=True)
class LabelRequest:
    """Server -> device: release these candidates for labeling."""

    round: int
    candidate_ids: list[str]
    protocol_version: int = PROTOCOL_VERSION

    def to_recorddict(self) -> RecordDict:
        return RecordDict({"label_request": ConfigRecord({
            "protocol_version": self.protocol_version, "round": self.round,
            "candidate_ids": list(self.candidate_ids),
        })})

    @classmethod
    def from_recorddict(cls, rd: RecordDict, limits: Limits = DEFAULT_LIMITS) -> LabelRequest:
        rec = _record(rd, "label_request", ConfigRecord, "label_request")
        require_keys(rec, "label_request", ["protocol_version", "round", "candidate_ids"])
        return cls(
            protocol_version=_version(rec["protocol_version"], "label_request"),
            round=check_int(rec["round"], "label_request.round", 0),
            candidate_ids=check_str_list(rec["candidate_ids"], "label_request.candidate_ids",
                                         limits.max_release_items, limits.max_id_length, unique=True),
        )


# ------------------------------------------------------------------------- release
@dataclass(frozen=True)
class Release:
    """Device -> server: released samples, and refusals with a reason.

    Parameters
    ----------
    released_ids : list of str
        Candidates released, in the order of ``payloads``.
    payloads : list of bytes
        One serialized (and, with the privacy layer, masked and sealed) sample each.
    content_type : str
        How to read a payload (``"npy"`` for a raw feature vector, ``"hpke"`` sealed).
    refused_ids, refusal_reasons : list of str
        Candidates not released and why (``"consent:missing"``, ``"unknown-id"``...).
    device_checkpoint : str
        Signed checkpoint of the device's own provenance log (consent decisions and
        releases) after this release; empty when the device keeps no log.
    """

    round: int
    device_id: str
    released_ids: list[str]
    payloads: list[bytes]
    content_type: str
    refused_ids: list[str] = field(default_factory=list)
    refusal_reasons: list[str] = field(default_factory=list)
    device_checkpoint: str = ""
    protocol_version: int = PROTOCOL_VERSION

    def to_recorddict(self) -> RecordDict:
        return RecordDict({"release": ConfigRecord({
            "device_checkpoint": self.device_checkpoint,
            "protocol_version": self.protocol_version, "round": self.round,
            "device_id": self.device_id, "released_ids": list(self.released_ids),
            "payloads": list(self.payloads), "content_type": self.content_type,
            "refused_ids": list(self.refused_ids), "refusal_reasons": list(self.refusal_reasons),
        })})

    @classmethod
    def from_recorddict(cls, rd: RecordDict, limits: Limits = DEFAULT_LIMITS) -> Release:
        rec = _record(rd, "release", ConfigRecord, "release")
        require_keys(rec, "release", ["protocol_version", "round", "device_id", "released_ids", "payloads",
                                      "content_type", "refused_ids", "refusal_reasons", "device_checkpoint"])
        ids = check_str_list(rec["released_ids"], "release.released_ids", limits.max_release_items,
                             limits.max_id_length, unique=True)
        payloads = rec["payloads"]
        if not isinstance(payloads, list) or len(payloads) != len(ids):
            raise MessageValidationError("release.payloads", f"must be a list of {len(ids)} byte strings",
                                         type(payloads).__name__)
        payloads = [check_bytes(p, f"release.payloads[{i}]", limits.max_payload_bytes) for i, p in enumerate(payloads)]
        refused = check_str_list(rec["refused_ids"], "release.refused_ids", limits.max_release_items, limits.max_id_length)
        reasons = check_str_list(rec["refusal_reasons"], "release.refusal_reasons", limits.max_release_items, 200)
        if len(reasons) != len(refused):
            raise MessageValidationError("release.refusal_reasons", f"must have {len(refused)} entries", len(reasons))
        return cls(
            protocol_version=_version(rec["protocol_version"], "release"),
            round=check_int(rec["round"], "release.round", 0),
            device_id=check_str(rec["device_id"], "release.device_id", limits.max_id_length),
            released_ids=ids, payloads=payloads,
            content_type=check_str(rec["content_type"], "release.content_type", 32),
            refused_ids=refused, refusal_reasons=reasons,
            device_checkpoint=check_str(rec["device_checkpoint"], "release.device_checkpoint", 4096, allow_empty=True),
        )


# -------------------------------------------------------------------------- labels
@dataclass(frozen=True)
class Labels:
    """Server -> device: labels for released candidates.

    ``validation[i]`` marks items of the random slice; a campaign that measures its
    strategies on that slice asks devices not to train on them.
    """

    round: int
    candidate_ids: list[str]
    labels: list[int]
    validation: list[bool] = field(default_factory=list)
    protocol_version: int = PROTOCOL_VERSION

    def to_recorddict(self) -> RecordDict:
        flags = list(self.validation) or [False] * len(self.candidate_ids)
        return RecordDict({"labels": ConfigRecord({
            "protocol_version": self.protocol_version, "round": self.round,
            "candidate_ids": list(self.candidate_ids), "labels": [int(v) for v in self.labels],
            "validation": [bool(v) for v in flags],
        })})

    @classmethod
    def from_recorddict(cls, rd: RecordDict, limits: Limits = DEFAULT_LIMITS) -> Labels:
        rec = _record(rd, "labels", ConfigRecord, "labels")
        require_keys(rec, "labels", ["protocol_version", "round", "candidate_ids", "labels", "validation"])
        ids = check_str_list(rec["candidate_ids"], "labels.candidate_ids", limits.max_release_items,
                             limits.max_id_length, unique=True)
        raw = rec["labels"]
        if not isinstance(raw, list) or len(raw) != len(ids):
            raise MessageValidationError("labels.labels", f"must be a list of {len(ids)} integers", raw)
        labels = [check_int(v, f"labels.labels[{i}]", 0, limits.max_classes - 1) for i, v in enumerate(raw)]
        flags = rec["validation"]
        if not isinstance(flags, list) or len(flags) != len(ids) or not all(isinstance(f, bool) for f in flags):
            raise MessageValidationError("labels.validation", f"must be a list of {len(ids)} booleans", flags)
        return cls(protocol_version=_version(rec["protocol_version"], "labels"),
                   round=check_int(rec["round"], "labels.round", 0), candidate_ids=ids, labels=labels,
                   validation=list(flags))


@dataclass(frozen=True)
class LabelsAck:
    """Device -> server: how many delivered labels were stored, and which ids were unknown."""

    round: int
    device_id: str
    stored: int
    unknown_ids: list[str]
    protocol_version: int = PROTOCOL_VERSION

    def to_recorddict(self) -> RecordDict:
        return RecordDict({"labels_ack": ConfigRecord({
            "protocol_version": self.protocol_version, "round": self.round, "device_id": self.device_id,
            "stored": self.stored, "unknown_ids": list(self.unknown_ids),
        })})

    @classmethod
    def from_recorddict(cls, rd: RecordDict, limits: Limits = DEFAULT_LIMITS) -> LabelsAck:
        rec = _record(rd, "labels_ack", ConfigRecord, "labels_ack")
        require_keys(rec, "labels_ack", ["protocol_version", "round", "device_id", "stored", "unknown_ids"])
        return cls(protocol_version=_version(rec["protocol_version"], "labels_ack"),
                   round=check_int(rec["round"], "labels_ack.round", 0),
                   device_id=check_str(rec["device_id"], "labels_ack.device_id", limits.max_id_length),
                   stored=check_int(rec["stored"], "labels_ack.stored", 0),
                   unknown_ids=check_str_list(rec["unknown_ids"], "labels_ack.unknown_ids",
                                              limits.max_release_items, limits.max_id_length))
