"""A round run one phase at a time, as human labeling needs: select, (label), deliver, train."""

from __future__ import annotations

from pathlib import Path

import pytest
from flwr.app import Context
from flwr.serverapp import Grid, ServerApp

from fedsift.client import build_client_app
from fedsift.client.labels import load_labels
from fedsift.server import Campaign, CampaignConfig
from fedsift.server.errors import ConfigError, PhaseError, StateError
from fedsift.server.labeling import LabeledSample, QueueLabeler
from fedsift.server.state import CampaignState
from fedsift.simulations import InProcessGrid, SimulatedOracle, SimulatedPoolLoader, load_dataset, run_inprocess

BUDGET = 8
CFG = dict(num_features=64, num_classes=10, rounds=3, budget=BUDGET, min_nodes=3, train_rounds=1,
           warmup_train_rounds=0, strategy="margin", cold_start_rounds=1)


def run_phase(grid: InProcessGrid, path: Path, phase: str, labeler=None) -> list:  # type: ignore[no-untyped-def]
    data = load_dataset("digits")
    labeler = labeler or SimulatedOracle(data.x_train, data.y_train)
    results: list = []
    app = ServerApp()

    @app.main()
    def main(g: Grid, context: Context) -> None:
        state = CampaignState(path)
        try:
            Campaign(g, CampaignConfig(**CFG), labeler, on_round=results.append, state=state, phase=phase).run()
        finally:
            state.close()

    run_inprocess(app, grid)
    return results


def device_label_count(grid: InProcessGrid) -> int:
    return sum(len(load_labels(ctx)) for ctx in grid.contexts.values())


@pytest.fixture()
def grid() -> InProcessGrid:
    return InProcessGrid(build_client_app(SimulatedPoolLoader("digits", 3, 1.0, 0)), 3)


def test_select_deliver_train_each_in_its_own_run(grid: InProcessGrid, tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    results = run_phase(grid, db, "select")
    assert [r.round for r in results] == [0]  # only the initial model: round 1 is open
    with CampaignState(db) as state:
        assert state.open_selection()[:2] == (1, "selected")
        assert state.queue_counts()[1] == {"released": BUDGET, "waiting": 0, "labeled": BUDGET, "delivered": 0}
        assert len(state.undelivered()) == BUDGET
        assert state.request_outcomes(1) == {"released": BUDGET}
    assert device_label_count(grid) == 0

    assert run_phase(grid, db, "deliver") == []
    with CampaignState(db) as state:
        assert state.open_selection()[:2] == (1, "delivered")
        assert not state.undelivered()
    assert device_label_count(grid) == BUDGET

    results = run_phase(grid, db, "train")
    assert [(r.round, r.labels, r.model_version) for r in results] == [(1, BUDGET, 1)]
    assert results[0].strategy == "random" and results[0].budget == BUDGET  # the selection's facts survive
    with CampaignState(db) as state:
        assert state.open_selection() is None
    # A second selection, then "all" finishes it and runs the last round.
    run_phase(grid, db, "select")
    results = run_phase(grid, db, "all")
    assert [(r.round, r.labels) for r in results] == [(2, 2 * BUDGET), (3, 3 * BUDGET)]
    assert device_label_count(grid) == 3 * BUDGET
    with CampaignState(db) as state:
        pairs = state.label_pairs()
        assert len(pairs) == len(set(pairs)) == 3 * BUDGET and not state.undelivered()


def test_labels_imported_into_the_queue_are_delivered_by_a_later_run(grid: InProcessGrid, tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    run_phase(grid, db, "select", labeler=QueueLabeler())
    with CampaignState(db) as state:
        waiting = state.pending()
        assert len(waiting) == BUDGET and state.queue_counts()[1]["waiting"] == BUDGET
        assert not state.undelivered()
        # Half the items come back from the annotators before the next run.
        data = load_dataset("digits")
        oracle = SimulatedOracle(data.x_train, data.y_train)
        labels = oracle.label(waiting[: BUDGET // 2])
        assert state.submit_labels(labels) == BUDGET // 2
        assert state.submit_labels(labels) == 0  # importing twice stores nothing twice
        with pytest.raises(StateError, match="no such item"):
            state.submit_labels([LabeledSample("device-00000", "not-released", 1)])
        assert len(state.label_pairs()) == BUDGET // 2
    results = run_phase(grid, db, "train", labeler=QueueLabeler())
    assert [(r.round, r.labels, r.new_labels) for r in results] == [(1, BUDGET // 2, BUDGET // 2)]
    assert device_label_count(grid) == BUDGET // 2
    with CampaignState(db) as state:
        rest = oracle.label(state.pending())
        state.submit_labels(rest)
    # The late labels ride along with the next round (caught up at its query); "all" then
    # stops, because round 2's items wait for annotators.
    assert run_phase(grid, db, "all", labeler=QueueLabeler()) == []
    assert device_label_count(grid) == BUDGET
    with CampaignState(db) as state:
        assert state.open_selection()[:2] == (2, "selected") and state.queue_counts()[2]["waiting"] == BUDGET
    results = run_phase(grid, db, "train", labeler=QueueLabeler())  # nobody labeled: the round closes as is
    assert [(r.round, r.labels, r.new_labels) for r in results] == [(2, BUDGET, BUDGET - BUDGET // 2)]


def test_deliver_with_no_open_round_sends_labels_that_came_late(grid: InProcessGrid, tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    run_phase(grid, db, "select", labeler=QueueLabeler())
    run_phase(grid, db, "train", labeler=QueueLabeler())  # round 1 closes with no label
    data = load_dataset("digits")
    with CampaignState(db) as state:
        state.submit_labels(SimulatedOracle(data.x_train, data.y_train).label(state.pending()))
    assert run_phase(grid, db, "deliver", labeler=QueueLabeler()) == []
    assert device_label_count(grid) == BUDGET
    with CampaignState(db) as state:
        assert not state.undelivered()


def test_phases_that_do_not_fit_the_state_are_refused(grid: InProcessGrid, tmp_path: Path) -> None:
    with pytest.raises(PhaseError, match="no round is waiting"):
        run_phase(grid, tmp_path / "s.db", "deliver")
    with pytest.raises(ConfigError, match="phase"):
        Campaign(grid, CampaignConfig(**CFG), QueueLabeler(), phase="train")  # no state store
    with pytest.raises(ConfigError, match="phase"):
        Campaign(grid, CampaignConfig(**CFG), QueueLabeler(), state=CampaignState(tmp_path / "t.db"), phase="bogus")
    # Selecting again while a round is open does not start another one.
    run_phase(grid, tmp_path / "u.db", "select")
    run_phase(grid, tmp_path / "u.db", "select")
    with CampaignState(tmp_path / "u.db") as state:
        assert [r for r, _, _ in state.selections()] == [1]
