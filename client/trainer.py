"""Local training of the MLP in numpy.

Written by hand because the edge path must run with numpy and onnxruntime alone
(devices carry no torch); the network is a plain MLP (see protocols.training for the
weight layout), so forward, backward and Adam are a few lines each. Deterministic for
a given seed, which keeps simulations reproducible across backends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Layers = list[tuple[np.ndarray, np.ndarray]]


def forward(layers: Layers, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Logits and the activations of every layer input (for backprop)."""
    acts = [x]
    h = x
    for i, (w, b) in enumerate(layers):
        z = h @ w.T + b
        h = np.maximum(z, 0.0) if i < len(layers) - 1 else z
        acts.append(h)
    return h, acts


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy and its gradient w.r.t. the logits."""
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    n = y.shape[0]
    loss = float(-np.log(np.clip(p[np.arange(n), y], 1e-12, None)).mean())
    grad = p
    grad[np.arange(n), y] -= 1.0
    return loss, grad / n


def backward(layers: Layers, acts: list[np.ndarray], grad: np.ndarray) -> Layers:
    """Gradients of every (weight, bias) pair."""
    grads: Layers = []
    g = grad
    for i in range(len(layers) - 1, -1, -1):
        w, _ = layers[i]
        grads.append((g.T @ acts[i], g.sum(axis=0)))
        if i > 0:
            g = (g @ w) * (acts[i] > 0)
    return grads[::-1]


@dataclass
class TrainResult:
    """Weights after training and the mean loss of the last epoch."""

    layers: Layers
    loss: float
    steps: int


def train(
    layers: Layers,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float = 0.0,
    min_steps: int = 0,
    seed: int = 0,
    proximal_mu: float = 0.0,
) -> TrainResult:
    """Train a copy of ``layers`` with Adam on ``(x, y)``.

    Parameters
    ----------
    layers : list of (weight, bias)
        Starting weights (not modified).
    x : ndarray, shape (n, features)
        Labeled inputs.
    y : ndarray of int, shape (n,)
        Labels.
    epochs, batch_size : int
        Passes over the data and mini-batch size.
    lr, weight_decay : float
        Adam step size and L2 penalty.
    min_steps : int
        Lower bound on the number of mini-batch steps.
    seed : int
        Shuffling seed.
    proximal_mu : float
        FedProx's proximal term (Li et al., 2020): adds ``mu / 2 * ||w - w_start||^2``
        to the loss, so a device with a handful of labels of two or three classes cannot
        drift far from the global model it started from. 0 = plain local training.

    Returns
    -------
    TrainResult
    """
    if not (np.isfinite(proximal_mu) and proximal_mu >= 0):
        raise ValueError(f"proximal_mu must be a finite number >= 0; got {proximal_mu!r}")
    params = [(w.astype(np.float64), b.astype(np.float64)) for w, b in layers]
    start = [(w.copy(), b.copy()) for w, b in params] if proximal_mu else []
    n = x.shape[0]
    if n == 0:
        return TrainResult([(w.astype(np.float32), b.astype(np.float32)) for w, b in params], 0.0, 0)
    x = x.astype(np.float64)
    y = y.astype(np.int64)
    rng = np.random.default_rng(seed)
    batch_size = min(batch_size, n)
    per_epoch = int(np.ceil(n / batch_size))
    steps = max(epochs * per_epoch, min_steps)
    m = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    v = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    order = rng.permutation(n)
    losses: list[float] = []
    for t in range(1, steps + 1):
        pos = (t - 1) % per_epoch
        if pos == 0 and t > 1:
            order = rng.permutation(n)
            losses = []
        idx = order[pos * batch_size:(pos + 1) * batch_size]
        logits, acts = forward(params, x[idx])
        loss, g = cross_entropy(logits, y[idx])
        losses.append(loss)
        grads = backward(params, acts, g)
        new_params = []
        for j, ((w, b), (gw, gb)) in enumerate(zip(params, grads)):
            gw = gw + weight_decay * w
            if proximal_mu:
                gw = gw + proximal_mu * (w - start[j][0])
                gb = gb + proximal_mu * (b - start[j][1])
            mw, mb = m[j]
            vw, vb = v[j]
            mw = beta1 * mw + (1 - beta1) * gw
            mb = beta1 * mb + (1 - beta1) * gb
            vw = beta2 * vw + (1 - beta2) * gw * gw
            vb = beta2 * vb + (1 - beta2) * gb * gb
            m[j], v[j] = (mw, mb), (vw, vb)
            c1, c2 = 1 - beta1**t, 1 - beta2**t
            w = w - lr * (mw / c1) / (np.sqrt(vw / c2) + eps)
            b = b - lr * (mb / c1) / (np.sqrt(vb / c2) + eps)
            new_params.append((w, b))
        params = new_params
    out = [(w.astype(np.float32), b.astype(np.float32)) for w, b in params]
    return TrainResult(out, float(np.mean(losses)) if losses else 0.0, steps)


def evaluate(layers: Layers, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Accuracy and mean cross-entropy of ``layers`` on ``(x, y)``."""
    if x.shape[0] == 0:
        return 0.0, 0.0
    logits, _ = forward([(w.astype(np.float64), b.astype(np.float64)) for w, b in layers], x.astype(np.float64))
    loss, _ = cross_entropy(logits, y.astype(np.int64))
    return float((logits.argmax(axis=1) == y).mean()), loss
