"""A server restart between selection and delivery loses no label and duplicates none."""

from __future__ import annotations

from pathlib import Path

import pytest
from flwr.app import Context
from flwr.serverapp import Grid, ServerApp

from fedsift.client import build_client_app
from fedsift.client.labels import load_labels
from fedsift.server import Campaign, CampaignConfig, TestSetEvaluator
from fedsift.server.state import CampaignState
from fedsift.simulations import InProcessGrid, SimulatedOracle, SimulatedPoolLoader, load_dataset, run_inprocess


class Crash(Exception):
    pass


class CrashBeforeDelivery(Campaign):
    """Dies in round 2 after labels were obtained and journaled, before any was delivered."""

    def deliver_and_train(self, rnd, labeled, layers, rejected):  # type: ignore[no-untyped-def]
        if rnd == 2:
            raise Crash("server killed between selection and delivery")
        return super().deliver_and_train(rnd, labeled, layers, rejected)


def app_for(cls: type[Campaign], cfg: CampaignConfig, path: Path, results: list) -> ServerApp:
    data = load_dataset("digits")
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        state = CampaignState(path)
        try:
            cls(grid, cfg, SimulatedOracle(data.x_train, data.y_train), TestSetEvaluator(data.x_test, data.y_test),
                on_round=results.append, state=state).run()
        finally:
            state.close()

    return app


def test_restart_between_selection_and_delivery(tmp_path: Path) -> None:
    cfg = CampaignConfig(num_features=64, num_classes=10, rounds=3, budget=9, min_nodes=3, train_rounds=1,
                         warmup_train_rounds=0, strategy="margin", cold_start_rounds=1)
    grid = InProcessGrid(build_client_app(SimulatedPoolLoader("digits", 3, 1.0, 0)), 3)
    first: list = []
    with pytest.raises(Crash):
        run_inprocess(app_for(CrashBeforeDelivery, cfg, tmp_path / "state.db", first), grid)
    assert [r.labels for r in first] == [0, 9]
    state = CampaignState(tmp_path / "state.db")
    assert len(state.undelivered()) == 9  # round 2's labels are journaled, none delivered
    state.close()

    second: list = []
    run_inprocess(app_for(Campaign, cfg, tmp_path / "state.db", second), grid)
    assert [r.round for r in second] == [2, 3]
    assert [r.labels for r in second] == [18, 27]
    assert second[0].model_version == 2 and second[-1].model_version == 3
    device_labels = [load_labels(ctx) for ctx in grid.contexts.values()]
    assert sum(len(d) for d in device_labels) == 27  # on the devices: every label exactly once
    state = CampaignState(tmp_path / "state.db")
    pairs = state.label_pairs()
    assert len(pairs) == len(set(pairs)) == 27 and not state.undelivered()
    assert [r["round"] for r in state.load_results()] == [0, 1, 2, 3]
    state.close()


def test_resume_of_a_finished_campaign_runs_nothing_more(tmp_path: Path) -> None:
    cfg = CampaignConfig(num_features=64, num_classes=10, rounds=1, budget=6, min_nodes=2, train_rounds=1,
                         warmup_train_rounds=0)
    grid = InProcessGrid(build_client_app(SimulatedPoolLoader("digits", 2, 1.0, 0)), 2)
    first: list = []
    run_inprocess(app_for(Campaign, cfg, tmp_path / "s.db", first), grid)
    again: list = []
    run_inprocess(app_for(Campaign, cfg, tmp_path / "s.db", again), grid)
    assert [r.labels for r in first] == [0, 6] and again == []


def test_a_device_dropping_out_mid_round_is_skipped_and_its_share_reallocated() -> None:
    from flwr.app import Message
    from flwr.clientapp import ClientApp

    from fedsift.client import DeviceAgent
    from fedsift.server import build_server_app

    data = load_dataset("digits")
    agent = DeviceAgent(SimulatedPoolLoader("digits", 4, 1.0, 0))
    grid_holder: list[InProcessGrid] = []
    app = ClientApp()
    app.query()(agent.query)

    @app.query("label_request")
    def label_request(msg: Message, context: Context) -> Message:
        if context.node_config["partition-id"] == 2:  # this device goes offline right after selection
            grid_holder[0].offline.add(context.node_id)
            raise ConnectionError("device went offline")
        return agent.label_request(msg, context)

    app.query("labels")(agent.labels)
    app.train()(agent.train)
    cfg = CampaignConfig(num_features=64, num_classes=10, rounds=2, budget=12, min_nodes=4, train_rounds=1,
                         warmup_train_rounds=0, strategy="margin", cold_start_rounds=0, allocation="proportional")
    results: list = []
    grid = InProcessGrid(app, 4)
    grid_holder.append(grid)
    run_inprocess(build_server_app(cfg, SimulatedOracle(data.x_train, data.y_train), None, on_round=results.append),
                  grid)
    assert [r.labels for r in results] == [0, 12, 24]  # the dropped device's share went to the others
    assert results[1].devices == 4 and results[2].devices == 3


@pytest.mark.parametrize("warmup", [0, 4])
def test_a_round_costs_query_release_and_training_waves_only(warmup: int) -> None:
    """Labels ride on the first training wave: query + label_request + train_rounds waves per round.

    The first round trains ``warmup_train_rounds`` waves instead (0 = ``train_rounds``).
    """
    from fedsift.server import build_server_app

    data = load_dataset("digits")
    cfg = CampaignConfig(num_features=64, num_classes=10, rounds=2, budget=8, min_nodes=3, train_rounds=2,
                         warmup_train_rounds=warmup, strategy="margin", cold_start_rounds=1)
    grid = InProcessGrid(build_client_app(SimulatedPoolLoader("digits", 3, 1.0, 0)), 3)
    waves: list[str] = []
    inner = grid.push_messages

    def counting(messages):  # type: ignore[no-untyped-def]
        messages = list(messages)
        waves.append(messages[0].metadata.message_type if messages else "")
        return inner(messages)

    grid.push_messages = counting  # type: ignore[method-assign]
    results: list = []
    run_inprocess(build_server_app(cfg, SimulatedOracle(data.x_train, data.y_train), None, on_round=results.append),
                  grid)
    assert [r.labels for r in results] == [0, 8, 16]
    first = ["query", "query.label_request"] + ["train"] * (warmup or 2)
    assert waves == first + ["query", "query.label_request", "train", "train"]


def test_a_resumed_campaign_keeps_fedavgm_momentum(tmp_path: Path) -> None:
    """Stopped after round 1 and resumed, a campaign ends on the model of one run straight through.

    Flower's FedAvgM keeps its momentum in memory; the state store saves it with every model.
    """
    import numpy as np

    def cfg(rounds: int) -> CampaignConfig:
        return CampaignConfig(num_features=64, num_classes=10, rounds=rounds, budget=9, min_nodes=3, train_rounds=2,
                              warmup_train_rounds=3, server_momentum=0.5, strategy="margin", cold_start_rounds=1)

    def grid() -> InProcessGrid:
        return InProcessGrid(build_client_app(SimulatedPoolLoader("digits", 3, 1.0, 0)), 3)

    straight: list = []
    run_inprocess(app_for(Campaign, cfg(2), tmp_path / "straight.db", straight), grid())
    resumed: list = []
    devices = grid()  # the same devices (and their label stores) for both runs
    run_inprocess(app_for(Campaign, cfg(1), tmp_path / "resumed.db", resumed), devices)
    run_inprocess(app_for(Campaign, cfg(2), tmp_path / "resumed.db", resumed), devices)
    assert [r.round for r in resumed] == [0, 1, 2]
    a, b = CampaignState(tmp_path / "straight.db"), CampaignState(tmp_path / "resumed.db")
    try:
        assert b.load_momentum(2) is not None and b.load_momentum(1) is None  # only the latest is kept
        for (wa, ba), (wb, bb) in zip(a.load_models()[-1].layers, b.load_models()[-1].layers):
            np.testing.assert_array_equal(wa, wb)
            np.testing.assert_array_equal(ba, bb)
    finally:
        a.close()
        b.close()


def test_a_resumed_auto_campaign_chooses_as_one_run_straight_through(tmp_path: Path) -> None:
    """The adaptive strategy's gains are stored and replayed: after a restart it picks the same arms."""
    def cfg(rounds: int) -> CampaignConfig:
        return CampaignConfig(num_features=64, num_classes=10, rounds=rounds, budget=12, min_nodes=3, train_rounds=1,
                              warmup_train_rounds=0, strategy="auto", auto_arms=["hybrid", "badge", "margin"],
                              cold_start_rounds=1)

    def grid() -> InProcessGrid:
        return InProcessGrid(build_client_app(SimulatedPoolLoader("digits", 3, 1.0, 0)), 3)

    straight: list = []
    run_inprocess(app_for(Campaign, cfg(7), tmp_path / "straight.db", straight), grid())
    resumed: list = []
    devices = grid()
    run_inprocess(app_for(Campaign, cfg(4), tmp_path / "resumed.db", resumed), devices)
    run_inprocess(app_for(Campaign, cfg(7), tmp_path / "resumed.db", resumed), devices)
    chosen = [r.strategy for r in straight]
    # each arm once, although a round's reward comes in only during the next round; the
    # resumed run must know that round 4 played margin, or it would play margin again
    assert chosen[2:5] == ["hybrid", "badge", "margin"]
    assert len(set(chosen[2:])) >= 2  # the bandit did switch arms, so replay matters
    assert [r.strategy for r in resumed] == chosen
    state = CampaignState(tmp_path / "resumed.db")
    try:
        assert len(state.load_rewards()) >= 4
    finally:
        state.close()


class CrashBeforeDeliveryInRound4(Campaign):
    """Dies in round 4, the first play of the third arm, with its selection open (labels journaled)."""

    def deliver_and_train(self, rnd, labeled, layers, rejected):  # type: ignore[no-untyped-def]
        if rnd == 4:
            raise Crash("server killed between selection and delivery")
        return super().deliver_and_train(rnd, labeled, layers, rejected)


def test_an_auto_campaign_resumed_with_a_selection_open_chooses_as_one_run_straight_through(tmp_path: Path) -> None:
    """The open round's arm is replayed too: without it round 5 would play margin again."""
    cfg = CampaignConfig(num_features=64, num_classes=10, rounds=6, budget=12, min_nodes=3, train_rounds=1,
                         warmup_train_rounds=0, strategy="auto", auto_arms=["hybrid", "badge", "margin"],
                         cold_start_rounds=1)

    def grid() -> InProcessGrid:
        return InProcessGrid(build_client_app(SimulatedPoolLoader("digits", 3, 1.0, 0)), 3)

    straight: list = []
    run_inprocess(app_for(Campaign, cfg, tmp_path / "straight.db", straight), grid())
    assert [r.strategy for r in straight][2:5] == ["hybrid", "badge", "margin"]
    resumed: list = []
    devices = grid()
    with pytest.raises(Crash):
        run_inprocess(app_for(CrashBeforeDeliveryInRound4, cfg, tmp_path / "resumed.db", resumed), devices)
    assert [r.round for r in resumed] == [0, 1, 2, 3]
    run_inprocess(app_for(Campaign, cfg, tmp_path / "resumed.db", resumed), devices)
    assert [r.strategy for r in resumed] == [r.strategy for r in straight]
