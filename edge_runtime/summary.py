"""Build the summary a device sends after scoring its pool."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fedsift.protocols import Query, Summary

from .sketch import sketch
from .strategies import Selection, top_k


def build_summary(
    query: Query,
    device_id: str,
    ids: Sequence[str],
    scores: np.ndarray,
    probs: np.ndarray,
    embedding: np.ndarray,
    labeled_count: int,
    consented_count: int | None = None,
    metadata: Sequence[dict[str, str]] | None = None,
    random_ids: Sequence[str] = (),
    pool_size: int | None = None,
    selection: Selection | None = None,
) -> Summary:
    """Summarize a scored pool: histogram, predicted classes and the top-k candidates.

    Parameters
    ----------
    query : Query
        The query being answered (round, k, bins, sketch settings).
    device_id : str
        This device's stable name.
    ids : sequence of str
        Outgoing (pseudonymous) id of each pool item, aligned with ``scores``.
    scores, probs, embedding : ndarray
        Acquisition scores (n,), probabilities (n, c), embeddings (n, h).
    labeled_count : int
        Items this device already holds labels for.
    consented_count : int, optional
        Items with a labeling consent (defaults to the pool size).
    metadata : sequence of dict, optional
        Masked metadata aligned with ``ids``.
    random_ids : sequence of str
        Uniformly drawn unlabeled items offered for the random slice.
    pool_size : int, optional
        Unlabeled items in the pool when ``scores`` covers only the eligible ones.
    selection : Selection, optional
        The strategy's batch (indices and utilities); default: the top-k ``scores``.

    Returns
    -------
    Summary
        Ready to encode; contains no sample.
    """
    n = scores.shape[0]
    finite = scores[np.isfinite(scores)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    hist, _ = np.histogram(finite, bins=query.num_bins, range=(lo, hi))
    class_counts = np.bincount(probs.argmax(axis=1), minlength=probs.shape[1]) if n else np.zeros(probs.shape[1])
    if selection is None:
        chosen = top_k(scores, query.top_k)
        utilities = scores[chosen]
    else:
        chosen, utilities = selection.indices, selection.utilities
    return Summary(
        round=query.round,
        model_version=query.model_version,
        device_id=device_id,
        pool_size=n if pool_size is None else pool_size,
        labeled_count=labeled_count,
        consented_count=n if consented_count is None else consented_count,
        histogram=hist.astype(np.int64),
        hist_range=(lo, hi),
        class_counts=np.asarray(class_counts, dtype=np.int64),
        candidate_ids=[ids[i] for i in chosen],
        scores=np.asarray(utilities, dtype=np.float32),
        sketches=sketch(embedding[chosen], query.sketch_dim, query.sketch_seed),
        metadata=[dict(metadata[i]) for i in chosen] if metadata is not None else [],
        random_ids=list(random_ids),
    )
