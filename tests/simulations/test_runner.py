"""What a simulation reports beyond its round results: which pool rows it labeled."""

from __future__ import annotations

from fedsift.server import CampaignConfig
from fedsift.simulations import SimulationConfig, load_dataset, run_simulation


def test_labeled_rows_follow_the_rounds_and_lie_in_the_devices_pools() -> None:
    cfg = SimulationConfig(dataset="digits", clients=3, alpha=0.5,
                           campaign=CampaignConfig(rounds=2, budget=9, strategy="margin", seed=5, cold_start_rounds=1,
                                                   train_rounds=1, warmup_train_rounds=0))
    res = run_simulation(cfg)
    assert [len(rows) for rows in res.labeled_rows] == [r.labels for r in res.rounds] == [0, 9, 18]
    last = res.labeled_rows[-1]
    assert len(set(last)) == len(last)  # no row labeled twice
    assert res.labeled_rows[1] == last[:9]  # cumulative, in order
    data = load_dataset("digits")
    assert all(0 <= r < data.x_train.shape[0] for r in last)


def test_on_model_hands_each_published_model_once_even_when_the_reward_evaluates_it_again() -> None:
    """auto's "test" reward evaluates the previous model a second time: it is not handed twice."""
    from fedsift.server import TestSetEvaluator

    models: list[bytes] = []
    cfg = SimulationConfig(dataset="digits", clients=3, alpha=0.5,
                           campaign=CampaignConfig(rounds=3, budget=9, strategy="auto", seed=5, cold_start_rounds=1,
                                                   train_rounds=1, warmup_train_rounds=0, auto_reward="test"))
    res = run_simulation(cfg, on_model=models.append)
    assert len(models) == len(res.rounds) == 4  # the initial model, then one per round
    data = load_dataset("digits")
    test = TestSetEvaluator(data.x_test, data.y_test)
    assert [test.evaluate(m).accuracy for m in models] == [r.accuracy for r in res.rounds]


def test_strategy_names_are_checked_before_anything_runs() -> None:
    import pytest

    from fedsift.simulations import SimulationError

    def sim(**kw: object) -> SimulationConfig:
        return SimulationConfig(dataset="digits", clients=3, campaign=CampaignConfig(**kw))  # type: ignore[arg-type]

    assert sim(strategy="round-robin").validate().campaign.strategy == "round-robin"
    with pytest.raises(SimulationError, match="unknown strategy 'marginn'; choose auto or round-robin or one of"):
        sim(strategy="marginn").validate()
    with pytest.raises(SimulationError, match="unknown auto arm 'auto'"):  # the bandit is not one of its own arms
        sim(auto_arms=["hybrid", "auto"]).validate()
