"""Which acquisition strategy the devices use each round: fixed, or learned (``auto``).

``auto`` treats strategies as arms of a discounted-UCB bandit. After each round the
gain of the arm played is the improvement of the new model over the previous one,
both evaluated on the same fresh random slice (a paired difference). Discounting
lets it follow the shifting best arm as the labeled set grows: uncertainty sampling
that hurts with a few hundred labels can win later, and the reverse.

Rewards can arrive a round late: the default (prequential) reward judges round r's
arm on round r+1's fresh random slice, which is labeled after round r+1's strategy has
been chosen. An unrewarded arm played in the previous round is therefore awaiting its
reward, not untried: the next untried arm is played, or, when none is left, the best of
the arms already rewarded. Otherwise every arm would be played twice running before the
bandit learns anything (measured: two BADGE rounds in a row cost ``auto`` about a point
on MNIST-1D). A reward that never comes (a round whose slice is empty) makes the arm
untried again a round later, so it is not shut out.

Gains shrink as labels grow, whatever the arm, so the raw mean gain of an arm last
played early would keep it looking better than arms played since. Once there are a
few gains more than arms, each arm's value is instead read off a small weighted
least-squares model fitted to every gain so far: one offset per arm plus a shared
decline in ``1 / play``, weighted by the same discount. The value is that model's
gain for playing the arm next; arms are compared at the same point of the campaign.

References
----------
Garivier & Moulines, "On Upper-Confidence Bound Policies for Switching Bandit
Problems", ALT 2011; Hsu & Lin, "Active Learning by Learning", AAAI 2015;
Baram, El-Yaniv & Luz, "Online Choice of Active Learning Algorithms", JMLR 2004.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

logger = logging.getLogger(__name__)

AUTO = "auto"
ROUND_ROBIN = "round-robin"
DEFAULT_ARMS = ("hybrid", "badge")
SELECTORS = (AUTO, ROUND_ROBIN)  # campaign strategies that choose among device strategies each round


@dataclass
class StrategyChoice:
    """The strategy for one round and why."""

    strategy: str
    reason: str


class FixedStrategy:
    """Always the same strategy (after the cold start)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def choose(self, rnd: int) -> StrategyChoice:
        return StrategyChoice(self.name, "fixed by configuration")

    def played(self, strategy: str, rnd: int) -> None:
        """Fixed choice: nothing to remember."""

    def reward(self, strategy: str, gain: float) -> None:
        """Fixed choice: rewards are only logged."""


@dataclass
class _Arm:
    weight: float = 0.0   # discounted number of plays
    total: float = 0.0    # discounted sum of rewards


@dataclass
class AutoStrategy:
    """Discounted UCB over strategy arms; paired validation gains, compared through a shared-trend fit.

    Parameters
    ----------
    arms : tuple of str
        Candidate strategies (registered device-side names).
    discount : float
        Weight of a reward one round older (1 = no forgetting).
    exploration : float
        UCB bonus scale, in accuracy points.
    detrend : bool
        Compare arms through the shared-trend model (see the module docstring) instead
        of their raw discounted mean gains.
    """

    arms: tuple[str, ...] = DEFAULT_ARMS
    discount: float = 0.9
    exploration: float = 0.02
    detrend: bool = True
    stats: dict[str, _Arm] = field(default_factory=dict)
    history: list[tuple[str, float]] = field(default_factory=list)
    last_played: dict[str, int] = field(default_factory=dict)  # the latest round each arm was played in

    def __post_init__(self) -> None:
        self.stats = {a: _Arm() for a in self.arms}

    def choose(self, rnd: int) -> StrategyChoice:
        untried = [a for a in self.arms if self.stats[a].weight == 0]
        # unrewarded and played last round: its reward is due during this round
        awaiting = [a for a in untried if self.last_played.get(a) == rnd - 1]
        unplayed = [a for a in untried if a not in awaiting]
        if unplayed:
            arm = unplayed[0]
            again = self.last_played.get(arm, rnd) < rnd
            self.played(arm, rnd)
            return StrategyChoice(arm, "auto: its earlier play brought no reward; played again" if again
                                  else "auto: first play of this arm")
        rewarded = [a for a in self.arms if self.stats[a].weight > 0]
        if not rewarded:  # every arm is awaiting its first reward (a single arm): play it again
            self.played(awaiting[0], rnd)
            return StrategyChoice(awaiting[0], "auto: no reward yet")
        total = sum(s.weight for s in self.stats.values())
        values = self.values()
        best, best_value, detail = rewarded[0], -math.inf, []
        if awaiting:
            detail.append(f"awaiting the first reward of {', '.join(awaiting)}")
        for a in rewarded:
            s = self.stats[a]
            mean = values[a]
            bonus = self.exploration * math.sqrt(2 * math.log(max(total, 1.0 + 1e-9)) / s.weight)
            detail.append(f"{a}: mean reward {mean:+.4f} + bonus {bonus:.4f}")
            if mean + bonus > best_value:
                best, best_value = a, mean + bonus
        return StrategyChoice(best, "auto (discounted UCB): " + "; ".join(detail))

    def played(self, strategy: str, rnd: int) -> None:
        """Note that round ``rnd`` played ``strategy`` (a resumed campaign replays its finished rounds)."""
        if strategy in self.stats:
            self.last_played[strategy] = max(rnd, self.last_played.get(strategy, rnd))

    def reward(self, strategy: str, gain: float) -> None:
        """Record the validation gain of the round played with ``strategy``."""
        if strategy not in self.stats or math.isnan(gain):
            return
        for s in self.stats.values():
            s.weight *= self.discount
            s.total *= self.discount
        self.stats[strategy].weight += 1.0
        self.stats[strategy].total += gain
        self.history.append((strategy, gain))
        logger.info("auto: %s gained %+.4f on the validation slice", strategy, gain)

    def values(self) -> dict[str, float]:
        """Each played arm's estimated gain if played next (raw discounted means before the fit)."""
        raw = {a: s.total / s.weight for a, s in self.stats.items() if s.weight > 0}
        n = len(self.history)
        if not self.detrend or n < len(self.arms) + 2 or len(raw) < len(self.arms):
            return raw
        # Weighted least squares: gain_i = offset[arm_i] + slope / i, weights discount^(n - i).
        col = {a: j for j, a in enumerate(self.arms)}
        x = np.zeros((n, len(self.arms) + 1))
        y = np.empty(n)
        for i, (arm, gain) in enumerate(self.history):
            x[i, col[arm]] = 1.0
            x[i, -1] = 1.0 / (i + 1)
            y[i] = gain
        w = np.sqrt(self.discount ** np.arange(n - 1, -1, -1, dtype=float))
        coef, *_ = np.linalg.lstsq(x * w[:, None], y * w, rcond=None)
        if not np.all(np.isfinite(coef)):
            return raw
        return {a: float(coef[col[a]] + coef[-1] / (n + 1)) for a in self.arms}


@dataclass
class RoundRobin:
    """The ``auto`` arms in turn, one a round, whatever they gain: the bandit's no-learning baseline.

    The arm of round ``rnd`` is ``arms[rnd % len(arms)]``, so a restarted campaign plays
    the same arm it would have played.
    """

    arms: tuple[str, ...] = DEFAULT_ARMS

    def choose(self, rnd: int) -> StrategyChoice:
        return StrategyChoice(self.arms[rnd % len(self.arms)], "round-robin over the auto arms")

    def played(self, strategy: str, rnd: int) -> None:
        """Round-robin's arm follows from the round number alone."""

    def reward(self, strategy: str, gain: float) -> None:
        """Round-robin does not learn: rewards are only logged."""


Selector = FixedStrategy | AutoStrategy | RoundRobin


def make_selector(name: str, arms: tuple[str, ...] = DEFAULT_ARMS) -> Selector:
    """``auto`` gives the bandit, ``round-robin`` cycles through ``arms``, any other name is a fixed strategy."""
    if name == AUTO:
        return AutoStrategy(arms=arms)
    if name == ROUND_ROBIN:
        return RoundRobin(arms=arms)
    return FixedStrategy(name)
