"""Non-IID partitioning of a labeled pool over simulated devices."""

from __future__ import annotations

import logging

import numpy as np

from .errors import SimulationError

log = logging.getLogger(__name__)


def dirichlet_partition(y: np.ndarray, num_clients: int, alpha: float, seed: int,
                        min_size: int = 2, max_tries: int = 100) -> list[np.ndarray]:
    """Split indices over clients with label proportions drawn from Dirichlet(alpha).

    For every class, its items are divided among clients in proportions drawn from
    Dir(alpha): small alpha gives strong label skew, large alpha nearly IID. Draws are
    repeated (bounded) until every client holds at least ``min_size`` items. When no draw
    does (few classes, many clients, small alpha: 2 classes over 50 clients at alpha 0.1
    almost never gives every client 2 items), the last draw is topped up: each short
    client takes random items from the currently largest client until it holds
    ``min_size``, and a warning says how many items moved. Draws that succeed are
    unchanged, so every seed that partitioned before still gives the same partition.

    Parameters
    ----------
    y : ndarray of int
        Labels of the pool.
    num_clients : int
        Devices.
    alpha : float
        Dirichlet concentration (> 0).
    seed : int
        Seed of the draw.
    min_size : int
        Smallest acceptable partition.
    max_tries : int
        Redraws before giving up.

    Returns
    -------
    list of ndarray
        Sorted index arrays, one per client; together a partition of ``range(len(y))``.
    """
    if num_clients < 1:
        raise SimulationError(f"clients must be at least 1; got {num_clients}")
    if not alpha > 0:
        raise SimulationError(f"alpha must be > 0; got {alpha}")
    if num_clients * min_size > len(y):
        raise SimulationError(f"{num_clients} clients x {min_size} items exceed the pool of {len(y)}")
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    parts: list[list[int]] = []
    for _ in range(max_tries):
        parts = [[] for _ in range(num_clients)]
        for c in classes:
            idx = rng.permutation(np.flatnonzero(y == c))
            props = rng.dirichlet(np.full(num_clients, alpha))
            cuts = (np.cumsum(props)[:-1] * len(idx)).astype(int)
            for k, chunk in enumerate(np.split(idx, cuts)):
                parts[k].extend(chunk.tolist())
        if min(len(p) for p in parts) >= min_size:
            return [np.array(sorted(p), dtype=np.int64) for p in parts]
    moved = _top_up(parts, min_size, rng)
    log.warning("no Dirichlet(%s) draw gave every one of %d clients %d items in %d tries; "
                "topped up the last draw: %d items moved from the largest clients to the short ones",
                alpha, num_clients, min_size, max_tries, moved)
    return [np.array(sorted(p), dtype=np.int64) for p in parts]


def _top_up(parts: list[list[int]], min_size: int, rng: np.random.Generator) -> int:
    """Move random items from the largest part to each part below ``min_size``; return how many moved."""
    moved = 0
    for short in sorted(range(len(parts)), key=lambda k: len(parts[k])):
        while len(parts[short]) < min_size:
            donor = max(range(len(parts)), key=lambda k: len(parts[k]))
            parts[short].append(parts[donor].pop(int(rng.integers(len(parts[donor])))))
            moved += 1
    return moved
