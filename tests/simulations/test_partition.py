"""Dirichlet partitioning: a partition, skewed as asked, every client served."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from fedsift.simulations.errors import SimulationError
from fedsift.simulations.partition import dirichlet_partition


def _check_partition(parts: list[np.ndarray], n: int, min_size: int) -> None:
    joined = np.concatenate(parts)
    assert sorted(joined.tolist()) == list(range(n)), "not a partition of the pool"
    assert min(len(p) for p in parts) >= min_size


def test_a_draw_that_succeeds_is_plain_rejection_sampling_and_repeats_by_seed() -> None:
    y = np.repeat(np.arange(10), 100)
    a, b = dirichlet_partition(y, 10, 0.5, seed=3), dirichlet_partition(y, 10, 0.5, seed=3)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    _check_partition(a, len(y), 2)
    assert any(not np.array_equal(p, q) for p, q in zip(a, dirichlet_partition(y, 10, 0.5, seed=4)))


def test_strong_skew_concentrates_each_class_on_few_clients() -> None:
    y = np.repeat(np.arange(10), 200)
    skewed = dirichlet_partition(y, 10, 0.1, seed=0)
    near_iid = dirichlet_partition(y, 10, 100.0, seed=0)

    def top_share(parts: list[np.ndarray]) -> float:  # mean share of a client's items in its largest class
        return float(np.mean([np.bincount(y[p], minlength=10).max() / len(p) for p in parts]))

    assert top_share(skewed) > 0.5 > 0.2 > top_share(near_iid)


def test_two_classes_over_fifty_clients_at_alpha_01_are_topped_up(caplog: pytest.LogCaptureFixture) -> None:
    """Rejection sampling alone gives up here (it stopped a 50-client text benchmark)."""
    y = np.array([0] * 3000 + [1] * 4000)
    with caplog.at_level(logging.WARNING, logger="fedsift.simulations.partition"):
        parts = dirichlet_partition(y, 50, 0.1, seed=1, max_tries=20)
    _check_partition(parts, len(y), 2)
    assert "topped up" in caplog.text
    moved = int(caplog.text.split("topped up the last draw: ")[1].split()[0])
    assert 0 < moved <= 2 * 50
    assert dirichlet_partition(y, 50, 0.1, seed=1, max_tries=20)[0].tolist() == parts[0].tolist()


@pytest.mark.parametrize("kwargs, message", [
    ({"num_clients": 0, "alpha": 0.5}, "clients must be at least 1"),
    ({"num_clients": 5, "alpha": 0.0}, "alpha must be > 0"),
    ({"num_clients": 5, "alpha": float("nan")}, "alpha must be > 0"),
    ({"num_clients": 600, "alpha": 0.5}, "exceed the pool"),
])
def test_impossible_requests_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(SimulationError, match=message):
        dirichlet_partition(np.repeat(np.arange(2), 500), seed=0, **kwargs)
