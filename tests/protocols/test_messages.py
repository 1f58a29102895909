"""Round trips through Flower's wire format, and rejection of malformed or hostile input."""

from __future__ import annotations

import numpy as np
import pytest
from flwr.app import Array, ArrayRecord, ConfigRecord, RecordDict
from flwr.common.serde import recorddict_from_proto, recorddict_to_proto
from flwr.proto.recorddict_pb2 import RecordDict as ProtoRecordDict

from fedsift.protocols import (
    DEFAULT_LIMITS,
    LabelRequest,
    Labels,
    LabelsAck,
    MessageValidationError,
    ProtocolVersionError,
    Query,
    Release,
    Summary,
    TrainConfig,
    TrainReply,
    arrayrecord_to_weights,
    weights_to_arrayrecord,
)


def wire(rd: RecordDict) -> RecordDict:
    return recorddict_from_proto(ProtoRecordDict.FromString(recorddict_to_proto(rd).SerializeToString()))


def summary(k: int = 3, d: int = 4, **kw) -> Summary:
    base = dict(round=2, model_version=1, device_id="dev-a", pool_size=50, labeled_count=3, consented_count=40,
                histogram=np.arange(5, dtype=np.int64), hist_range=(0.0, 2.3), class_counts=np.ones(10, np.int64),
                candidate_ids=[f"c{i}" for i in range(k)], scores=np.linspace(1, 0, k).astype(np.float32),
                sketches=np.ones((k, d), np.float32), metadata=[{"site": "<LOCATION>"}] * k,
                random_ids=["r1", "r2"], epsilon_spent=0.5)
    base.update(kw)
    return Summary(**base)


def test_query_round_trip() -> None:
    q = Query(round=3, model_version=2, strategy="margin", top_k=20, num_bins=8, sketch_dim=16, sketch_seed=7,
              model_onnx=b"\x08\x01onnx", random_k=2)
    assert Query.from_recorddict(wire(q.to_recorddict())) == q


def test_summary_round_trip() -> None:
    s = summary()
    back = Summary.from_recorddict(wire(s.to_recorddict()))
    assert back.candidate_ids == s.candidate_ids and back.random_ids == s.random_ids
    np.testing.assert_array_equal(back.scores, s.scores)
    np.testing.assert_array_equal(back.sketches, s.sketches)
    assert back.metadata == s.metadata and back.hist_range == s.hist_range and back.epsilon_spent == 0.5


def test_release_labels_and_ack_round_trip() -> None:
    r = Release(round=1, device_id="d", released_ids=["a"], payloads=[b"xyz"], content_type="npy",
                refused_ids=["b"], refusal_reasons=["consent:withdrawn"])
    assert Release.from_recorddict(wire(r.to_recorddict())) == r
    lab = Labels(round=1, candidate_ids=["a", "b"], labels=[3, 0], validation=[True, False])
    assert Labels.from_recorddict(wire(lab.to_recorddict())) == lab
    req = LabelRequest(round=1, candidate_ids=["a"])
    assert LabelRequest.from_recorddict(wire(req.to_recorddict())) == req
    ack = LabelsAck(round=1, device_id="d", stored=2, unknown_ids=[])
    assert LabelsAck.from_recorddict(wire(ack.to_recorddict())) == ack


def test_train_messages_round_trip() -> None:
    layers = [(np.ones((4, 3), np.float32), np.zeros(4, np.float32)), (np.ones((2, 4), np.float32), np.ones(2, np.float32))]
    back = arrayrecord_to_weights(wire(RecordDict({"a": weights_to_arrayrecord(layers)}))["a"])
    assert [w.shape for w, _ in back] == [(4, 3), (2, 4)]
    rep = TrainReply("d", layers, 5, 0.25)
    got = TrainReply.from_recorddict(wire(rep.to_recorddict()))
    assert got.num_examples == 5 and got.device_id == "d"
    cfg = TrainConfig(round=2, epochs=3, min_steps=10, proximal_mu=0.25)
    rd = RecordDict({"config": cfg.to_configrecord()})
    rd["config"]["server-round"] = 2  # added by Flower's FedAvg
    assert TrainConfig.from_recorddict(wire(rd)) == cfg
    del rd["config"]["proximal_mu"]  # a server from before FedProx: plain local training
    assert TrainConfig.from_recorddict(wire(rd)).proximal_mu == 0.0
    # with FedProx off the key is not sent, so devices from before FedProx accept the message
    assert "proximal_mu" not in TrainConfig(round=1).to_configrecord()


@pytest.mark.parametrize("value", [-0.1, 1e9, float("nan"), "0.1", True])
def test_train_config_rejects_a_bad_proximal_mu(value: object) -> None:
    rd = RecordDict({"config": TrainConfig(round=1).to_configrecord()})
    rd["config"]["proximal_mu"] = value
    with pytest.raises(MessageValidationError, match="train.config.proximal_mu"):
        TrainConfig.from_recorddict(rd)


def _tamper_arrays(s: Summary, key: str, value: np.ndarray) -> RecordDict:
    rd = s.to_recorddict()
    rd["arrays"][key] = Array(value)
    return wire(rd)


@pytest.mark.parametrize("key,value,field", [
    ("scores", np.array([1.0, np.nan, 0.0], np.float32), "summary.arrays.scores"),
    ("scores", np.array([1.0, np.inf, 0.0], np.float32), "summary.arrays.scores"),
    ("scores", np.ones(4, np.float32), "summary.arrays.scores"),
    ("scores", np.ones(3, np.float64), "summary.arrays.scores"),
    ("sketches", np.ones((2, 4), np.float32), "summary.arrays.sketches"),
    ("sketches", np.ones((3, 999), np.float32), "summary.arrays.sketches"),
    ("histogram", np.array([-1, 2], np.int64), "summary.arrays.histogram"),
    ("class_counts", np.ones((2, 2), np.int64), "summary.arrays.class_counts"),
])
def test_summary_rejects_bad_arrays(key: str, value: np.ndarray, field: str) -> None:
    with pytest.raises(MessageValidationError) as err:
        Summary.from_recorddict(_tamper_arrays(summary(), key, value))
    assert err.value.field == field
    assert field in str(err.value)


def test_summary_rejects_unknown_and_missing_fields() -> None:
    rd = summary().to_recorddict()
    rd["summary"]["raw_sample"] = b"leak"
    with pytest.raises(MessageValidationError, match="summary.raw_sample"):
        Summary.from_recorddict(rd)
    rd = summary().to_recorddict()
    del rd["summary"]["device_id"]
    with pytest.raises(MessageValidationError, match="summary.device_id.*missing"):
        Summary.from_recorddict(rd)
    with pytest.raises(MessageValidationError, match="summary.arrays"):
        Summary.from_recorddict(RecordDict({"summary": summary().to_recorddict()["summary"]}))


def test_summary_rejects_hostile_ids_and_metadata() -> None:
    with pytest.raises(MessageValidationError, match="candidate_ids.*longer"):
        Summary.from_recorddict(summary(k=1, candidate_ids=["x" * 10_000]).to_recorddict())
    with pytest.raises(MessageValidationError, match="duplicate"):
        Summary.from_recorddict(summary(k=2, candidate_ids=["a", "a"]).to_recorddict())
    rd = summary().to_recorddict()
    rd["summary"]["metadata"] = ["not json", "{}", "{}"]
    with pytest.raises(MessageValidationError, match=r"summary.metadata\[0\].*JSON"):
        Summary.from_recorddict(rd)
    rd["summary"]["metadata"] = ['{"a": {"nested": 1}}', "{}", "{}"]
    with pytest.raises(MessageValidationError, match=r"summary.metadata\[0\]"):
        Summary.from_recorddict(rd)
    too_many = DEFAULT_LIMITS.max_candidates + 1
    with pytest.raises(MessageValidationError, match="more than"):
        Summary.from_recorddict(summary(k=too_many, d=0).to_recorddict())


def test_wrong_protocol_version_is_named() -> None:
    rd = Query(round=1, model_version=0, strategy="margin", top_k=1, protocol_version=99).to_recorddict()
    with pytest.raises(ProtocolVersionError, match="query.protocol_version"):
        Query.from_recorddict(rd)


def test_oversized_and_ill_typed_release() -> None:
    big = Release(round=1, device_id="d", released_ids=["a"], payloads=[b"x" * (DEFAULT_LIMITS.max_payload_bytes + 1)],
                  content_type="npy")
    with pytest.raises(MessageValidationError, match=r"release.payloads\[0\].*larger"):
        Release.from_recorddict(big.to_recorddict())
    rd = Release(round=1, device_id="d", released_ids=["a", "b"], payloads=[b"x", b"y"], content_type="npy").to_recorddict()
    rd["release"]["payloads"] = [b"x"]
    with pytest.raises(MessageValidationError, match="release.payloads"):
        Release.from_recorddict(rd)
    rd = RecordDict({"release": ConfigRecord({"protocol_version": 1})})
    with pytest.raises(MessageValidationError, match="missing"):
        Release.from_recorddict(rd)


def test_labels_must_be_valid_classes() -> None:
    rd = Labels(round=1, candidate_ids=["a"], labels=[5]).to_recorddict()
    rd["labels"]["labels"] = [-1]
    with pytest.raises(MessageValidationError, match=r"labels.labels\[0\]"):
        Labels.from_recorddict(rd)
    rd["labels"]["labels"] = [True]
    with pytest.raises(MessageValidationError, match="integer"):
        Labels.from_recorddict(rd)


def test_weights_must_chain_and_be_finite() -> None:
    bad = [(np.ones((4, 3), np.float32), np.zeros(4, np.float32)), (np.ones((2, 5), np.float32), np.ones(2, np.float32))]
    with pytest.raises(MessageValidationError, match="layers.1.weight.*4 inputs"):
        arrayrecord_to_weights(weights_to_arrayrecord(bad))
    nan = [(np.full((2, 3), np.nan, np.float32), np.zeros(2, np.float32))]
    with pytest.raises(MessageValidationError, match="NaN"):
        arrayrecord_to_weights(weights_to_arrayrecord(nan))
    with pytest.raises(MessageValidationError, match="pairs"):
        arrayrecord_to_weights(ArrayRecord({"x": Array(np.ones(2, np.float32))}))


def test_content_of_wrong_kind_is_rejected() -> None:
    with pytest.raises(MessageValidationError, match="query.query.*ConfigRecord"):
        Query.from_recorddict(RecordDict({"query": ArrayRecord({"x": Array(np.ones(1, np.float32))})}))
    with pytest.raises(MessageValidationError, match="query.query.*missing"):
        Query.from_recorddict(RecordDict({}))
