"""The two batch-diversity routines the batch strategies share: k-center greedy and
k-means++ seeding. numpy only, written by hand because the edge path may not depend
on scikit-learn; both are O(k·n·d) with an incremental nearest-distance update.
"""

from __future__ import annotations

import numpy as np


def _sqdist_to(points: np.ndarray, center: np.ndarray) -> np.ndarray:
    diff = points - center
    return np.einsum("ij,ij->i", diff, diff)


def nearest_sqdist(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Squared distance from every point to its nearest center (inf when no centers)."""
    out = np.full(points.shape[0], np.inf)
    for start in range(0, centers.shape[0], 256):
        block = centers[start:start + 256]
        d = (np.einsum("ij,ij->i", points, points)[:, None] - 2 * points @ block.T
             + np.einsum("ij,ij->i", block, block)[None, :])
        out = np.minimum(out, np.maximum(d, 0.0).min(axis=1))
    return out


def k_center_greedy(points: np.ndarray, k: int, anchors: np.ndarray | None = None,
                    first: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pick ``k`` points, each the farthest from everything picked (and the anchors) so far.

    Parameters
    ----------
    points : ndarray, shape (n, d)
        Candidates.
    k : int
        Picks.
    anchors : ndarray, shape (m, d), optional
        Already-covered points (e.g. the labeled set).
    first : int, optional
        Index to start with when there are no anchors (default: the point farthest
        from the mean).

    Returns
    -------
    (indices, distances)
        Picked indices in order, and each pick's distance to the covered set when picked.
    """
    n = points.shape[0]
    k = min(k, n)
    pts = points.astype(np.float64)
    if anchors is not None and anchors.shape[0]:
        dist = nearest_sqdist(pts, anchors.astype(np.float64))
    else:
        dist = np.full(n, np.inf)
    picks, gaps = [], []
    for step in range(k):
        if step == 0 and not np.isfinite(dist).any():
            i = first if first is not None else int(np.argmax(_sqdist_to(pts, pts.mean(axis=0))))
        else:
            i = int(np.argmax(dist))
        picks.append(i)
        gaps.append(float(np.sqrt(dist[i])) if np.isfinite(dist[i]) else float("inf"))
        dist = np.minimum(dist, _sqdist_to(pts, pts[i]))
        dist[i] = -1.0
    return np.array(picks, dtype=np.int64), np.array(gaps)


def kmeans_pp_seeds(points: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """k-means++ seeding: first the largest-norm point, then D²-weighted draws.

    Returns
    -------
    (indices, d2)
        Picked indices in order and each pick's squared distance to earlier picks.
    """
    n = points.shape[0]
    k = min(k, n)
    if k <= 0:  # an empty pool, or nothing asked for
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    pts = points.astype(np.float64)
    first = int(np.argmax(np.einsum("ij,ij->i", pts, pts)))
    picks, weights = [first], [float("inf")]
    dist = _sqdist_to(pts, pts[first])
    dist[first] = 0.0
    while len(picks) < k:
        total = dist.sum()
        if total <= 0:
            rest = np.setdiff1d(np.arange(n), picks)
            i = int(rng.choice(rest))
        else:
            i = int(rng.choice(n, p=dist / total))
        picks.append(i)
        weights.append(float(dist[i]))
        dist = np.minimum(dist, _sqdist_to(pts, pts[i]))
        dist[picks] = 0.0
    return np.array(picks, dtype=np.int64), np.array(weights)


def kmeans(points: np.ndarray, k: int, rng: np.random.Generator, iters: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means from k-means++ seeds; returns (labels, centers)."""
    seeds, _ = kmeans_pp_seeds(points, k, rng)
    centers = points[seeds].astype(np.float64)
    pts = points.astype(np.float64)
    labels = np.zeros(points.shape[0], dtype=np.int64)
    if not len(seeds):
        return labels, centers
    for _ in range(iters):
        d = (np.einsum("ij,ij->i", pts, pts)[:, None] - 2 * pts @ centers.T
             + np.einsum("ij,ij->i", centers, centers)[None, :])
        new = d.argmin(axis=1)
        if _ and np.array_equal(new, labels):
            break
        labels = new
        for c in range(centers.shape[0]):
            members = pts[labels == c]
            if len(members):
                centers[c] = members.mean(axis=0)
    return labels, centers
