"""Optional differential privacy for the summary's histograms and class counts.

Each round a device may add Laplace (pure ε) or Gaussian ((ε, δ)) noise to the count
arrays of its summary, round to integers and clip at zero (post-processing: free). A
:class:`BudgetAccountant` adds up what the device has spent by basic composition (ε's
and δ's sum) and refuses a release that would pass the device's total. The round's ε
is split evenly over the arrays released in that round, so one round costs exactly ε
(and δ), whatever the number of arrays.

Sensitivity is the L1 (Laplace) or L2 (Gaussian) change of one array when one sample
is added or removed: 1 for a histogram where each sample lands in one bin.

The Gaussian scale is the classic σ = Δ₂·sqrt(2 ln(1.25/δ))/ε (Dwork & Roth 2014,
Thm 3.22), proven for ε < 1; larger per-array ε is allowed but logged.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .errors import DPError, PrivacyBudgetExceeded

logger = logging.getLogger(__name__)

_EPS_SLACK = 1e-9  # float sums of per-round epsilons must not refuse an exact fit


class NoiseMechanism:
    """Adds calibrated noise to a float array. Subclasses set ``name`` and :meth:`scale`."""

    name: ClassVar[str] = ""
    uses_delta: ClassVar[bool] = False

    def scale(self, epsilon: float, delta: float, sensitivity: float) -> float:
        """The noise scale (Laplace b or Gaussian σ)."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, scale: float, shape: tuple[int, ...]) -> np.ndarray:
        raise NotImplementedError


MECHANISMS: dict[str, type[NoiseMechanism]] = {}


def register_mechanism(cls: type[NoiseMechanism]) -> type[NoiseMechanism]:
    """Class decorator: make a mechanism available by its ``name``."""
    MECHANISMS[cls.name] = cls
    return cls


@register_mechanism
class LaplaceMechanism(NoiseMechanism):
    """Laplace noise with b = Δ₁/ε: ε-DP."""

    name = "laplace"

    def scale(self, epsilon: float, delta: float, sensitivity: float) -> float:
        return sensitivity / epsilon

    def sample(self, rng: np.random.Generator, scale: float, shape: tuple[int, ...]) -> np.ndarray:
        return rng.laplace(0.0, scale, size=shape)


@register_mechanism
class GaussianMechanism(NoiseMechanism):
    """Gaussian noise with σ = Δ₂·sqrt(2 ln(1.25/δ))/ε: (ε, δ)-DP for ε < 1."""

    name = "gaussian"
    uses_delta = True

    def scale(self, epsilon: float, delta: float, sensitivity: float) -> float:
        if epsilon >= 1.0:
            logger.warning("gaussian mechanism: epsilon %.3g >= 1, outside the classic bound's proof", epsilon)
        return sensitivity * math.sqrt(2.0 * math.log(1.25 / delta)) / epsilon

    def sample(self, rng: np.random.Generator, scale: float, shape: tuple[int, ...]) -> np.ndarray:
        return rng.normal(0.0, scale, size=shape)


@dataclass
class DPConfig:
    """Device DP settings (``[privacy.dp]`` in the device config).

    Attributes
    ----------
    enabled : bool
    mechanism : str
        ``laplace`` or ``gaussian`` (or any registered mechanism).
    epsilon_per_round : float
    delta_per_round : float
        Gaussian only.
    sensitivity : float
    total_epsilon : float
        The device's lifetime budget.
    total_delta : float
    """

    enabled: bool = False
    mechanism: str = "laplace"
    epsilon_per_round: float = 0.5
    delta_per_round: float = 1e-6
    sensitivity: float = 1.0
    total_epsilon: float = 10.0
    total_delta: float = 1e-4

    def __post_init__(self) -> None:
        if self.mechanism not in MECHANISMS:
            raise DPError(f"dp mechanism {self.mechanism!r}: unknown; known: {', '.join(sorted(MECHANISMS))}")
        for name in ("epsilon_per_round", "sensitivity", "total_epsilon"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise DPError(f"dp {name} {value!r}: must be a finite number > 0")
        if MECHANISMS[self.mechanism].uses_delta and not 0 < self.delta_per_round < 1:
            raise DPError(f"dp delta_per_round {self.delta_per_round!r}: must be in (0, 1) for {self.mechanism}")
        if not 0 <= self.total_delta < 1:
            raise DPError(f"dp total_delta {self.total_delta!r}: must be in [0, 1)")


def noise_counts(counts: np.ndarray, mechanism: str, epsilon: float, sensitivity: float = 1.0,
                 delta: float = 0.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """Noised counts: add noise, round to integers, clip at zero.

    Parameters
    ----------
    counts : ndarray
        Non-negative counts (any shape).
    mechanism : str
        Registered mechanism name.
    epsilon : float
        ε spent on this array.
    sensitivity : float
    delta : float
        Gaussian only.
    rng : numpy.random.Generator, optional

    Returns
    -------
    ndarray of int64
        Same shape as ``counts``.

    Notes
    -----
    Spends no budget by itself: use :func:`privatize` to go through the accountant.
    """
    arr = np.asarray(counts, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise DPError(f"dp counts: must be finite and non-negative (min {np.nanmin(arr) if arr.size else 0!r})")
    if mechanism not in MECHANISMS:
        raise DPError(f"dp mechanism {mechanism!r}: unknown; known: {', '.join(sorted(MECHANISMS))}")
    if not (math.isfinite(epsilon) and epsilon > 0) or not (math.isfinite(sensitivity) and sensitivity > 0):
        raise DPError(f"dp epsilon {epsilon!r} / sensitivity {sensitivity!r}: must be finite and > 0")
    mech = MECHANISMS[mechanism]()
    if mech.uses_delta and not 0 < delta < 1:
        raise DPError(f"dp delta {delta!r}: must be in (0, 1) for {mechanism}")
    rng = rng if rng is not None else np.random.default_rng()
    noisy = arr + mech.sample(rng, mech.scale(epsilon, delta, sensitivity), arr.shape)
    return np.clip(np.rint(noisy), 0, None).astype(np.int64)


class BudgetAccountant:
    """A device's spent (ε, δ) under basic composition, persisted in a small JSON file.

    Parameters
    ----------
    total_epsilon, total_delta : float
        The lifetime budget.
    path : str or Path, optional
        State file, rewritten atomically after each spend. Without it, pass ``state``
        (e.g. from the device's own store) and save :meth:`state` yourself.
    state : dict, optional
        ``{"spent_epsilon": ..., "spent_delta": ..., "releases": ...}``.
    """

    def __init__(self, total_epsilon: float, total_delta: float = 0.0, path: str | Path | None = None,
                 state: Mapping[str, Any] | None = None) -> None:
        self.total_epsilon = float(total_epsilon)
        self.total_delta = float(total_delta)
        self.path = Path(path) if path is not None else None
        if state is None and self.path is not None and self.path.exists():
            try:
                state = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                # Never reset a budget silently: a lost file would hand out a fresh one.
                raise DPError(f"dp budget file {self.path}: unreadable ({exc}); refusing to reset the budget") from exc
        state = state or {}
        try:
            self.spent_epsilon = float(state.get("spent_epsilon", 0.0))
            self.spent_delta = float(state.get("spent_delta", 0.0))
            self.releases = int(state.get("releases", 0))
        except (TypeError, ValueError) as exc:
            raise DPError(f"dp budget state {dict(state)!r:.200}: malformed") from exc

    @property
    def remaining_epsilon(self) -> float:
        return max(0.0, self.total_epsilon - self.spent_epsilon)

    def state(self) -> dict[str, Any]:
        """The persisted state."""
        return {"spent_epsilon": self.spent_epsilon, "spent_delta": self.spent_delta, "releases": self.releases,
                "total_epsilon": self.total_epsilon, "total_delta": self.total_delta}

    def check(self, epsilon: float, delta: float = 0.0) -> None:
        """Raise :class:`PrivacyBudgetExceeded` when spending (ε, δ) would pass the total."""
        if self.spent_epsilon + epsilon > self.total_epsilon + _EPS_SLACK:
            raise PrivacyBudgetExceeded(
                f"dp epsilon: spending {epsilon:g} on top of {self.spent_epsilon:g} already spent would exceed "
                f"the total budget {self.total_epsilon:g}")
        if self.spent_delta + delta > self.total_delta + _EPS_SLACK * 1e-6:
            raise PrivacyBudgetExceeded(
                f"dp delta: spending {delta:g} on top of {self.spent_delta:g} already spent would exceed "
                f"the total budget {self.total_delta:g}")

    def spend(self, epsilon: float, delta: float = 0.0) -> float:
        """Record a release (after :meth:`check`), persist, and return the total ε spent."""
        self.check(epsilon, delta)
        self.spent_epsilon += epsilon
        self.spent_delta += delta
        self.releases += 1
        if self.path is not None:
            self._save()
        return self.spent_epsilon

    def _save(self) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.state(), fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


@dataclass(frozen=True)
class DPRelease:
    """Noised arrays plus what the round cost and what has been spent in all."""

    arrays: dict[str, np.ndarray]
    epsilon: float
    delta: float
    spent_epsilon: float
    spent_delta: float


def privatize(arrays: Mapping[str, np.ndarray], config: DPConfig, accountant: BudgetAccountant,
              rng: np.random.Generator | None = None) -> DPRelease:
    """Noise one round's count arrays and charge the round to the accountant.

    Parameters
    ----------
    arrays : mapping of str to ndarray
        E.g. ``{"score_histogram": ..., "class_counts": ...}``.
    config : DPConfig
    accountant : BudgetAccountant
    rng : numpy.random.Generator, optional

    Returns
    -------
    DPRelease
        ``spent_epsilon`` is the device's total after this round, for the summary.

    Raises
    ------
    PrivacyBudgetExceeded
        Before any noise is drawn, when the round would pass the total budget.
    """
    if not arrays:
        raise DPError("dp arrays: empty; nothing to release")
    uses_delta = MECHANISMS[config.mechanism].uses_delta
    delta = config.delta_per_round if uses_delta else 0.0
    accountant.check(config.epsilon_per_round, delta)
    share = config.epsilon_per_round / len(arrays)
    delta_share = delta / len(arrays)
    rng = rng if rng is not None else np.random.default_rng()
    noised = {name: noise_counts(arr, config.mechanism, share, config.sensitivity, delta_share, rng)
              for name, arr in arrays.items()}
    spent = accountant.spend(config.epsilon_per_round, delta)
    logger.info("dp release: %s eps=%.3g (spent %.3g of %.3g)", config.mechanism, config.epsilon_per_round,
                spent, accountant.total_epsilon)
    return DPRelease(noised, config.epsilon_per_round, delta, spent, accountant.spent_delta)
