"""Devices run only models signed by the pinned server key, and keep the last good one."""

from __future__ import annotations

import logging

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flwr.app import Context, RecordDict

from fedsift.client import build_client_app
from fedsift.client.model_cache import ModelSignatureError, ModelVerifier, accept_model, last_good_model
from fedsift.server import CampaignConfig, build_server_app
from fedsift.server.errors import NoRepliesError
from fedsift.server.signing import ModelSigner
from fedsift.simulations import InProcessGrid, SimulatedOracle, SimulatedPoolLoader, load_dataset, run_inprocess


def ctx(node_config: dict | None = None) -> Context:
    return Context(run_id=1, node_id=1, node_config=node_config or {}, state=RecordDict(), run_config={})


@pytest.fixture(params=["context-state", "device-store"])
def node_config(request: pytest.FixtureRequest, tmp_path) -> dict:  # type: ignore[no-untyped-def]
    return {} if request.param == "context-state" else {"store-path": str(tmp_path / "device.db")}


def test_signed_model_is_cached_and_bad_ones_are_refused_keeping_the_last_good(node_config: dict) -> None:
    signer = ModelSigner(Ed25519PrivateKey.generate())
    verifier = ModelVerifier(signer.private_key.public_key())
    c = ctx(node_config)
    accept_model(c, verifier, 1, b"model-one", signer.sign(1, b"model-one"))
    assert last_good_model(c) == (1, b"model-one")
    with pytest.raises(ModelSignatureError, match="unsigned"):
        accept_model(c, verifier, 2, b"model-two", b"")
    with pytest.raises(ModelSignatureError, match="does not verify"):
        accept_model(c, verifier, 2, b"model-two", signer.sign(2, b"another model"))
    with pytest.raises(ModelSignatureError, match="does not verify"):
        accept_model(c, verifier, 3, b"model-one", signer.sign(1, b"model-one"))  # replayed under a new version
    other = ModelSigner(Ed25519PrivateKey.generate())
    with pytest.raises(ModelSignatureError):
        accept_model(c, verifier, 2, b"model-two", other.sign(2, b"model-two"))
    assert last_good_model(c) == (1, b"model-one")


def test_a_device_store_keeps_models_and_rounds_across_runs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fedsift.client.app import check_round, remember_model
    from fedsift.client.labels import KEEP_MODELS, load_labels, store_labels

    signer = ModelSigner(Ed25519PrivateKey.generate())
    verifier = ModelVerifier(signer.private_key.public_key())
    config = {"store-path": str(tmp_path / "device.db")}
    first = ctx(config)
    for v in range(1, 6):
        accept_model(first, verifier, v, f"m{v}".encode(), signer.sign(v, f"m{v}".encode()))
    assert check_round(first, "query", 5)
    store_labels(first, {"a": 1, "b": 2}, {"a"})
    later = ctx(config)  # a new run: a fresh context, the same device
    assert last_good_model(later) == (5, b"m5")
    assert remember_model(later, 5, b"m5") == [b"m3", b"m4", b"m5"][-KEEP_MODELS:]
    assert not check_round(later, "query", 4)  # a replayed older round is still refused
    assert load_labels(later) == {"a": 1, "b": 2}


def test_devices_refuse_a_server_signing_with_another_key(caplog: pytest.LogCaptureFixture) -> None:
    data = load_dataset("digits")
    pinned = ModelSigner(Ed25519PrivateKey.generate())
    rogue = ModelSigner(Ed25519PrivateKey.generate())
    cfg = CampaignConfig(num_features=64, num_classes=10, rounds=1, budget=6, min_nodes=2, train_rounds=1,
                         warmup_train_rounds=0)
    results = []
    server = build_server_app(cfg, SimulatedOracle(data.x_train, data.y_train), None, on_round=results.append,
                              model_signer=rogue)
    client = build_client_app(SimulatedPoolLoader("digits", 2, 1.0, 0),
                              model_verifier=ModelVerifier(pinned.private_key.public_key()))
    with caplog.at_level(logging.ERROR, logger="fedsift.server"), pytest.raises(NoRepliesError) as err:
        run_inprocess(server, InProcessGrid(client, 2))
    # Every device refused the model: the campaign stops at round 1 naming why, labeling nothing.
    assert [r.round for r in results] == [0]
    assert "round 1: no device sent a valid summary (2 rejected" in str(err.value)
    assert "ModelSignatureError" in str(err.value) and "does not verify" in caplog.text


def test_replayed_label_request_of_an_older_round_releases_nothing() -> None:
    from flwr.app import Message

    from fedsift.client.app import DeviceAgent, check_round
    from fedsift.protocols import LabelRequest, Release
    from fedsift.simulations.inprocess import _wire

    c = Context(run_id=1, node_id=1, node_config={"partition-id": 0}, state=RecordDict(), run_config={})
    assert check_round(c, "query", 3) and check_round(c, "query", 3)
    assert not check_round(c, "query", 2)
    agent = DeviceAgent(SimulatedPoolLoader("digits", 2, 1.0, 0))
    ids = agent.pool_loader(c).ids[:2]
    from flwr.supercore.task_identity import TaskIdentity

    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = 1, 1, 1
    msg = Message(LabelRequest(2, ids).to_recorddict(), dst_node_id=1, message_type="query.label_request")
    msg.metadata.__dict__["_message_id"] = "m1"
    rel = Release.from_recorddict(agent.label_request(_wire(msg), c).content)
    assert rel.released_ids == [] and rel.refusal_reasons == ["stale-round", "stale-round"]
    msg = Message(LabelRequest(3, ids).to_recorddict(), dst_node_id=1, message_type="query.label_request")
    msg.metadata.__dict__["_message_id"] = "m2"
    assert Release.from_recorddict(agent.label_request(_wire(msg), c).content).released_ids == ids
