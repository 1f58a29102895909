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


def test_uncertainty_mass_follows_histograms() -> None:
    a, b = summ("a", 100, [0.5] * 10), summ("b", 100, [0.5] * 10)
    from dataclasses import replace
    a = replace(a, histogram=np.array([0, 0, 90], np.int64), hist_range=(0.0, 1.0))   # mass near 1
    b = replace(b, histogram=np.array([90, 0, 0], np.int64), hist_range=(0.0, 1.0))   # mass near 0
    picks = get_policy("uncertainty_mass").allocate([a, b], 6, set(), np.random.default_rng(0))
    assert sum(p.device_id == "a" for p in picks) == 5


def test_diversity_skips_cross_device_near_duplicates() -> None:
    from dataclasses import replace
    a = replace(summ("a", 10, [0.9, 0.8]), sketches=np.array([[0.0, 0.0], [5.0, 5.0]], np.float32))
    b = replace(summ("b", 10, [0.85, 0.1]), sketches=np.array([[0.01, 0.0], [-5.0, 5.0]], np.float32))
    picks = get_policy("diversity").allocate([a, b], 3, set(), np.random.default_rng(0))
    ids = [p.candidate_id for p in picks]
    assert ids[0] == "a-0" and "b-0" not in ids  # b-0 is a near-duplicate of a-0 on another device
    assert set(ids) == {"a-0", "a-1", "b-1"}


def _near_duplicates_and_a_far_one() -> tuple[Summary, Summary]:
    """a-0, a-1 and b-0 near one another, best scores first; b-1 far away with the worst score."""
    from dataclasses import replace

    a = replace(summ("a", 10, [0.9, 0.8]), sketches=np.array([[0.0, 0.0], [0.01, 0.0]], np.float32))
    b = replace(summ("b", 10, [0.7, 0.1]), sketches=np.array([[0.02, 0.0], [10.0, 0.0]], np.float32))
    return a, b


def test_the_kcenter_shortlist_trades_scores_for_spread() -> None:
    """Factor 1 is global top-k; a wider shortlist reaches a far, lower-scored candidate over a near-duplicate."""
    from fedsift.server import CampaignConfig
    from fedsift.server.errors import ConfigError

    a, b = _near_duplicates_and_a_far_one()

    def picked(factor: int) -> list[str]:
        alloc = plan_allocation([a, b], 2, "diversity", 0.0, np.random.default_rng(0), shortlist_factor=factor)
        return [p.candidate_id for p in alloc.picks]

    assert picked(1) == ["a-0", "a-1"]  # the two best scores, near-duplicates
    assert picked(2) == ["a-0", "b-1"]  # all four shortlisted: the far one
    assert get_policy("diversity", shortlist_factor=8).shortlist_factor == 8
    assert get_policy("pool-diversity", shortlist_factor=8).shortlist_factor == 8
    assert get_policy("diversity").shortlist_factor == 4
    assert plan_allocation([a, b], 2, "global_topk", 0.0, np.random.default_rng(0), shortlist_factor=8).picks
    with pytest.raises(ConfigError, match="kcenter_shortlist' = 0: must be in \\[1, 64\\]"):
        get_policy("diversity", shortlist_factor=0)
    cfg = CampaignConfig(num_features=4, num_classes=2, kcenter_shortlist=65)
    with pytest.raises(ConfigError, match="kcenter_shortlist"):
        cfg.validate()


def test_the_cold_start_rounds_can_keep_a_shortlist_of_their_own() -> None:
    """``cold_start_shortlist`` sets the cold-start rounds' factor; 0 leaves them on ``kcenter_shortlist``."""
    from fedsift.server import CampaignConfig
    from fedsift.server.errors import ConfigError
    from fedsift.server.waves import RoundWaves

    a, b = _near_duplicates_and_a_far_one()

    def picked(rnd: int, **settings: int) -> list[str]:
        waves = RoundWaves()
        waves.cfg = CampaignConfig(num_features=2, num_classes=2, cold_start_rounds=2, allocation="diversity",
                                   cold_start_allocation="diversity", random_fraction=0.0, **settings).validate()
        waves.node_of = {}
        return [p.candidate_id for p in waves.plan(rnd, [a, b], 2).picks]

    # factor 1 keeps the near-duplicates a-0 and a-1; factor 2 reaches the far b-1
    assert picked(1, kcenter_shortlist=2) == picked(3, kcenter_shortlist=2) == ["a-0", "b-1"]
    assert picked(1, kcenter_shortlist=2, cold_start_shortlist=1) == ["a-0", "a-1"]
    assert picked(2, kcenter_shortlist=2, cold_start_shortlist=1) == ["a-0", "a-1"]
    assert picked(3, kcenter_shortlist=2, cold_start_shortlist=1) == ["a-0", "b-1"]  # after the cold start
    assert picked(1, kcenter_shortlist=1, cold_start_shortlist=2) == ["a-0", "b-1"]
    assert picked(3, kcenter_shortlist=1, cold_start_shortlist=2) == ["a-0", "a-1"]
    cfg = CampaignConfig(num_features=2, num_classes=2, kcenter_shortlist=8, cold_start_shortlist=4)
    assert [cfg.shortlist_in(r, 10) for r in (1, 2, 3)] == [4, 4, 8]
    assert CampaignConfig(kcenter_shortlist=8).shortlist_in(1, 10) == 8
    assert [CampaignConfig(cold_start_shortlist=4).shortlist_in(r, 50) for r in (1, 2, 3)] == [4, 4, 8]
    for bad in (-1, 65):
        with pytest.raises(ConfigError, match="cold_start_shortlist' = .*: must be 0 \\(= the selection rounds'"):
            CampaignConfig(num_features=2, num_classes=2, cold_start_shortlist=bad).validate()


def test_the_default_shortlist_widens_from_30_devices_heard_from() -> None:
    """``kcenter_shortlist`` 0: 4 below ``large_federation`` devices, 8 from it; a set width is kept.

    The server counts every device it has heard from, so a device whose pool ran dry (no
    summary this round) does not narrow the shortlist again.
    """
    from fedsift.server import CampaignConfig
    from fedsift.server.errors import ConfigError
    from fedsift.server.waves import RoundWaves

    cfg = CampaignConfig()
    assert cfg.kcenter_shortlist == 0 and cfg.large_federation == 30
    assert [cfg.shortlist_for(n) for n in (1, 10, 29, 30, 50, 10_000)] == [4, 4, 4, 8, 8, 8]
    assert [CampaignConfig(kcenter_shortlist=4).shortlist_for(n) for n in (10, 50)] == [4, 4]
    assert [CampaignConfig(kcenter_shortlist=8).shortlist_for(n) for n in (10, 50)] == [8, 8]
    assert [CampaignConfig(large_federation=2).shortlist_for(n) for n in (1, 2)] == [4, 8]
    for name, bad in (("kcenter_shortlist", -1), ("kcenter_shortlist", 65), ("large_federation", 0)):
        with pytest.raises(ConfigError, match=f"{name}' = {bad}: must be"):
            CampaignConfig(num_features=2, num_classes=2, **{name: bad}).validate()

    a, b = _near_duplicates_and_a_far_one()
    waves = RoundWaves()
    # a federation of 2 counts as large here: 8 x 1 label reaches the far b-1; 4 x 1 stops at a-1
    waves.cfg = CampaignConfig(num_features=2, num_classes=2, cold_start_rounds=0, allocation="diversity",
                               random_fraction=0.0, large_federation=2).validate()
    waves.node_of = {}
    assert waves.shortlist(1, [a]) == 4
    assert waves.shortlist(1, [a, b]) == 8
    waves.node_of = {"a": 1, "b": 2}  # b was heard from in an earlier round
    assert waves.shortlist(2, [a]) == 8
    waves.node_of = {f"d{i}": i for i in range(40)}
    waves.cfg.large_federation = 30
    assert waves.shortlist(3, [a, b]) == 8


def test_a_reallocation_keeps_the_campaigns_shortlist(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused items are re-spent with the round's own shortlist width, not the policy's default of 4."""
    from fedsift.server import Allocation, CampaignConfig
    from fedsift.server.waves import RoundWaves

    a, b = _near_duplicates_and_a_far_one()

    def respent(factor: int) -> list[str]:
        waves = RoundWaves()
        waves.cfg = CampaignConfig(num_features=2, num_classes=2, cold_start_rounds=0, allocation="diversity",
                                   random_fraction=0.0, kcenter_shortlist=factor).validate()
        waves.node_of, waves.dropped, waves.refusals = {"a": 1, "b": 2}, set(), []
        monkeypatch.setattr(waves, "request_labels", lambda rnd, alloc, rejected: ([], 0))
        allocation = Allocation(policy="diversity", budget=2, picks=[])
        waves.reallocate(2, [a, b], allocation, 2, [])
        return [p.candidate_id for p in allocation.picks]

    assert respent(1) == ["a-0", "a-1"]
    assert respent(2) == ["a-0", "b-1"]


def test_a_shortlist_share_keeps_the_score_filter_as_loose_with_many_offers() -> None:
    """The shortlist is the larger of factor x n and share x offers, never more than the offers."""
    from fedsift.server import CampaignConfig
    from fedsift.server.allocation import shortlist_size
    from fedsift.server.errors import ConfigError

    assert shortlist_size(10, 1000, 4, 0.0) == 40  # off: factor x n
    assert shortlist_size(10, 1000, 4, 0.35) == 350  # many offers: the share
    assert shortlist_size(10, 100, 4, 0.35) == 40  # few offers: factor x n is already wider
    assert shortlist_size(10, 30, 4, 0.35) == 30  # never more than the offers
    assert shortlist_size(10, 1001, 4, 0.35) == 351  # rounded up
    # the hand-made case above: factor 1 keeps the two best (near-duplicates); a share of
    # all four offers reaches the far one, as factor 2 does
    a, b = _near_duplicates_and_a_far_one()

    def picked(share: float) -> list[str]:
        alloc = plan_allocation([a, b], 2, "diversity", 0.0, np.random.default_rng(0), shortlist_factor=1,
                                shortlist_share=share)
        return [p.candidate_id for p in alloc.picks]

    assert picked(0.0) == picked(0.5) == ["a-0", "a-1"]  # half the offers is 2 = factor x n
    assert picked(0.75) == ["a-0", "b-0"]  # three offers: the farthest of the three best
    assert picked(1.0) == ["a-0", "b-1"]
    assert get_policy("diversity", shortlist_share=0.35).shortlist_share == 0.35
    assert get_policy("diversity").shortlist_share == 0.0
    assert plan_allocation([a, b], 2, "proportional", 0.0, np.random.default_rng(0), shortlist_share=0.5).picks
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ConfigError, match="kcenter_shortlist_share"):
            get_policy("diversity", shortlist_share=bad)
        with pytest.raises(ConfigError, match="kcenter_shortlist_share"):
            CampaignConfig(num_features=4, num_classes=2, kcenter_shortlist_share=bad).validate()


def test_the_cold_starts_pool_diversity_ignores_the_shortlist_share() -> None:
    """Widening the cold start's shortlist cost digits at 50 clients: the share is for ``diversity`` alone."""
    from dataclasses import replace
    rng = np.random.default_rng(0)
    a = replace(summ("a", 900, list(rng.random(100))), sketches=rng.normal(size=(100, 4)).astype(np.float32))
    b = replace(summ("b", 900, list(rng.random(100))), sketches=rng.normal(size=(100, 4)).astype(np.float32))
    assert len(get_policy("diversity", shortlist_share=0.5).shortlist([a, b], 5, set())) == 100
    policy = get_policy("pool-diversity", shortlist_factor=4, shortlist_share=0.5)
    assert len(policy.shortlist([a, b], 5, set())) == 20  # 4 x 5, not half of the 200 offers
    alloc = plan_allocation([a, b], 5, "pool-diversity", 0.0, np.random.default_rng(0), shortlist_share=0.5)
    assert alloc.picks == plan_allocation([a, b], 5, "pool-diversity", 0.0, np.random.default_rng(0)).picks
    from fedsift.server.allocation import PoolWeightedDiversity
    with pytest.raises(TypeError):  # built directly, it does not take a share it would ignore
        PoolWeightedDiversity(shortlist_share=0.5)  # type: ignore[call-arg]


def test_pool_diversity_shortlists_in_proportion_to_pools() -> None:
    from dataclasses import replace
    rng = np.random.default_rng(0)
    # equal offers (100 each) from pools of 900 and 100: plain k-center sees them half and half
    big = replace(summ("a", 900, list(rng.random(100))), sketches=rng.normal(size=(100, 4)).astype(np.float32))
    small = replace(summ("b", 100, list(rng.random(100))), sketches=rng.normal(size=(100, 4)).astype(np.float32))
    rows = get_policy("pool-diversity").shortlist([big, small], 20, set())
    assert len(rows) == 80 and sum(r[1] == "a" for r in rows) == 72  # 4 x 20, split 9:1
    assert [r[0] for r in rows] == sorted((r[0] for r in rows), reverse=True)  # best first
    picks = get_policy("pool-diversity").allocate([big, small], 20, set(), np.random.default_rng(0))
    assert len(picks) == 20 and {(p.device_id, p.candidate_id) for p in picks} <= {(r[1], r[2]) for r in rows}
    assert {p.reason for p in picks} == {"pool-weighted-diversity"}
    even = get_policy("pool-diversity").shortlist([big, replace(small, pool_size=900)], 20, set())
    assert sum(r[1] == "a" for r in even) == 40  # equal pools: an even split


def test_pool_diversity_shrinks_the_shortlist_to_fit_a_large_pool() -> None:
    from dataclasses import replace
    a = replace(summ("a", 9000, [0.5] * 10), sketches=np.eye(10, 3, dtype=np.float32))
    b = replace(summ("b", 1000, [0.5] * 10), sketches=np.eye(10, 3, dtype=np.float32))
    rows = get_policy("pool-diversity").shortlist([a, b], 5, set())
    # 20 would need 18 of a's 10 offers; 11 keeps the 9:1 split within them
    assert len(rows) == 11 and sum(r[1] == "a" for r in rows) == 10
    taken = {("a", f"a-{i}") for i in range(10)}
    assert {r[1] for r in get_policy("pool-diversity").shortlist([a, b], 5, taken)} == {"b"}
    assert get_policy("pool-diversity").allocate([replace(a, pool_size=0)], 5, set(), np.random.default_rng(0)) == []


def test_pool_diversity_skips_cross_device_near_duplicates() -> None:
    from dataclasses import replace
    a = replace(summ("a", 10, [0.9, 0.8]), sketches=np.array([[0.0, 0.0], [5.0, 5.0]], np.float32))
    b = replace(summ("b", 10, [0.85, 0.1]), sketches=np.array([[0.01, 0.0], [-5.0, 5.0]], np.float32))
    ids = [p.candidate_id for p in get_policy("pool-diversity").allocate([a, b], 3, set(), np.random.default_rng(0))]
    assert ids[0] == "a-0" and set(ids) == {"a-0", "a-1", "b-1"}


def test_diversity_over_10k_devices_runs() -> None:
    rng = np.random.default_rng(0)
    from dataclasses import replace
    many = [replace(summ(f"d{i}", 100, list(rng.random(20))), sketches=rng.normal(size=(20, 32)).astype(np.float32))
            for i in range(10_000)]
    alloc = plan_allocation(many, 200, "diversity", 0.1, rng)
    assert len(alloc.picks) == 200  # no random offers here: the policy spends the whole budget
    assert len({(p.device_id, p.candidate_id) for p in alloc.picks}) == 200


def test_per_device_cap_moves_budget_elsewhere() -> None:
    s = [summ("a", 10, [0.9] * 10), summ("b", 10, [0.1] * 10)]
    alloc = plan_allocation(s, 8, "global_topk", 0.0, np.random.default_rng(0), max_per_device=3)
    counts = {d: sum(p.device_id == d for p in alloc.picks) for d in "ab"}
    assert counts == {"a": 3, "b": 3}  # both capped: 6 of 8 spent


def test_normal_share_comes_from_random_offers_outside_the_slice() -> None:
    s = [summ("a", 50, [0.9] * 6, [f"ra{i}" for i in range(4)]), summ("b", 50, [0.8] * 6, [f"rb{i}" for i in range(4)])]
    alloc = plan_allocation(s, 10, "global_topk", 0.2, np.random.default_rng(0), normal_share=0.2)
    reasons = [p.reason for p in alloc.picks]
    assert reasons.count("random-slice") == 2 and reasons.count("normal-share") == 2
    assert len({(p.device_id, p.candidate_id) for p in alloc.picks}) == 10


def _grid(center: tuple[float, float]) -> np.ndarray:
    """A 5 x 5 grid of unit spacing around ``center``: its middle point is the most typical."""
    g = np.array([(x, y) for x in range(-2, 3) for y in range(-2, 3)], np.float32)
    return g + np.array(center, np.float32)


def _sketched(dev: str, points: np.ndarray, prefix: str) -> Summary:
    from dataclasses import replace
    s = summ(dev, 100, [0.5] * len(points))
    return replace(s, candidate_ids=[f"{prefix}{i}" for i in range(len(points))], sketches=points)


def test_typical_takes_the_middle_of_each_cluster_across_devices() -> None:
    pts = np.concatenate([_grid((0, 0)), _grid((100, 0)), [[0.0, 30.0]]]).astype(np.float32)
    ids = [f"p{i}" for i in range(len(pts))]  # p12 and p37 are the grids' middles, p50 the stray point
    order = np.random.default_rng(1).permutation(len(pts))
    devices = [_sketched(d, pts[part], "") for d, part in zip("abc", np.array_split(order, 3))]
    for s, part in zip(devices, np.array_split(order, 3)):
        s.candidate_ids[:] = [ids[i] for i in part]
    for seed in range(5):
        picks = get_policy("typical").allocate(devices, 2, set(), np.random.default_rng(seed))
        assert sorted(p.candidate_id for p in picks) == ["p12", "p37"]
        assert {p.reason for p in picks} == {"cold-start-typical"}
    # k-center greedy over the same candidates takes the stray point early (its shortlist is 4 n).
    far = get_policy("diversity").allocate(devices, 13, set(), np.random.default_rng(0))
    assert "p50" in [p.candidate_id for p in far][:3]


def test_typical_skips_taken_and_falls_back_without_sketches() -> None:
    pts = np.concatenate([_grid((0, 0)), _grid((100, 0))]).astype(np.float32)
    a = _sketched("a", pts, "q")
    picks = get_policy("typical").allocate([a], 2, {("a", "q12")}, np.random.default_rng(0))
    assert "q12" not in {p.candidate_id for p in picks} and "q37" in {p.candidate_id for p in picks}
    bare = summ("b", 100, [0.5] * 30)
    flat = get_policy("typical").allocate([bare], 5, set(), np.random.default_rng(0))
    assert len({p.candidate_id for p in flat}) == 5 and {p.reason for p in flat} == {"cold-start-uniform"}
    assert len(get_policy("typical").allocate([bare], 50, set(), np.random.default_rng(0))) == 30
    assert get_policy("typical").allocate([bare], 0, set(), np.random.default_rng(0)) == []
    assert get_policy("typical").allocate([], 3, set(), np.random.default_rng(0)) == []


def test_typical_subsamples_a_large_candidate_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from fedsift.server.allocation import TypicalOverSketches
    monkeypatch.setattr(TypicalOverSketches, "max_points", 200)
    rng = np.random.default_rng(0)
    from dataclasses import replace
    many = [replace(summ(f"d{i}", 100, list(rng.random(20))), sketches=rng.normal(size=(20, 8)).astype(np.float32))
            for i in range(100)]
    alloc = plan_allocation(many, 40, "typical", 0.0, rng)
    assert len({(p.device_id, p.candidate_id) for p in alloc.picks}) == 40


def test_cold_start_rounds_use_their_own_policy() -> None:
    from fedsift.server import CampaignConfig, ConfigError
    cfg = CampaignConfig(num_features=4, num_classes=3, cold_start_rounds=2, cold_start_allocation="typical")
    assert [cfg.validate().allocation_in(r) for r in (1, 2, 3)] == ["typical", "typical", "diversity"]
    assert CampaignConfig().cold_start_allocation == "pool-diversity"
    cfg.cold_start_allocation = ""
    assert cfg.allocation_in(1) == "diversity"
    for field, bad in (("cold_start_allocation", "tipical"), ("allocation", "best")):
        bad_cfg = CampaignConfig(num_features=4, num_classes=3, **{field: bad})
        with pytest.raises(ConfigError, match=f"'{field}'.*typical"):
            bad_cfg.validate()


def test_stratified_keeps_each_region_its_share() -> None:
    rng = np.random.default_rng(0)
    big = rng.normal(size=(75, 2)).astype(np.float32)
    small = (rng.normal(size=(25, 2)) + 50).astype(np.float32)
    a, b = _sketched("a", big, "big"), _sketched("b", small, "small")
    shares = []
    for seed in range(30):
        picks = get_policy("stratified").allocate([a, b], 8, set(), np.random.default_rng(seed))
        assert len({p.candidate_id for p in picks}) == 8 and {p.reason for p in picks} == {"cold-start-stratified"}
        n_small = sum(p.device_id == "b" for p in picks)
        assert 1 <= n_small <= 3  # a uniform draw of 8 misses the small region 10% of the time
        shares.append(n_small / 8)
    assert 0.2 <= float(np.mean(shares)) <= 0.3  # each candidate keeps its uniform chance
    assert get_policy("stratified").allocate([summ("c", 10, [0.5] * 4)], 9, set(), np.random.default_rng(0))
