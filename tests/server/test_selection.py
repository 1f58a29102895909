"""The adaptive strategy learns which arm gains most on the validation slice."""

from __future__ import annotations

import numpy as np

from fedsift.server.selection import AutoStrategy, FixedStrategy, make_selector


def test_fixed_strategy_never_changes() -> None:
    s = make_selector("margin")
    assert isinstance(s, FixedStrategy)
    assert {s.choose(r).strategy for r in range(5)} == {"margin"}


def test_auto_tries_every_arm_then_prefers_the_best() -> None:
    rng = np.random.default_rng(0)
    gains = {"good": 0.03, "bad": -0.01, "meh": 0.005}
    auto = AutoStrategy(arms=("bad", "meh", "good"), discount=0.95, exploration=0.01)
    plays = []
    for r in range(30):
        arm = auto.choose(r).strategy
        plays.append(arm)
        auto.reward(arm, gains[arm] + rng.normal(0, 0.005))
    assert plays[:3] == ["bad", "meh", "good"]
    assert plays[10:].count("good") >= 15
    assert "mean gain" in auto.choose(31).reason


def test_auto_follows_a_switch_in_the_best_arm() -> None:
    auto = AutoStrategy(arms=("a", "b"), discount=0.7, exploration=0.005)
    for r in range(12):
        arm = auto.choose(r).strategy
        auto.reward(arm, 0.02 if arm == "a" else 0.0)
    assert auto.choose(12).strategy == "a"
    late = []
    for r in range(12, 40):
        arm = auto.choose(r).strategy
        late.append(arm)
        auto.reward(arm, 0.0 if arm == "a" else 0.02)
    assert late[-10:].count("b") >= 8


def test_nan_reward_is_ignored() -> None:
    auto = AutoStrategy(arms=("a",))
    auto.reward("a", float("nan"))
    assert auto.stats["a"].weight == 0
