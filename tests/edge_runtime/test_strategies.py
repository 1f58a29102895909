"""Each strategy on hand-made cases where the right pick is known."""

from __future__ import annotations

import numpy as np
import pytest

from fedsift.edge_runtime import UnknownStrategyError, available_strategies, get_strategy, top_k

PROBS = np.array([
    [0.98, 0.01, 0.01],   # confident
    [0.50, 0.45, 0.05],   # closest top-2 (margin pick)
    [0.34, 0.33, 0.33],   # most uniform (entropy and least-confidence pick)
    [0.70, 0.10, 0.20],
])
EMB = np.zeros((4, 2))


def pick(name: str, probs: np.ndarray = PROBS) -> int:
    scores = get_strategy(name).score(probs, EMB[: len(probs)], np.random.default_rng(0))
    return int(top_k(scores, 1)[0])


def test_margin_picks_closest_top_two() -> None:
    # entropy prefers the flatter row, margin the row with the smallest top-2 gap
    probs = np.array([[0.40, 0.30, 0.30], [0.49, 0.48, 0.03]])
    assert pick("margin", probs) == 1
    assert pick("entropy", probs) == 0


def test_entropy_and_least_confidence_pick_the_uniform_row() -> None:
    assert pick("entropy") == 2
    assert pick("least_confidence") == 2


def test_confident_row_is_never_first() -> None:
    for name in ("margin", "entropy", "least_confidence"):
        scores = get_strategy(name).score(PROBS, EMB, np.random.default_rng(0))
        assert int(np.argmin(scores)) == 0


def test_random_depends_on_the_generator_only() -> None:
    s = get_strategy("random")
    a = s.score(PROBS, EMB, np.random.default_rng(1))
    b = s.score(PROBS, EMB, np.random.default_rng(1))
    c = s.score(PROBS, EMB, np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_registry_names_and_unknown_name() -> None:
    assert {"random", "margin", "entropy", "least_confidence"} <= set(available_strategies())
    with pytest.raises(UnknownStrategyError, match="'nope'.*registered: .*margin"):
        get_strategy("nope")


def test_top_k_orders_and_breaks_ties_by_position() -> None:
    assert top_k(np.array([0.1, 0.5, 0.5, 0.9]), 3).tolist() == [3, 1, 2]
    assert top_k(np.array([0.1]), 5).tolist() == [0]
    assert top_k(np.zeros(0), 3).tolist() == []
