"""The centralized AL reference and the scikit-activeml peer on tiny schedules."""

from __future__ import annotations

import numpy as np
import pytest

from fedsift.server import CampaignConfig
from fedsift.simulations import SimulationError, load_dataset
from fedsift.simulations.central import (
    CentralTraining,
    full_data_accuracy,
    initial_labels,
    retrain_on_picks,
    run_central,
    run_peer,
)

FAST = CentralTraining(epochs=2, min_steps=10)


def tiny(strategy: str = "margin", seed: int = 0, rounds: int = 3) -> CampaignConfig:
    return CampaignConfig(strategy=strategy, budget=10, rounds=rounds, cold_start_rounds=1, seed=seed)


@pytest.mark.parametrize("strategy", ["margin", "hybrid", "qbc", "bald"])
def test_central_curve_has_one_point_per_round(strategy: str) -> None:
    curve = run_central(load_dataset("digits"), tiny(strategy), FAST)
    assert [p.round for p in curve] == [0, 1, 2, 3]
    assert [p.labels for p in curve] == [0, 10, 20, 30]
    assert all(0.0 <= p.accuracy <= 1.0 for p in curve)


def test_central_is_deterministic_and_shares_the_cold_start() -> None:
    data = load_dataset("digits")
    a = run_central(data, tiny("margin", seed=1), FAST)
    assert a == run_central(data, tiny("margin", seed=1), FAST)
    # same random first round and same init: the first trained models are identical
    assert run_central(data, tiny("entropy", seed=1), FAST)[1] == a[1]
    first = initial_labels(data, tiny(seed=1))
    assert len(first) == 1 and len(np.unique(first[0])) == 10


def test_central_rejects_a_schedule_larger_than_the_pool() -> None:
    data = load_dataset("digits")
    with pytest.raises(SimulationError, match="budget \\* rounds"):
        run_central(data, CampaignConfig(budget=1000, rounds=2))


def test_full_data_ceiling_on_digits_is_high() -> None:
    cfg = CampaignConfig(seed=2)
    assert full_data_accuracy(load_dataset("digits"), cfg, CentralTraining(epochs=4, min_steps=0)) > 0.9


@pytest.mark.parametrize("method", ["random", "margin"])
def test_peer_follows_the_same_schedule(method: str) -> None:
    pytest.importorskip("skactiveml")
    curve = run_peer(load_dataset("digits"), tiny(seed=3), method)
    assert [p.labels for p in curve] == [10, 20, 30]
    assert all(0.0 <= p.accuracy <= 1.0 for p in curve)


def test_peer_rejects_unknown_method() -> None:
    with pytest.raises(SimulationError, match="peer method"):
        run_peer(load_dataset("digits"), tiny(), "badge")


def test_retraining_on_the_central_picks_gives_the_central_curve() -> None:
    """retrain_on_picks trains exactly as run_central does: on run_central's own picks the curves match."""
    data = load_dataset("digits")
    cfg = CampaignConfig(strategy="random", budget=10, rounds=3, cold_start_rounds=3, seed=4)
    cold = initial_labels(data, cfg)
    picks = [[]] + [np.concatenate(cold[:r]).tolist() for r in range(1, 4)]
    assert retrain_on_picks(data, cfg, picks, FAST) == run_central(data, cfg, FAST)


def test_retraining_rejects_rows_outside_the_pool() -> None:
    data = load_dataset("digits")
    with pytest.raises(SimulationError, match="round 1: picked rows"):
        retrain_on_picks(data, CampaignConfig(), [[], [data.x_train.shape[0]]], FAST)
