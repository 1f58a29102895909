"""Train and evaluate messages, in the format Flower's FedAvg strategy expects.

The instruction carries an ArrayRecord ``arrays`` (global weights) and a ConfigRecord
``config``; a train reply carries exactly one ArrayRecord and one MetricRecord with
``num-examples`` (Flower's rule), plus a ConfigRecord naming the device so the server
can aggregate in a fixed order.

Weights layout: an MLP as ``layers.{i}.weight`` (out, in) and ``layers.{i}.bias``
(out,) in float32, the torch ``nn.Linear`` convention, ReLU between layers; the output
of the last hidden layer is the embedding.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, MetricRecord, RecordDict

from .errors import MessageValidationError
from .messages import _record, _version
from .validation import check_array, check_float, check_int, check_str, require_keys
from .version import PROTOCOL_VERSION

MAX_LAYERS = 16


def _check_bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise MessageValidationError(field, "must be a boolean", value)
    return value
MAX_UNITS = 1 << 14


def weights_to_arrayrecord(layers: list[tuple[np.ndarray, np.ndarray]]) -> ArrayRecord:
    """Encode MLP layers as an ArrayRecord in the documented layout."""
    items: OrderedDict[str, Array] = OrderedDict()
    for i, (w, b) in enumerate(layers):
        items[f"layers.{i}.weight"] = Array(np.ascontiguousarray(w, dtype=np.float32))
        items[f"layers.{i}.bias"] = Array(np.ascontiguousarray(b, dtype=np.float32))
    return ArrayRecord(items)


def arrayrecord_to_weights(rec: ArrayRecord, name: str = "arrays") -> list[tuple[np.ndarray, np.ndarray]]:
    """Decode and validate MLP layers: chained shapes, float32, finite values."""
    if not isinstance(rec, ArrayRecord):
        raise MessageValidationError(name, "must be an ArrayRecord", type(rec).__name__)
    n = len(rec) // 2
    if n < 1 or n > MAX_LAYERS or len(rec) != 2 * n:
        raise MessageValidationError(name, f"must hold 1..{MAX_LAYERS} weight/bias pairs", len(rec))
    expected = [f"layers.{i}.{kind}" for i in range(n) for kind in ("weight", "bias")]
    require_keys(rec, name, expected)
    layers = []
    prev_out = None
    for i in range(n):
        w = check_array(rec[f"layers.{i}.weight"].numpy(), f"{name}.layers.{i}.weight", "float32", (None, None))
        b = check_array(rec[f"layers.{i}.bias"].numpy(), f"{name}.layers.{i}.bias", "float32", (w.shape[0],))
        if max(w.shape) > MAX_UNITS:
            raise MessageValidationError(f"{name}.layers.{i}.weight", f"has a side over {MAX_UNITS}", w.shape)
        if prev_out is not None and w.shape[1] != prev_out:
            raise MessageValidationError(f"{name}.layers.{i}.weight", f"must take {prev_out} inputs", w.shape)
        prev_out = w.shape[0]
        layers.append((w, b))
    return layers


@dataclass(frozen=True)
class TrainConfig:
    """Local training parameters sent with every train/evaluate instruction.

    A device runs ``epochs`` passes over its labeled items, and at least ``min_steps``
    mini-batch steps: with a handful of labels, a few epochs are too few updates. With
    ``exclude_validation`` it leaves the random-slice (validation) items out.
    ``proximal_mu`` is FedProx's proximal coefficient (0 = off).
    """

    round: int
    epochs: int = 5
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    min_steps: int = 0
    exclude_validation: bool = False
    proximal_mu: float = 0.0
    protocol_version: int = PROTOCOL_VERSION

    def to_configrecord(self) -> ConfigRecord:
        rec = ConfigRecord({
            "protocol_version": self.protocol_version, "round": self.round, "epochs": self.epochs,
            "batch_size": self.batch_size, "lr": float(self.lr), "weight_decay": float(self.weight_decay),
            "seed": self.seed, "min_steps": self.min_steps, "exclude_validation": self.exclude_validation,
        })
        if self.proximal_mu:  # absent when off, so devices from before FedProx still train
            rec["proximal_mu"] = float(self.proximal_mu)
        return rec

    @classmethod
    def from_recorddict(cls, rd: RecordDict) -> TrainConfig:
        rec = _record(rd, "config", ConfigRecord, "train")
        require_keys(rec, "train.config", ["protocol_version", "round", "epochs", "batch_size", "lr",
                                           "weight_decay", "seed", "min_steps", "exclude_validation"],
                     # Flower's FedAvg adds server-round; proximal_mu is absent from older servers
                     optional=["server-round", "proximal_mu"])
        return cls(
            protocol_version=_version(rec["protocol_version"], "train.config"),
            round=check_int(rec["round"], "train.config.round", 0),
            epochs=check_int(rec["epochs"], "train.config.epochs", 0, 10_000),
            batch_size=check_int(rec["batch_size"], "train.config.batch_size", 1, 1 << 16),
            lr=check_float(rec["lr"], "train.config.lr", 0.0, 10.0),
            weight_decay=check_float(rec["weight_decay"], "train.config.weight_decay", 0.0, 10.0),
            seed=check_int(rec["seed"], "train.config.seed", 0),
            min_steps=check_int(rec["min_steps"], "train.config.min_steps", 0, 1_000_000),
            exclude_validation=_check_bool(rec["exclude_validation"], "train.config.exclude_validation"),
            proximal_mu=check_float(rec.get("proximal_mu", 0.0), "train.config.proximal_mu", 0.0, 100.0),
        )


@dataclass(frozen=True)
class TrainReply:
    """Device -> server: locally trained weights."""

    device_id: str
    layers: list[tuple[np.ndarray, np.ndarray]]
    num_examples: int
    train_loss: float

    def to_recorddict(self) -> RecordDict:
        return RecordDict({
            "arrays": weights_to_arrayrecord(self.layers),
            "metrics": MetricRecord({"num-examples": int(self.num_examples), "train-loss": float(self.train_loss)}),
            "device": ConfigRecord({"device_id": self.device_id}),
        })

    @classmethod
    def from_recorddict(cls, rd: RecordDict) -> TrainReply:
        dev = _record(rd, "device", ConfigRecord, "train_reply")
        require_keys(dev, "train_reply.device", ["device_id"])
        met = _record(rd, "metrics", MetricRecord, "train_reply")
        require_keys(met, "train_reply.metrics", ["num-examples", "train-loss"])
        return cls(
            device_id=check_str(dev["device_id"], "train_reply.device.device_id", 128),
            layers=arrayrecord_to_weights(_record(rd, "arrays", ArrayRecord, "train_reply"), "train_reply.arrays"),
            num_examples=check_int(met["num-examples"], "train_reply.metrics.num-examples", 0),
            train_loss=check_float(met["train-loss"], "train_reply.metrics.train-loss"),
        )


@dataclass(frozen=True)
class EvaluateReply:
    """Device -> server: accuracy of the global weights on the device's labeled items."""

    device_id: str
    num_examples: int
    accuracy: float
    loss: float

    def to_recorddict(self) -> RecordDict:
        return RecordDict({
            "metrics": MetricRecord({"num-examples": int(self.num_examples), "accuracy": float(self.accuracy),
                                     "loss": float(self.loss)}),
            "device": ConfigRecord({"device_id": self.device_id}),
        })

    @classmethod
    def from_recorddict(cls, rd: RecordDict) -> EvaluateReply:
        dev = _record(rd, "device", ConfigRecord, "evaluate_reply")
        require_keys(dev, "evaluate_reply.device", ["device_id"])
        met = _record(rd, "metrics", MetricRecord, "evaluate_reply")
        require_keys(met, "evaluate_reply.metrics", ["num-examples", "accuracy", "loss"])
        return cls(
            device_id=check_str(dev["device_id"], "evaluate_reply.device.device_id", 128),
            num_examples=check_int(met["num-examples"], "evaluate_reply.metrics.num-examples", 0),
            accuracy=check_float(met["accuracy"], "evaluate_reply.metrics.accuracy", 0.0, 1.0),
            loss=check_float(met["loss"], "evaluate_reply.metrics.loss"),
        )
