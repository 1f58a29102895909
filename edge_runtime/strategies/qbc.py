"""Query by committee over the last few global models.

The committee is the current model and the previous global versions the device still
holds; an item's score is the mean KL divergence of each member's prediction from the
committee's consensus.

References
----------
Seung, Opper & Sompolinsky, "Query by Committee", COLT 1992; McCallum & Nigam,
"Employing EM and Pool-Based Active Learning for Text Classification", ICML 1998.
"""

from __future__ import annotations

import numpy as np

from .base import NEEDS_COMMITTEE, AcquisitionStrategy, ScoringContext, register
from .uncertainty import entropy


def kl_to_consensus(committee_probs: np.ndarray) -> np.ndarray:
    """Mean KL(p_m || mean_m p_m) over members, shape (n,)."""
    p = np.clip(committee_probs, 1e-12, 1.0)
    consensus = p.mean(axis=0)
    return np.mean(np.sum(p * (np.log(p) - np.log(consensus)[None]), axis=2), axis=0)


@register
class QueryByCommittee(AcquisitionStrategy):
    """Disagreement among recent global models (entropy until a committee exists)."""

    name = "qbc"
    needs = frozenset({NEEDS_COMMITTEE})

    def score(self, ctx: ScoringContext, rng: np.random.Generator) -> np.ndarray:
        if ctx.committee_probs is None or ctx.committee_probs.shape[0] < 2:
            return entropy(ctx.probs)
        return kl_to_consensus(ctx.committee_probs)
