"""Budget planner: capacity, back-pressure, money left, and the stopping rule."""

from __future__ import annotations

from fedsift.server.budget import BudgetConfig, BudgetPlanner


def test_budget_is_the_smallest_of_cap_capacity_and_money_left() -> None:
    p = BudgetPlanner(BudgetConfig(per_round=50, total=120, annotators=2, labels_per_annotator=20))
    d = p.plan(backlog=5)
    assert d.budget == 35 and not d.stop
    assert any("backlog 5" in r for r in d.reasons)
    p.observe(100, float("nan"))
    assert p.plan().budget == 20
    p.observe(120, float("nan"))
    d = p.plan()
    assert d.budget == 0 and d.stop and any("total budget spent" in r for r in d.reasons)


def test_back_pressure_can_pause_a_round() -> None:
    p = BudgetPlanner(BudgetConfig(per_round=50, annotators=1, labels_per_annotator=30))
    assert p.plan(backlog=40).budget == 0


def test_stopping_rule_needs_patience_rounds_below_threshold() -> None:
    p = BudgetPlanner(BudgetConfig(per_round=100, min_gain_per_100=1.0, patience=2))
    p.observe(100, 0.50)
    p.observe(200, 0.60)   # +10 points per 100 labels
    assert not p.plan().stop
    p.observe(300, 0.605)  # +0.5 per 100: below
    assert not p.plan().stop
    p.observe(400, 0.606)  # below again: stop
    d = p.plan()
    assert d.stop and any("stopping" in r for r in d.reasons)
    assert abs(p.gain_per_100() - 0.1) < 1e-9


def test_a_good_round_resets_the_patience_counter() -> None:
    p = BudgetPlanner(BudgetConfig(per_round=100, min_gain_per_100=1.0, patience=2))
    for labels, acc in [(100, 0.5), (200, 0.501), (300, 0.6), (400, 0.601)]:
        p.observe(labels, acc)
    assert not p.plan().stop
