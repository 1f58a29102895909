"""Low-dimensional sketches of embeddings for cross-device diversity.

A Gaussian random projection (Johnson-Lindenstrauss) with a seed fixed by the server:
every device projects with the same matrix, so the server can compare candidates from
different devices without seeing full embeddings.
"""

from __future__ import annotations

import numpy as np


def projection_matrix(in_dim: int, out_dim: int, seed: int) -> np.ndarray:
    """The (in_dim, out_dim) projection shared by all devices for one seed."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((in_dim, out_dim)) / np.sqrt(max(out_dim, 1))).astype(np.float32)


def sketch(embedding: np.ndarray, out_dim: int, seed: int) -> np.ndarray:
    """Project embeddings to ``out_dim`` dimensions (an empty (n, 0) array when 0)."""
    if out_dim == 0:
        return np.zeros((embedding.shape[0], 0), dtype=np.float32)
    return (embedding.astype(np.float32) @ projection_matrix(embedding.shape[1], out_dim, seed)).astype(np.float32)
