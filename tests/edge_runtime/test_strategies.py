"""Each strategy on hand-made cases where the right pick is known."""

from __future__ import annotations

import numpy as np
import pytest

from fedsift.edge_runtime import UnknownStrategyError, available_strategies, get_strategy, top_k
from fedsift.edge_runtime.strategies import ScoringContext

PROBS = np.array([
    [0.98, 0.01, 0.01],   # confident
    [0.50, 0.45, 0.05],   # close top-2
    [0.34, 0.33, 0.33],   # most uniform (entropy and least-confidence pick)
    [0.70, 0.10, 0.20],
])


def ctx(probs: np.ndarray = PROBS, emb: np.ndarray | None = None, **kw) -> ScoringContext:
    emb = np.zeros((len(probs), 2)) if emb is None else emb
    return ScoringContext(probs=probs, embedding=emb, features=kw.pop("features", emb), **kw)


def first_pick(name: str, c: ScoringContext, k: int = 1) -> list[int]:
    return get_strategy(name).select(c, k, np.random.default_rng(0)).indices.tolist()


def test_margin_picks_closest_top_two_where_entropy_picks_the_flattest() -> None:
    probs = np.array([[0.40, 0.30, 0.30], [0.49, 0.48, 0.03]])
    assert first_pick("margin", ctx(probs)) == [1]
    assert first_pick("entropy", ctx(probs)) == [0]


def test_entropy_and_least_confidence_pick_the_uniform_row() -> None:
    assert first_pick("entropy", ctx()) == [2]
    assert first_pick("least_confidence", ctx()) == [2]


def test_confident_row_is_never_first() -> None:
    for name in ("margin", "entropy", "least_confidence"):
        scores = get_strategy(name).score(ctx(), np.random.default_rng(0))
        assert int(np.argmin(scores)) == 0


def test_random_depends_on_the_generator_only() -> None:
    s = get_strategy("random")
    a = s.score(ctx(), np.random.default_rng(1))
    np.testing.assert_array_equal(a, s.score(ctx(), np.random.default_rng(1)))
    assert not np.array_equal(a, s.score(ctx(), np.random.default_rng(2)))


def test_coreset_picks_the_point_farthest_from_the_labeled_set() -> None:
    emb = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [0.5, 0.5]])
    c = ctx(np.full((4, 3), 1 / 3), emb, labeled_embedding=np.array([[0.0, 0.1]]))
    assert first_pick("coreset", c) == [2]
    # the second pick is the farthest from the labeled set *and* the first pick
    assert first_pick("coreset", c, 2) == [2, 1]


def test_badge_starts_with_the_largest_gradient_embedding() -> None:
    probs = np.array([[0.98, 0.01, 0.01], [0.4, 0.3, 0.3], [0.4, 0.3, 0.3]])
    emb = np.array([[10.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    # uncertain and large: row 2 (row 0 is large but confident)
    assert first_pick("badge", ctx(probs, emb)) == [2]


def test_badge_spreads_a_batch_over_distinct_directions() -> None:
    probs = np.tile([0.4, 0.3, 0.3], (5, 1))
    emb = np.array([[3.0, 0.0], [3.0, 0.01], [2.99, 0.0], [0.0, 2.9], [0.01, 2.9]])
    picks = first_pick("badge", ctx(probs, emb), 2)
    assert picks[0] in (0, 1, 2) and picks[1] in (3, 4)


def test_hybrid_skips_near_duplicates_among_uncertain_items() -> None:
    # 8 uncertain items (the shortlist for k=2): five near (1, 1), three near (-3, 2);
    # 4 confident items far away that k-center alone would take first.
    probs = np.array([[0.5, 0.5, 0.0]] + [[0.5, 0.45, 0.05]] * 4 + [[0.48, 0.44, 0.08]] * 3 + [[0.99, 0.01, 0.0]] * 4)
    emb = np.array([[1.0, 1.0]] * 5 + [[-3.0, 2.0]] * 3 + [[9.0, 9.0]] * 4) + np.arange(12)[:, None] * 1e-3
    picks = first_pick("hybrid", ctx(probs, emb, labeled_embedding=np.zeros((0, 2))), 2)
    assert picks[0] == 0 and picks[1] in (5, 6, 7)
    assert any(i >= 8 for i in first_pick("coreset", ctx(probs, emb), 2))  # diversity alone takes a confident one


def test_bald_prefers_disagreement_over_plain_ambiguity() -> None:
    # item 0: every pass says 50/50 (high entropy, no information about the weights)
    # item 1: passes confidently disagree (BALD's pick)
    mc = np.array([[[0.5, 0.5], [0.99, 0.01]], [[0.5, 0.5], [0.01, 0.99]]])
    probs = mc.mean(axis=0)
    assert first_pick("bald", ctx(probs, mc_probs=mc)) == [1]
    assert first_pick("entropy", ctx(np.array([[0.5, 0.5], [0.6, 0.4]]))) == [0]


def test_qbc_picks_where_the_committee_disagrees() -> None:
    committee = np.array([[[0.9, 0.1], [0.6, 0.4], [0.9, 0.1]],
                          [[0.9, 0.1], [0.6, 0.4], [0.1, 0.9]]])
    assert first_pick("qbc", ctx(committee[-1], committee_probs=committee)) == [2]


def test_typiclust_takes_the_dense_center_not_the_outlier() -> None:
    rng = np.random.default_rng(0)
    cluster = rng.normal(0, 0.1, size=(30, 2))
    x = np.vstack([cluster, [[0.0, 0.0]], [[20.0, 20.0]]])
    picks = first_pick("typiclust", ctx(np.full((32, 2), 0.5), x, features=x), 1)
    assert picks[0] != 31
    assert np.linalg.norm(x[picks[0]]) < 0.1


def test_every_strategy_returns_k_distinct_items() -> None:
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(4), size=40)
    emb = rng.normal(size=(40, 5))
    c = ScoringContext(probs, emb, rng.normal(size=(40, 3)), labeled_embedding=rng.normal(size=(3, 5)),
                       mc_probs=rng.dirichlet(np.ones(4), size=(5, 40)), committee_probs=rng.dirichlet(np.ones(4), size=(3, 40)))
    for name in available_strategies():
        sel = get_strategy(name).select(c, 7, np.random.default_rng(0))
        assert len(set(sel.indices.tolist())) == 7, name
        assert sel.utilities.shape == (7,) and np.all(np.isfinite(sel.utilities)), name


def test_registry_names_and_unknown_name() -> None:
    assert {"random", "margin", "entropy", "least_confidence", "bald", "coreset", "badge", "hybrid", "qbc",
            "typiclust"} <= set(available_strategies())
    with pytest.raises(UnknownStrategyError, match="'nope'.*registered: .*margin"):
        get_strategy("nope")


def test_top_k_orders_and_breaks_ties_by_position() -> None:
    assert top_k(np.array([0.1, 0.5, 0.5, 0.9]), 3).tolist() == [3, 1, 2]
    assert top_k(np.array([0.1]), 5).tolist() == [0]
    assert top_k(np.zeros(0), 3).tolist() == []


@pytest.mark.parametrize("n", [0, 1])
@pytest.mark.parametrize("name", available_strategies())
def test_every_strategy_takes_an_empty_or_one_item_pool_and_k_zero(name: str, n: int) -> None:
    # a device whose pool is all labeled or unconsented still answers the query (BADGE used to raise here)
    c = ScoringContext(probs=np.full((n, 3), 1 / 3), embedding=np.zeros((n, 4)), features=np.zeros((n, 4)),
                       labeled_embedding=np.zeros((2, 4)), mc_probs=np.full((5, n, 3), 1 / 3),
                       committee_probs=np.full((2, n, 3), 1 / 3))
    strategy, rng = get_strategy(name), np.random.default_rng(0)
    assert np.asarray(strategy.score(c, rng)).shape == (n,)
    picked = strategy.select(c, 5, rng)
    assert picked.indices.tolist() == list(range(n)) and len(picked.utilities) == n
    assert strategy.select(c, 0, rng).indices.size == 0


def test_kmeans_pp_and_kmeans_with_nothing_to_pick() -> None:
    from fedsift.edge_runtime.strategies.diversity import kmeans, kmeans_pp_seeds

    rng = np.random.default_rng(0)
    idx, d2 = kmeans_pp_seeds(np.zeros((0, 3)), 4, rng)
    assert idx.size == 0 and d2.size == 0
    assert kmeans_pp_seeds(np.ones((5, 3)), 0, rng)[0].size == 0
    labels, centers = kmeans(np.ones((5, 3)), 0, rng)
    assert labels.tolist() == [0] * 5 and centers.shape == (0, 3)
