"""The numpy MLP trainer: correct gradients, and it learns."""

from __future__ import annotations

import numpy as np

from fedsift.client import trainer
from fedsift.server.model import init_weights


def test_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(0)
    layers = [(w.astype(np.float64), b.astype(np.float64)) for w, b in init_weights([4, 5, 3], 0)]
    x, y = rng.normal(size=(6, 4)), rng.integers(0, 3, 6)
    logits, acts = trainer.forward(layers, x)
    _, g = trainer.cross_entropy(logits, y)
    grads = trainer.backward(layers, acts, g)
    eps = 1e-6
    for li, (w, _) in enumerate(layers):
        for idx in [(0, 0), (1, 2), (2, 1)]:
            plus = [(ww.copy(), bb.copy()) for ww, bb in layers]
            minus = [(ww.copy(), bb.copy()) for ww, bb in layers]
            plus[li][0][idx] += eps
            minus[li][0][idx] -= eps
            num = (trainer.cross_entropy(trainer.forward(plus, x)[0], y)[0]
                   - trainer.cross_entropy(trainer.forward(minus, x)[0], y)[0]) / (2 * eps)
            assert abs(num - grads[li][0][idx]) < 1e-5


def test_training_learns_a_separable_problem_deterministically() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    start = init_weights([2, 16, 2], 0)
    acc0, _ = trainer.evaluate(start, x, y)
    a = trainer.train(start, x, y, epochs=30, batch_size=32, lr=1e-2, seed=3)
    b = trainer.train(start, x, y, epochs=30, batch_size=32, lr=1e-2, seed=3)
    acc, _ = trainer.evaluate(a.layers, x, y)
    assert acc0 < 0.9 and acc > 0.95
    for (wa, _), (wb, _) in zip(a.layers, b.layers):
        np.testing.assert_array_equal(wa, wb)
    assert all(w.dtype == np.float32 for w, _ in a.layers)


def test_min_steps_applies_with_few_labels() -> None:
    x = np.ones((3, 2), np.float32)
    y = np.array([0, 1, 0])
    assert trainer.train(init_weights([2, 4, 2], 0), x, y, epochs=1, batch_size=32, lr=1e-3, min_steps=40).steps == 40
    assert trainer.train(init_weights([2, 4, 2], 0), x[:0], y[:0], epochs=5, batch_size=8, lr=1e-3).steps == 0


def test_proximal_term_keeps_the_update_near_the_start() -> None:
    """FedProx: the larger mu, the closer the trained weights stay to the ones training started from."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(12, 5)).astype(np.float32)
    y = rng.integers(0, 3, 12)
    start = init_weights([5, 8, 3], 0)

    def distance(mu: float) -> float:
        out = trainer.train(start, x, y, epochs=40, batch_size=4, lr=1e-2, seed=1, proximal_mu=mu).layers
        return float(np.sqrt(sum(((a - s) ** 2).sum() + ((ab - sb) ** 2).sum()
                                 for (a, ab), (s, sb) in zip(out, start))))

    free, mild, strong = distance(0.0), distance(1.0), distance(20.0)
    assert free > mild > strong > 0
    # mu = 0 is exactly the plain trainer
    plain = trainer.train(start, x, y, epochs=40, batch_size=4, lr=1e-2, seed=1).layers
    for (a, _), (b, _) in zip(plain, trainer.train(start, x, y, epochs=40, batch_size=4, lr=1e-2, seed=1,
                                                   proximal_mu=0.0).layers):
        np.testing.assert_array_equal(a, b)


def test_a_bad_proximal_mu_is_refused() -> None:
    import pytest

    x, y = np.ones((3, 2), np.float32), np.array([0, 1, 0])
    for mu in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="proximal_mu"):
            trainer.train(init_weights([2, 4, 2], 0), x, y, epochs=1, batch_size=2, lr=1e-3, proximal_mu=mu)
