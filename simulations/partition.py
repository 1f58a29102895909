"""Non-IID partitioning of a labeled pool over simulated devices."""

from __future__ import annotations

import numpy as np

from .errors import SimulationError


def dirichlet_partition(y: np.ndarray, num_clients: int, alpha: float, seed: int,
                        min_size: int = 2, max_tries: int = 100) -> list[np.ndarray]:
    """Split indices over clients with label proportions drawn from Dirichlet(alpha).

    For every class, its items are divided among clients in proportions drawn from
    Dir(alpha): small alpha gives strong label skew, large alpha nearly IID. Draws are
    repeated (bounded) until every client holds at least ``min_size`` items.

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
    for _ in range(max_tries):
        parts: list[list[int]] = [[] for _ in range(num_clients)]
        for c in classes:
            idx = rng.permutation(np.flatnonzero(y == c))
            props = rng.dirichlet(np.full(num_clients, alpha))
            cuts = (np.cumsum(props)[:-1] * len(idx)).astype(int)
            for k, chunk in enumerate(np.split(idx, cuts)):
                parts[k].extend(chunk.tolist())
        if min(len(p) for p in parts) >= min_size:
            return [np.array(sorted(p), dtype=np.int64) for p in parts]
    raise SimulationError(f"no Dirichlet({alpha}) draw gave every one of {num_clients} clients "
                          f"{min_size} items in {max_tries} tries; raise alpha or lower the client count")
