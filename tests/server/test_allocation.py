"""Allocation policies and the random slice on hand-made summaries."""

from __future__ import annotations

import numpy as np
import pytest

from fedsift.protocols import Summary
from fedsift.server import UnknownPolicyError, available_policies, get_policy, plan_allocation
from fedsift.server.allocation import draw_random_slice, largest_remainder


def summ(dev: str, pool: int, scores: list[float], random_ids: list[str] | None = None) -> Summary:
    k = len(scores)
    return Summary(round=1, model_version=0, device_id=dev, pool_size=pool, labeled_count=0, consented_count=pool,
                   histogram=np.zeros(3, np.int64), hist_range=(0.0, 1.0), class_counts=np.zeros(2, np.int64),
                   candidate_ids=[f"{dev}-{i}" for i in range(k)], scores=np.array(scores, np.float32),
                   sketches=np.zeros((k, 0), np.float32), random_ids=random_ids or [])


def test_global_topk_takes_the_best_scores_anywhere() -> None:
    s = [summ("a", 10, [0.9, 0.2]), summ("b", 10, [0.95, 0.8, 0.1])]
    picks = get_policy("global_topk").allocate(s, 3, set(), np.random.default_rng(0))
    assert [(p.device_id, p.candidate_id) for p in picks] == [("b", "b-0"), ("a", "a-0"), ("b", "b-1")]


def test_proportional_follows_pool_sizes() -> None:
    s = [summ("a", 300, [0.1] * 10), summ("b", 100, [0.9] * 10)]
    picks = get_policy("proportional").allocate(s, 8, set(), np.random.default_rng(0))
    counts = {d: sum(p.device_id == d for p in picks) for d in "ab"}
    assert counts == {"a": 6, "b": 2}


def test_proportional_moves_quota_of_a_short_device() -> None:
    s = [summ("a", 1000, [0.5]), summ("b", 10, [0.5] * 10)]
    picks = get_policy("proportional").allocate(s, 6, set(), np.random.default_rng(0))
    assert sum(p.device_id == "a" for p in picks) == 1 and len(picks) == 6


def test_largest_remainder_sums_and_respects_caps() -> None:
    q = largest_remainder(np.array([1.0, 1.0, 1.0]), 10, np.array([10, 10, 2]))
    assert q.sum() == 10 and q[2] <= 2
    assert largest_remainder(np.array([1.0, 1.0]), 10, np.array([2, 3])).tolist() == [2, 3]


def test_random_slice_is_uniform_over_pools() -> None:
    s = [summ("a", 900, [], [f"ra{i}" for i in range(5)]), summ("b", 100, [], [f"rb{i}" for i in range(5)])]
    draws = [draw_random_slice(s, 1, np.random.default_rng(seed))[0].device_id for seed in range(2000)]
    share_a = draws.count("a") / len(draws)
    assert 0.87 < share_a < 0.93


def test_plan_spends_the_budget_with_a_disjoint_random_slice() -> None:
    s = [summ("a", 50, [0.9, 0.8, 0.7, 0.6, 0.5], ["a-0", "ra"]), summ("b", 50, [0.4, 0.3, 0.2, 0.1, 0.05], ["rb", "b-1"])]
    alloc = plan_allocation(s, 8, "global_topk", 0.25, np.random.default_rng(0))
    keys = [(p.device_id, p.candidate_id) for p in alloc.picks]
    assert len(keys) == 8 == len(set(keys))
    assert sum(p.reason == "random-slice" for p in alloc.picks) == 2


def test_unknown_policy_is_named() -> None:
    assert {"global_topk", "proportional"} <= set(available_policies())
    with pytest.raises(UnknownPolicyError, match="'best'.*proportional"):
        get_policy("best")
