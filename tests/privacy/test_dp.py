"""DP noise on counts: calibrated scale (seeded statistics), clipping, and the budget accountant."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fedsift.privacy.dp import BudgetAccountant, DPConfig, noise_counts, privatize
from fedsift.privacy.errors import DPError, PrivacyBudgetExceeded

BIG = 1_000_000  # far from zero, so clipping does not bias the statistics


def test_laplace_noise_scale_matches_sensitivity_over_epsilon():
    rng = np.random.default_rng(1234)
    counts = np.full(200_000, BIG)
    noisy = noise_counts(counts, "laplace", epsilon=0.5, sensitivity=2.0, rng=rng)
    err = noisy - counts
    b = 2.0 / 0.5  # Laplace b; std = b * sqrt(2) ~ 5.657, plus rounding (var 1/12)
    expected_std = math.sqrt(2 * b * b + 1 / 12)
    assert abs(err.mean()) < 0.05
    assert abs(err.std() / expected_std - 1) < 0.02
    assert abs(np.abs(err).mean() / b - 1) < 0.02  # E|X| = b for Laplace


def test_gaussian_noise_scale_matches_classic_bound():
    rng = np.random.default_rng(99)
    counts = np.full(200_000, BIG)
    noisy = noise_counts(counts, "gaussian", epsilon=0.5, sensitivity=1.0, delta=1e-5, rng=rng)
    sigma = math.sqrt(2 * math.log(1.25 / 1e-5)) / 0.5  # ~9.69
    err = noisy - counts
    assert abs(err.std() / math.sqrt(sigma**2 + 1 / 12) - 1) < 0.02
    assert abs(np.mean(np.abs(err) <= sigma) - 0.6827) < 0.01  # normal, not Laplace-shaped


def test_output_is_non_negative_integers_of_same_shape():
    rng = np.random.default_rng(0)
    counts = np.array([[0, 1, 2], [0, 0, 50]])
    noisy = noise_counts(counts, "laplace", epsilon=0.1, rng=rng)
    assert noisy.shape == counts.shape and noisy.dtype == np.int64 and noisy.min() >= 0


def test_same_seed_same_noise():
    a = noise_counts(np.arange(10), "laplace", 1.0, rng=np.random.default_rng(5))
    b = noise_counts(np.arange(10), "laplace", 1.0, rng=np.random.default_rng(5))
    assert np.array_equal(a, b)


def test_accountant_refuses_over_budget_and_persists(tmp_path):
    path = tmp_path / "dp_budget.json"
    config = DPConfig(enabled=True, epsilon_per_round=0.4, total_epsilon=1.0)
    acc = BudgetAccountant(config.total_epsilon, path=path)
    arrays = {"score_histogram": np.array([5, 3, 0]), "class_counts": np.array([8, 0])}
    r1 = privatize(arrays, config, acc, rng=np.random.default_rng(1))
    r2 = privatize(arrays, config, acc, rng=np.random.default_rng(2))
    assert set(r1.arrays) == set(arrays)
    assert (r1.spent_epsilon, r2.spent_epsilon) == (pytest.approx(0.4), pytest.approx(0.8))
    with pytest.raises(PrivacyBudgetExceeded, match=r"spending 0.4 on top of 0.8 .* total budget 1"):
        privatize(arrays, config, acc)
    # after a restart the spent budget is still spent
    again = BudgetAccountant(config.total_epsilon, path=path)
    assert again.spent_epsilon == pytest.approx(0.8) and again.releases == 2
    with pytest.raises(PrivacyBudgetExceeded):
        privatize(arrays, config, again)
    exact = DPConfig(enabled=True, epsilon_per_round=0.2, total_epsilon=1.0)
    assert privatize(arrays, exact, again).spent_epsilon == pytest.approx(1.0)  # an exact fit is allowed


def test_gaussian_spends_delta_too():
    config = DPConfig(mechanism="gaussian", epsilon_per_round=0.5, delta_per_round=1e-5, total_epsilon=10,
                      total_delta=1.5e-5)
    acc = BudgetAccountant(config.total_epsilon, config.total_delta, state={})
    privatize({"h": np.array([1, 2])}, config, acc)
    with pytest.raises(PrivacyBudgetExceeded, match="dp delta"):
        privatize({"h": np.array([1, 2])}, config, acc)
    assert acc.state()["spent_delta"] == pytest.approx(1e-5)


def test_corrupt_budget_file_is_not_reset(tmp_path):
    path = tmp_path / "dp_budget.json"
    path.write_text("{not json")
    with pytest.raises(DPError, match="refusing to reset"):
        BudgetAccountant(5.0, path=path)


def test_bad_parameters_are_named():
    with pytest.raises(DPError, match="epsilon_per_round 0"):
        DPConfig(epsilon_per_round=0)
    with pytest.raises(DPError, match="'exponential'"):
        DPConfig(mechanism="exponential")
    with pytest.raises(DPError, match="delta"):
        noise_counts(np.array([1]), "gaussian", 1.0, delta=0.0)
    with pytest.raises(DPError, match="non-negative"):
        noise_counts(np.array([1.0, float("nan")]), "laplace", 1.0)
