"""The cold-start rounds spend their random candidates with ``cold_start_allocation``, later rounds with ``allocation``."""

from __future__ import annotations

import logging

import pytest

from fedsift.client import build_client_app
from fedsift.server import CampaignConfig, build_server_app
from fedsift.simulations import InProcessGrid, SimulatedOracle, SimulatedPoolLoader, load_dataset, run_inprocess


@pytest.mark.parametrize("policy", ["pool-diversity", "typical", "stratified"])
def test_cold_start_rounds_use_their_policy_then_the_main_one(policy: str, caplog: pytest.LogCaptureFixture) -> None:
    data = load_dataset("digits")
    cfg = CampaignConfig(num_features=64, num_classes=10, rounds=3, budget=12, min_nodes=3, train_rounds=1,
                         warmup_train_rounds=0, cold_start_rounds=2, cold_start_allocation=policy, strategy="margin")
    results = []
    server = build_server_app(cfg, SimulatedOracle(data.x_train, data.y_train), None, on_round=results.append)
    with caplog.at_level(logging.INFO, logger="fedsift.server"):
        run_inprocess(server, InProcessGrid(build_client_app(SimulatedPoolLoader("digits", 3, 0.5, 0)), 3))
    used = [m for m in caplog.messages if ": policy " in m]
    assert [m.split(" picked")[0] for m in used] == [
        f"round 1: policy {policy}", f"round 2: policy {policy}", "round 3: policy diversity"]
    assert [r.labels for r in results] == [0, 12, 24, 36]
    assert "rejected reply" not in caplog.text
