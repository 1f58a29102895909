"""Bad replies are rejected with an error naming the device and field; the round goes on."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pytest
from flwr.app import Array, Context, Message
from flwr.clientapp import ClientApp

from fedsift.client import DeviceAgent
from fedsift.server import CampaignConfig, TestSetEvaluator, build_server_app
from fedsift.simulations import InProcessGrid, SimulatedOracle, SimulatedPoolLoader, load_dataset, run_inprocess


def hostile_app(loader: SimulatedPoolLoader) -> ClientApp:
    agent = DeviceAgent(loader)
    app = ClientApp()

    @app.query()
    def query(msg: Message, context: Context) -> Message:
        reply = agent.query(msg, context)
        pid = context.node_config["partition-id"]
        if pid == 1:  # NaN scores
            scores = reply.content["arrays"]["scores"].numpy().copy()
            scores[0] = np.nan
            reply.content["arrays"]["scores"] = Array(scores)
        elif pid == 2:  # wrong-shape sketches
            reply.content["arrays"]["sketches"] = Array(np.zeros((1, 3), np.float32))
        return reply

    @app.query("label_request")
    def label_request(msg: Message, context: Context) -> Message:
        reply = agent.label_request(msg, context)
        if context.node_config["partition-id"] == 3 and reply.content["release"]["released_ids"]:
            ids = list(reply.content["release"]["released_ids"])
            ids[0] = "forged-id"
            reply.content["release"]["released_ids"] = ids
        return reply

    app.query("labels")(agent.labels)
    app.train()(agent.train)
    return app


def test_round_finishes_without_the_bad_devices(caplog: pytest.LogCaptureFixture) -> None:
    data = load_dataset("digits")
    cfg = CampaignConfig(num_features=data.num_features, num_classes=data.num_classes, rounds=2, budget=24,
                         min_nodes=6, train_rounds=1, warmup_train_rounds=0, cold_start_rounds=0,
                         allocation="proportional")
    results = []
    server = build_server_app(cfg, SimulatedOracle(data.x_train, data.y_train),
                              TestSetEvaluator(data.x_test, data.y_test), on_round=results.append)
    grid = InProcessGrid(hostile_app(SimulatedPoolLoader("digits", 6, 1.0, 0)), 6)
    with caplog.at_level(logging.ERROR, logger="fedsift.server.campaign"):
        run_inprocess(server, grid)
    assert len(results) == 3
    text = caplog.text
    assert "summary.arrays.scores" in text and "NaN" in text
    assert "summary.arrays.sketches" in text
    assert "unknown candidate id 'forged-id'" in text and "device device-00003" in text
    for r in results[1:]:
        assert r.devices == 4  # the two devices with bad summaries are left out
        assert any("device-00003" in who for who in r.rejected)
        assert r.new_labels > 0
    assert results[-1].labels == sum(r.new_labels for r in results)


def with_query(query: Callable[[DeviceAgent, Message, Context], Message]) -> ClientApp:
    """An honest device app (3 digits devices) whose query handler is ``query``."""
    agent = DeviceAgent(SimulatedPoolLoader("digits", 3, 1.0, 0))
    app = ClientApp()
    app.query()(lambda msg, context: query(agent, msg, context))
    app.query("label_request")(agent.label_request)
    app.query("labels")(agent.labels)
    app.train()(agent.train)
    return app


def test_a_client_that_raises_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    data = load_dataset("digits")

    def query(agent: DeviceAgent, msg: Message, context: Context) -> Message:
        if context.node_config["partition-id"] == 0:
            raise RuntimeError("disk full")
        return agent.query(msg, context)

    app = with_query(query)
    cfg = CampaignConfig(num_features=64, num_classes=10, rounds=1, budget=10, min_nodes=3, train_rounds=1,
                         warmup_train_rounds=0)
    results = []
    server = build_server_app(cfg, SimulatedOracle(data.x_train, data.y_train), None, on_round=results.append)
    with caplog.at_level(logging.ERROR, logger="fedsift.server.campaign"):
        run_inprocess(server, InProcessGrid(app, 3))
    assert "disk full" in caplog.text
    assert results[-1].labels == 10 and results[-1].devices == 2


@pytest.mark.parametrize(("noise", "step"), [(1e-6, 1.0), (1e-6, 2.0), (5.0, 2.0)])
def test_model_updates_go_through_flowers_dp_wrapper(noise: float, step: float) -> None:
    """Tiny clipping norm: each wave moves the model by at most the norm times the server step (plus the noise)."""
    from fedsift.client import build_client_app
    from fedsift.server import Campaign

    data = load_dataset("digits")
    clip = 1e-3
    cfg = CampaignConfig(num_features=64, num_classes=10, rounds=1, budget=9, min_nodes=3, train_rounds=1,
                         warmup_train_rounds=0, dp_noise_multiplier=noise, dp_clipping_norm=clip,
                         server_lr=step)
    holder = []
    server = build_server_app(cfg, SimulatedOracle(data.x_train, data.y_train), None, on_done=holder.append)
    run_inprocess(server, InProcessGrid(build_client_app(SimulatedPoolLoader("digits", 3, 1.0, 0)), 3))
    campaign: Campaign = holder[0]
    before, after = campaign.registry.get(0).layers, campaign.registry.get(1).layers
    moved = np.sqrt(sum(float(((a - b) ** 2).sum()) for (wa, ba), (wb, bb) in zip(after, before)
                        for a, b in ((wa, wb), (ba, bb))))
    if noise < 1e-3:  # (almost) no noise: the clipped average moves at most the clipping norm, x the server step
        assert 0 < moved <= cfg.server_lr * clip * 1.01
    else:
        n_params = sum(w.size + b.size for w, b in before)
        assert moved > 10 * clip  # the Gaussian noise (std = noise x clip / clients) dominates
        assert moved < 10 * noise * clip * np.sqrt(n_params)


def test_an_ack_for_another_device_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    """A node cannot mark another device's labels as delivered."""
    data = load_dataset("digits")
    agent = DeviceAgent(SimulatedPoolLoader("digits", 3, 1.0, 0))
    app = ClientApp()
    app.query()(agent.query)
    app.query("label_request")(agent.label_request)
    app.query("labels")(agent.labels)

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        reply = agent.train(msg, context)
        if context.node_config["partition-id"] == 2 and "labels_ack" in reply.content:
            reply.content["labels_ack"]["device_id"] = "device-00000"
        return reply

    cfg = CampaignConfig(num_features=64, num_classes=10, rounds=1, budget=12, min_nodes=3, train_rounds=1,
                         warmup_train_rounds=0, cold_start_rounds=1)
    results = []
    server = build_server_app(cfg, SimulatedOracle(data.x_train, data.y_train), None, on_round=results.append)
    with caplog.at_level(logging.ERROR):
        run_inprocess(server, InProcessGrid(app, 3))
    assert "labels_ack.device_id" in caplog.text and "'device-00000' is not the device on node" in caplog.text
    assert 0 < results[-1].labels < 12  # the honest devices' labels count, the hijacked ack does not


@pytest.mark.parametrize("cold_start", [0, 1])
def test_sketches_of_the_wrong_width_are_rejected_not_stacked(cold_start: int,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    data = load_dataset("digits")

    def query(agent: DeviceAgent, msg: Message, context: Context) -> Message:
        reply = agent.query(msg, context)
        if context.node_config["partition-id"] == 0:  # right row count, wrong width
            k = reply.content["arrays"]["sketches"].numpy().shape[0]
            reply.content["arrays"]["sketches"] = Array(np.ones((k, 5), np.float32))
        return reply

    app = with_query(query)
    cfg = CampaignConfig(num_features=data.num_features, num_classes=data.num_classes, rounds=2, budget=12,
                         min_nodes=3, train_rounds=1, warmup_train_rounds=0, cold_start_rounds=cold_start)
    results = []
    server = build_server_app(cfg, SimulatedOracle(data.x_train, data.y_train), None, on_round=results.append)
    with caplog.at_level(logging.ERROR, logger="fedsift.server.campaign"):
        run_inprocess(server, InProcessGrid(app, 3))
    assert "summary.arrays.sketches': 5 columns, expected the query's sketch_dim 32" in caplog.text
    assert [r.devices for r in results[1:]] == [2, 2] and results[-1].labels == 24
