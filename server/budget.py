"""How many labels to ask for this round, and when to stop the campaign.

The budget is chosen, not fixed: the smallest of the per-round cap, what the
annotators can label in a round minus the queue backlog (back-pressure), and what is
left of the campaign's total budget. The stopping rule ends the campaign when the
accuracy gain per 100 labels, measured on the held-out random slice, stays below a
threshold for ``patience`` rounds. Every decision carries its reasons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class BudgetConfig:
    """Budget planner settings.

    Parameters
    ----------
    per_round : int
        Most labels asked for in one round.
    total : int
        Labels for the whole campaign (0 = no limit).
    annotators, labels_per_annotator : int
        Labeling capacity per round (0 annotators = unlimited).
    min_gain_per_100 : float
        Stop when validation accuracy grows less than this many points (percentage
        points) per 100 labels (0 = never).
    patience : int
        Rounds in a row below the threshold before stopping.
    """

    per_round: int = 20
    total: int = 0
    annotators: int = 0
    labels_per_annotator: int = 0
    min_gain_per_100: float = 0.0
    patience: int = 3


@dataclass
class BudgetDecision:
    """The round's budget, whether to stop, and why."""

    budget: int
    stop: bool
    reasons: list[str] = field(default_factory=list)


class BudgetPlanner:
    """Choose each round's budget from capacity, backlog, money left and measured gain."""

    def __init__(self, config: BudgetConfig) -> None:
        self.cfg = config
        self.spent = 0
        self.history: list[tuple[int, float]] = []  # (labels, validation accuracy)
        self.low_rounds = 0

    def observe(self, labels: int, validation_accuracy: float) -> None:
        """Record the campaign's labels and validation accuracy after a round."""
        self.spent = labels
        if math.isnan(validation_accuracy):
            return
        if self.history:
            prev_labels, prev_acc = self.history[-1]
            if labels > prev_labels:
                gain = 1e4 * (validation_accuracy - prev_acc) / (labels - prev_labels)
                self.low_rounds = self.low_rounds + 1 if gain < self.cfg.min_gain_per_100 else 0
        self.history.append((labels, validation_accuracy))

    def gain_per_100(self) -> float:
        """Latest validation gain in accuracy points per 100 labels (NaN before two measurements)."""
        if len(self.history) < 2:
            return float("nan")
        (l0, a0), (l1, a1) = self.history[-2], self.history[-1]
        return 1e4 * (a1 - a0) / (l1 - l0) if l1 > l0 else float("nan")

    def plan(self, backlog: int = 0) -> BudgetDecision:
        """The next round's budget."""
        cfg = self.cfg
        budget, reasons = cfg.per_round, [f"per-round cap {cfg.per_round}"]
        if cfg.annotators > 0:
            capacity = max(cfg.annotators * cfg.labels_per_annotator - backlog, 0)
            reasons.append(f"capacity {cfg.annotators}x{cfg.labels_per_annotator} - backlog {backlog} = {capacity}")
            budget = min(budget, capacity)
        if cfg.total > 0:
            left = max(cfg.total - self.spent, 0)
            reasons.append(f"total budget left {left}")
            budget = min(budget, left)
        stop = False
        if cfg.min_gain_per_100 > 0:
            g = self.gain_per_100()
            reasons.append(f"validation gain {g:+.2f} points per 100 labels (threshold {cfg.min_gain_per_100}, "
                           f"{self.low_rounds}/{cfg.patience} rounds below)")
            if self.low_rounds >= cfg.patience:
                stop = True
                reasons.append("stopping: gain below threshold for patience rounds")
        if budget == 0 and cfg.total > 0 and self.spent >= cfg.total:
            stop = True
            reasons.append("stopping: total budget spent")
        return BudgetDecision(budget, stop, reasons)
