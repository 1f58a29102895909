"""A device with nothing left to score still answers every query, whatever the strategy."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from flwr.app import Context

from fedsift.client import build_client_app
from fedsift.client.pool import LocalPool
from fedsift.server import CampaignConfig, build_server_app
from fedsift.simulations import InProcessGrid, SimulatedOracle, SimulatedPoolLoader, load_dataset, run_inprocess


@pytest.mark.parametrize("strategy", ["badge", "hybrid", "coreset"])
def test_a_device_with_an_empty_pool_sends_an_empty_summary_not_an_error(
        strategy: str, caplog: pytest.LogCaptureFixture) -> None:
    data = load_dataset("digits")
    full = SimulatedPoolLoader("digits", 3, 1.0, 0)

    def loader(context: Context) -> LocalPool:
        if int(context.node_config["partition-id"]) == 0:  # e.g. everything labeled or unconsented
            return LocalPool(ids=[], x=np.zeros((0, data.x_train.shape[1]), np.float32))
        return full(context)

    cfg = CampaignConfig(num_features=64, num_classes=10, rounds=2, budget=12, min_nodes=3, train_rounds=1,
                         warmup_train_rounds=0, cold_start_rounds=0, strategy=strategy)
    results = []
    server = build_server_app(cfg, SimulatedOracle(data.x_train, data.y_train), None, on_round=results.append)
    with caplog.at_level(logging.ERROR, logger="fedsift.server"):
        run_inprocess(server, InProcessGrid(build_client_app(loader), 3))
    assert "rejected reply" not in caplog.text
    assert [r.round for r in results] == [0, 1, 2]
    assert results[-1].labels == 24  # the two full devices fill the budget
