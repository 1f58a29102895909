"""The adaptive strategy learns which arm gains most on the validation slice."""

from __future__ import annotations

import numpy as np
import pytest

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
    assert "mean reward" in auto.choose(31).reason


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


TRENDS = {"1/r": lambda r: 0.2 / r, "1/sqrt(r)": lambda r: 0.1 / r ** 0.5, "0.8^r": lambda r: 0.1 * 0.8 ** r}


def _plays_under_a_shrinking_trend(detrend: bool, trend: str) -> list[str]:
    """Every round's gain shrinks whatever the arm; "good" is 0.004 above the trend, "bad" 0.004 below."""
    auto = AutoStrategy(arms=("bad", "good"), discount=0.9, exploration=0.002, detrend=detrend)
    plays = []
    for r in range(1, 25):
        arm = auto.choose(r).strategy
        plays.append(arm)
        auto.reward(arm, TRENDS[trend](r) + (0.004 if arm == "good" else -0.004))
    return plays


@pytest.mark.parametrize("trend", list(TRENDS))  # the model's own 1/play shape, and two it does not have
def test_auto_measures_rewards_against_the_shrinking_trend(trend: str) -> None:
    """Raw gains favour whichever arm was played earliest; the shared-trend model removes that."""
    fitted = _plays_under_a_shrinking_trend(True, trend)
    raw = _plays_under_a_shrinking_trend(False, trend)
    assert fitted[:2] == raw[:2] == ["bad", "good"]
    assert fitted[6:].count("good") >= 15
    assert raw[6:].count("good") < fitted[6:].count("good")


def test_round_robin_cycles_the_arms_whatever_they_gain() -> None:
    from fedsift.server.selection import RoundRobin

    rr = make_selector("round-robin", ("a", "b", "c"))
    assert isinstance(rr, RoundRobin)
    plays = []
    for r in range(2, 8):
        arm = rr.choose(r).strategy
        plays.append(arm)
        rr.reward(arm, 1.0 if arm == "a" else -1.0)
    assert plays == ["c", "a", "b", "c", "a", "b"]
    assert make_selector("round-robin", ("a", "b", "c")).choose(5).strategy == rr.choose(5).strategy  # restart-safe


def test_an_arm_awaiting_its_first_reward_is_not_played_again() -> None:
    """The campaign's reward for round r's arm comes in during round r+1, after r+1 has chosen.

    Without counting such an arm as tried, every arm would be played twice running before
    the bandit learned anything (two BADGE rounds in a row cost about a point on MNIST-1D).
    """
    gains = {"a": 0.01, "b": 0.03, "c": 0.0}
    auto = AutoStrategy(arms=("a", "b", "c"), exploration=0.0)
    plays: list[str] = []
    reasons: list[str] = []
    for r in range(2, 9):
        choice = auto.choose(r)
        assert auto.choose(r).strategy == choice.strategy  # asking again for the same round: the same answer
        if plays:  # last round's arm is rewarded during this round, after the choice
            auto.reward(plays[-1], gains[plays[-1]])
        plays.append(choice.strategy)
        reasons.append(choice.reason)
    assert plays[:3] == ["a", "b", "c"]  # each arm once, not a, a, b, b, c, c
    # round 5: c's first reward is still out, so the best of the rewarded arms, then b throughout
    assert plays[3:] == ["b", "b", "b", "b"]
    assert "awaiting the first reward of c" in reasons[3] and "awaiting" not in reasons[4]


def test_a_resumed_campaign_knows_which_arms_it_already_played() -> None:
    auto = AutoStrategy(arms=("a", "b"))
    auto.played("a", 2)  # replayed from the state store: round 2 played a, its reward not yet in
    assert auto.choose(3).strategy == "b"
    no_rewards = AutoStrategy(arms=("a", "b"))  # rewards that never come (no random slice)
    choices = [no_rewards.choose(r) for r in (2, 3, 4, 5)]
    assert [c.strategy for c in choices] == ["a", "b", "a", "b"]  # the arms in turn
    assert "brought no reward; played again" in choices[2].reason
    single = AutoStrategy(arms=("a",))
    assert single.choose(2).strategy == "a" and "no reward yet" in single.choose(3).reason


def test_an_arm_whose_first_reward_never_comes_is_played_again() -> None:
    """A round whose random slice is empty gives no reward: the arm must not be shut out for good."""
    auto = AutoStrategy(arms=("a", "b"), exploration=0.0)
    assert auto.choose(2).strategy == "a"
    assert auto.choose(3).strategy == "b"  # a awaits its reward, due during round 3 ... which never comes
    auto.reward("b", 0.05)  # round 4: b's reward arrives
    choice = auto.choose(4)
    assert choice.strategy == "a" and "brought no reward; played again" in choice.reason  # untried again
    auto.reward("a", float("nan"))  # a NaN gain counts as none: a is untried again the round after next
    assert auto.choose(5).strategy == "b" and "awaiting the first reward of a" in auto.choose(5).reason
    assert auto.choose(6).strategy == "a"
