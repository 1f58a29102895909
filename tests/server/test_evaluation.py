"""Accuracy and Brier score of an ONNX artifact, on cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from fedsift.server import CampaignConfig
from fedsift.server.errors import ConfigError
from fedsift.server.evaluation import TestSetEvaluator
from fedsift.server.model import export_onnx


def identity_model() -> bytes:
    """A 2-feature, 2-class model whose logits are its inputs (hidden layer = identity, ReLU-safe inputs)."""
    eye = np.eye(2, dtype=np.float32)
    zero = np.zeros(2, dtype=np.float32)
    return export_onnx([(eye, zero), (eye, zero)])


def test_brier_and_accuracy_match_the_hand_computation() -> None:
    x = np.array([[np.log(3.0), 0.0], [0.0, 0.0]], dtype=np.float32)  # p = (0.75, 0.25) and (0.5, 0.5)
    ev = TestSetEvaluator(x, np.array([0, 1])).evaluate(identity_model())
    # item 1: (0.25)^2 + (0.25)^2 = 0.125; item 2: 0.5^2 + 0.5^2 = 0.5; argmax of a tie is class 0 (wrong)
    assert ev.accuracy == 0.5 and ev.num_examples == 2
    assert ev.brier == pytest.approx((0.125 + 0.5) / 2, abs=1e-6)


def test_brier_separates_models_that_accuracy_cannot() -> None:
    x_sure = np.array([[3.0, 0.0]], dtype=np.float32)
    x_unsure = np.array([[0.2, 0.0]], dtype=np.float32)
    m = identity_model()
    sure, unsure = TestSetEvaluator(x_sure, np.array([0])).evaluate(m), TestSetEvaluator(x_unsure, np.array([0])).evaluate(m)
    assert sure.accuracy == unsure.accuracy == 1.0 and sure.brier < unsure.brier


def test_auto_reward_is_checked() -> None:
    with pytest.raises(ConfigError, match="auto_reward"):
        CampaignConfig(num_features=2, num_classes=2, auto_reward="loss").validate()
    assert CampaignConfig(num_features=2, num_classes=2, auto_reward="brier").validate().auto_reward == "brier"


def test_server_momentum_uses_flowers_fedavgm_and_keeps_the_model_float32() -> None:
    from flwr.serverapp.strategy import FedAvgM

    from fedsift.server import build_server_app
    from fedsift.simulations import InProcessGrid, SimulatedOracle, SimulatedPoolLoader, load_dataset, run_inprocess
    from fedsift.client import build_client_app

    with pytest.raises(ConfigError, match="server_momentum"):
        CampaignConfig(num_features=2, num_classes=2, server_momentum=1.0).validate()
    data = load_dataset("digits")
    cfg = CampaignConfig(num_features=64, num_classes=10, rounds=2, budget=12, min_nodes=3, train_rounds=2,
                         warmup_train_rounds=0, server_momentum=0.5, cold_start_rounds=1)
    done: list = []
    server = build_server_app(cfg, SimulatedOracle(data.x_train, data.y_train), TestSetEvaluator(data.x_test, data.y_test),
                              on_done=done.append)
    run_inprocess(server, InProcessGrid(build_client_app(SimulatedPoolLoader("digits", 3, 1.0, 0)), 3))
    campaign = done[0]
    assert isinstance(campaign.strategy, FedAvgM)
    assert [r.labels for r in campaign.results] == [0, 12, 24]
    assert all(w.dtype == np.float32 for w, b in campaign.registry.latest.layers)
    assert campaign.results[-1].accuracy > campaign.results[0].accuracy


def test_server_lr_scales_the_averaged_update() -> None:
    """One wave from the same start: the model moves server_lr times the devices' average."""
    from flwr.serverapp.strategy import FedAvg, FedAvgM

    from fedsift.client import build_client_app
    from fedsift.server import build_server_app
    from fedsift.simulations import InProcessGrid, SimulatedOracle, SimulatedPoolLoader, load_dataset, run_inprocess

    for bad in (0.0, -1.0, 11.0, float("nan")):
        with pytest.raises(ConfigError, match="server_lr"):
            CampaignConfig(num_features=2, num_classes=2, server_lr=bad).validate()
    data = load_dataset("digits")
    moves, strategies = {}, {}
    for step in (1.0, 2.0):
        cfg = CampaignConfig(num_features=64, num_classes=10, rounds=1, budget=12, min_nodes=3, train_rounds=1,
                             warmup_train_rounds=0, server_momentum=0.0, server_lr=step, cold_start_rounds=1)
        done: list = []
        server = build_server_app(cfg, SimulatedOracle(data.x_train, data.y_train), None, on_done=done.append)
        run_inprocess(server, InProcessGrid(build_client_app(SimulatedPoolLoader("digits", 3, 1.0, 0)), 3))
        campaign = done[0]
        strategies[step] = campaign.strategy
        before, after = campaign.registry.get(0).layers, campaign.registry.get(1).layers
        moves[step] = [a - b for (wa, ba), (wb, bb) in zip(after, before) for a, b in ((wa, wb), (ba, bb))]
    assert type(strategies[1.0]) is FedAvg  # no server step: Flower's plain FedAvg
    assert isinstance(strategies[2.0], FedAvgM) and strategies[2.0].server_learning_rate == 2.0
    assert any(np.abs(m).max() > 1e-4 for m in moves[1.0])
    for one, two in zip(moves[1.0], moves[2.0]):
        np.testing.assert_allclose(two, 2.0 * one, rtol=1e-4, atol=1e-6)
    assert CampaignConfig().server_lr == 2.0


def _digits_campaign(cfg: CampaignConfig, evaluator: TestSetEvaluator | None) -> list:
    from fedsift.client import build_client_app
    from fedsift.server import build_server_app
    from fedsift.simulations import InProcessGrid, SimulatedOracle, SimulatedPoolLoader, load_dataset, run_inprocess

    data = load_dataset("digits")
    done: list = []
    server = build_server_app(cfg, SimulatedOracle(data.x_train, data.y_train), evaluator, on_done=done.append)
    run_inprocess(server, InProcessGrid(build_client_app(SimulatedPoolLoader("digits", 3, 1.0, 0)), 3))
    return done


def test_test_set_reward_is_each_rounds_held_out_accuracy_gain() -> None:
    from fedsift.simulations import load_dataset

    data = load_dataset("digits")
    cfg = CampaignConfig(num_features=64, num_classes=10, rounds=4, budget=12, min_nodes=3, cold_start_rounds=1,
                         auto_reward="test")
    (campaign,) = _digits_campaign(cfg, TestSetEvaluator(data.x_test, data.y_test))
    acc = [r.accuracy for r in campaign.results]
    played = [r.strategy for r in campaign.results[2:]]
    assert [a for a, _ in campaign.selector.history] == played  # every round after the cold start, at once
    assert [g for _, g in campaign.selector.history] == pytest.approx([acc[r] - acc[r - 1] for r in (2, 3, 4)])


def test_test_set_reward_without_a_test_set_is_refused() -> None:
    cfg = CampaignConfig(num_features=64, num_classes=10, rounds=2, budget=12, min_nodes=3, auto_reward="test")
    with pytest.raises(ConfigError, match="auto_reward.*needs a held-out test set"):
        _digits_campaign(cfg, None)
