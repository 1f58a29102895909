"""BALD: mutual information between the prediction and the model weights.

With T Monte-Carlo dropout passes, ``I = H(mean_t p_t) - mean_t H(p_t)``: high when the
passes disagree confidently, i.e. the model (not the data) is uncertain. The device
runs the passes itself: dropout masks (seeded) on the embedding before the last layer,
whose weights come with the query.

References
----------
Houlsby et al., "Bayesian Active Learning for Classification and Preference
Learning", 2011; Gal, Islam & Ghahramani, "Deep Bayesian Active Learning with Image
Data", ICML 2017.
"""

from __future__ import annotations

import numpy as np

from .base import NEEDS_MC, AcquisitionStrategy, ScoringContext, register
from .uncertainty import entropy


def mutual_information(mc_probs: np.ndarray) -> np.ndarray:
    """BALD score from (T, n, classes) probabilities."""
    mean = mc_probs.mean(axis=0)
    return entropy(mean) - np.mean([entropy(p) for p in mc_probs], axis=0)


@register
class Bald(AcquisitionStrategy):
    """Mutual information over MC-dropout passes (falls back to entropy without them)."""

    name = "bald"
    needs = frozenset({NEEDS_MC})

    def score(self, ctx: ScoringContext, rng: np.random.Generator) -> np.ndarray:
        if ctx.mc_probs is None:
            return entropy(ctx.probs)
        return mutual_information(ctx.mc_probs)
