"""Label efficiency: federated strategies against random, the central reference and a peer.

Usage::

    python -m fedsift.simulations.benchmarks.label_efficiency --quick --json runs/bench/le.json \
        --png runs/bench/le.png
    python -m fedsift.simulations.benchmarks.label_efficiency --datasets digits --clients 10 \
        --alphas 0.5 --seeds 100 101 102 103 104
    python -m fedsift.simulations.benchmarks.label_efficiency --datasets mnist1d --clients 50 \
        --strategies hybrid --peer --set train_rounds=20   # federated runs with 20 waves a round

For each (dataset, clients, alpha) and seed it runs, on the same budget schedule:

- ``fed:<strategy>``: the federated campaign (:func:`~fedsift.simulations.run_simulation`,
  in-process backend) for every strategy asked for (default: ``auto`` and every registered
  device strategy);
  ``auto`` (the campaign default, a server-side bandit over strategies) runs federated only;
- ``fedsel:<strategy>``: the labels each federated run picked, with the central
  reference's training (:func:`~fedsift.simulations.central.retrain_on_picks`): federated
  selection alone, so the gap to ``central:<strategy>`` splits into selection and training;
- ``central:<strategy>``: centralized pool-based AL on the pooled training data, same
  MLP and strategy classes (:func:`~fedsift.simulations.central.run_central`);
- ``peer-lr:<method>``: scikit-activeml's random and uncertainty sampling with a
  logistic regression (:func:`~fedsift.simulations.central.run_peer`).

Schedule (``SCHEDULES``), following shared/LABEL-EFFICIENCY.md: one cold-start round of
``budget`` random labels, then ``budget`` labels per round chosen by the strategy, up to
800 labels for digits (50 x 16) and 1600 for MNIST-1D and the text data (100 x 16: their
cold start is 100 random labels, not 50). Federated runs keep the campaign defaults
(cross-device diversity allocation over 32-dim sketches, also for the random candidates of
the cold-start round, 10% random slice per round, the default federated training);
``fed:random`` is uniform random sampling (proportional allocation, no sketches).

Reported per arm: mean +- std test accuracy at each label count, the normalized area
under the learning curve (:func:`curve_auc`), labels needed to reach 95% of the full-data
accuracy of the same MLP trained centrally on every training label
(:func:`labels_to_target`), summary bytes per device per round, and the share of its
random baseline's labels needed to reach that baseline's final accuracy
(:func:`share_of_random`; ``fed:*`` against ``fed:random``, ``central:*`` against
``central:random``, ``peer-lr:*`` against ``peer-lr:random``). Per setting: the shortfall
of ``fed:``/``fedsel:`` against ``central:`` (:func:`gap_to_central`), ``fed:auto``
against every other federated arm, paired by seed with a standard error
(:func:`paired_against`), and each fixed arm against the best of the other fixed arms,
the yardstick for ``auto``'s best-fixed figure (:func:`fixed_against_each_other`).
Seeds default to 100-104, which no test uses.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fedsift.offline import apply_offline_environment

from .common import Repeatable

logger = logging.getLogger(__name__)

#: dataset -> (budget per round, rounds); the first round is random.
SCHEDULES: dict[str, tuple[int, int]] = {"digits": (50, 16), "mnist1d": (100, 16), "rt-text": (100, 16)}
DEFAULT_SEEDS = (100, 101, 102, 103, 104)
PEER_METHODS = ("random", "margin", "entropy")
QUICK = {"datasets": ["digits", "mnist1d"], "clients": [10], "alphas": [0.5], "seeds": [100, 101, 102],
         "strategies": ["random", "margin", "entropy", "hybrid", "auto"], "peer": ["random", "margin"]}
TARGET_SHARE = 0.95

Curve = list[dict[str, float]]


# ------------------------------------------------------------------ metrics
def curve_auc(labels: Sequence[float], accuracy: Sequence[float]) -> float:
    """Normalized area under a learning curve.

    Trapezoids over the points with at least one label, divided by the label span, so
    the result is the curve's mean accuracy over that span (a flat curve at 0.9 gives 0.9).

    Parameters
    ----------
    labels, accuracy : sequence of float
        Label counts (increasing) and the accuracy at each.

    Returns
    -------
    float
        NaN with fewer than two labeled points.
    """
    x = np.asarray(labels, dtype=np.float64)
    y = np.asarray(accuracy, dtype=np.float64)
    keep = x > 0
    x, y = x[keep], y[keep]
    if x.shape[0] < 2 or x[-1] <= x[0]:
        return float("nan")
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0) / (x[-1] - x[0]))


def labels_to_target(labels: Sequence[float], accuracy: Sequence[float], target: float) -> float | None:
    """The first label count whose accuracy reaches ``target`` (no interpolation); None if never."""
    for x, y in zip(labels, accuracy):
        if y >= target:
            return float(x)
    return None


def share_of_random(labels: Sequence[float], accuracy: Sequence[float], random_labels: Sequence[float],
                    random_accuracy: Sequence[float]) -> float | None:
    """Labels a curve needs to reach random's final accuracy, as a share of random's final label count."""
    needed = labels_to_target(labels, accuracy, random_accuracy[-1])
    return None if needed is None else needed / float(random_labels[-1])


# -------------------------------------------------------------------- runs
@dataclass
class Arm:
    """One line of the plot: per-seed curves of one method."""

    name: str
    kind: str
    curves: list[Curve] = field(default_factory=list)
    bytes_per_device: list[float] = field(default_factory=list)

    def mean_curve(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Label counts (mean over seeds), mean and std accuracy at each round."""
        n = min(len(c) for c in self.curves)
        labels = np.array([[p["labels"] for p in c[:n]] for c in self.curves], dtype=np.float64)
        acc = np.array([[p["accuracy"] for p in c[:n]] for c in self.curves], dtype=np.float64)
        return labels.mean(axis=0), acc.mean(axis=0), acc.std(axis=0)


def _campaign(dataset: str, strategy: str, seed: int):  # type: ignore[no-untyped-def]
    from fedsift.server import CampaignConfig

    budget, rounds = SCHEDULES.get(dataset, (50, 16))
    cfg = CampaignConfig(strategy=strategy, budget=budget, rounds=rounds, cold_start_rounds=1, seed=seed)
    if strategy == "random":  # the baseline is uniform random sampling: no cross-device diversity step
        cfg.allocation, cfg.cold_start_allocation, cfg.sketch_dim = "proportional", "", 0
    return cfg


#: Campaign fields the central reference reads too (model, optimizer, schedule, BALD's passes):
#: an override of one would change the yardstick along with the arm measured against it.
SHARED_WITH_CENTRAL = frozenset({"strategy", "budget", "rounds", "cold_start_rounds", "seed", "hidden",
                                 "batch_size", "lr", "weight_decay", "mc_passes", "mc_dropout",
                                 "num_features", "num_classes"})
#: The benchmark's fixed schedule (every round spends ``budget``, no early stop, so arms meet at equal
#: label counts) and the simulation's own device count: not settable.
FIXED_BY_BENCHMARK = frozenset({"total_budget", "annotators", "labels_per_annotator", "min_gain_per_100",
                                "patience", "min_nodes"})
#: What makes ``fed:random`` uniform random sampling: an override never touches these on it.
RANDOM_BASELINE_KEYS = frozenset({"allocation", "cold_start_allocation", "sketch_dim", "top_k", "max_per_device"})


def overridable_keys(fed_only: frozenset[str] = frozenset()) -> list[str]:
    """Campaign fields ``--set`` may change: those only the federated runs read, and ``fed_only``."""
    from dataclasses import fields

    from fedsift.server import CampaignConfig

    return sorted(f.name for f in fields(CampaignConfig) if f.name in fed_only or (
        f.name not in SHARED_WITH_CENTRAL and f.name not in FIXED_BY_BENCHMARK))


def parse_overrides(pairs: Sequence[str], fed_only: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``KEY=VALUE`` pairs (``--set``) as checked campaign overrides for the federated runs.

    VALUE is read as a TOML value (``20``, ``0.5``, ``true``, ``["hybrid", "badge"]``),
    else taken as a string; a dash in KEY reads as an underscore. The values are checked
    the way a config file's are (type, then range). ``fed_only`` names fields of
    :data:`SHARED_WITH_CENTRAL` that a caller's federated runs alone read (``selection_gap``
    trains every other arm with a campaign of its own).

    Raises
    ------
    SimulationError
        A pair is not KEY=VALUE, the key is not a campaign field, the central reference
        reads it too (see :data:`SHARED_WITH_CENTRAL`), or the value is of the wrong type
        or out of range.
    """
    import tomllib

    from fedsift.config import fill
    from fedsift.errors import ConfigFileError
    from fedsift.server import CampaignConfig
    from fedsift.server.errors import ConfigError
    from fedsift.simulations.errors import SimulationError

    allowed = overridable_keys(fed_only)
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise SimulationError(f"--set {pair!r}: expected KEY=VALUE")
        if key in SHARED_WITH_CENTRAL and key not in fed_only:
            raise SimulationError(f"--set {key}: the central reference reads it too, so it cannot be set for "
                                  f"the federated runs alone; settable: {', '.join(allowed)}")
        if key in FIXED_BY_BENCHMARK:
            raise SimulationError(f"--set {key}: fixed by the benchmark (every round spends the full budget, with no "
                                  f"early stop; min_nodes is the client count); settable: {', '.join(allowed)}")
        if key not in allowed:
            raise SimulationError(f"--set {key}: not a campaign setting; settable: {', '.join(allowed)}")
        try:
            value: Any = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        out[key] = value
    try:
        checked = fill(CampaignConfig, out, "--set ")
        checked.num_features, checked.num_classes = 1, 2  # the data set's, filled in per run
        checked.validate()
    except ConfigFileError as exc:
        raise SimulationError(str(exc)) from exc
    except ConfigError as exc:
        raise SimulationError(f"--set {exc}") from exc
    # the checked values (2 read for a float field is 2.0), so equal settings make equal merge keys
    return {key: getattr(checked, key) for key in out}


def _overrides_text(overrides: dict[str, Any]) -> str:
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(overrides.items()))


def run_setting(dataset: str, clients: int, alpha: float, seeds: Sequence[int], strategies: Sequence[str],
                peer: Sequence[str] = PEER_METHODS, schedule: tuple[int, int] | None = None,
                on_run: Callable[[str], None] | None = None, selection_only: bool = True,
                on_seed: Callable[[dict[str, Any]], None] | None = None,
                overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every arm of one (dataset, clients, alpha) setting over ``seeds``.

    Parameters
    ----------
    dataset : str
        A dataset name from :func:`fedsift.simulations.available_datasets`.
    clients : int
        Simulated devices of the federated runs.
    alpha : float
        Dirichlet label-skew concentration.
    seeds : sequence of int
        One run per seed and arm.
    strategies : sequence of str
        Strategies run federated and, when registered device strategies, central
        (``random`` is always added).
    peer : sequence of str
        scikit-activeml methods (see :data:`fedsift.simulations.central.PEER_METHODS`).
    schedule : (int, int), optional
        (budget, rounds); default from :data:`SCHEDULES`.
    on_run : callable, optional
        Called with a label after every finished run (progress display).
    selection_only : bool
        Also train the central reference's MLP on each federated run's picks
        (``fedsel:<strategy>``): federated selection with central training, which tells
        the selection half of the federated-vs-central gap from the training half.
    on_seed : callable, optional
        Called after every finished seed with the setting over the seeds done so far
        (the same form as the return value), so a long run can be checkpointed.
    overrides : dict, optional
        Campaign settings for the federated runs only (:func:`parse_overrides`), e.g.
        ``{"train_rounds": 20}``; recorded in the result. ``fed:random`` keeps its uniform
        allocation whatever they say (:data:`RANDOM_BASELINE_KEYS`).

    Returns
    -------
    dict
        JSON-ready: the setting, the full-data ceiling and every arm's curves and metrics.
    """
    from fedsift.simulations import SimulationConfig, load_dataset, run_simulation
    from fedsift.simulations.central import full_data_accuracy, retrain_on_picks, run_central, run_peer

    from fedsift.edge_runtime import available_strategies

    strategies = ["random", *[s for s in strategies if s != "random"]]
    central = [s for s in strategies if s in available_strategies()]
    peer = ["random", *[p for p in peer if p != "random"]] if peer else []
    data = load_dataset(dataset)
    arms: dict[str, Arm] = {}
    ceilings = []
    done = on_run or (lambda label: None)

    def campaign(strategy: str, seed: int):  # type: ignore[no-untyped-def]
        c = _campaign(dataset, strategy, seed)
        if schedule is not None:
            c.budget, c.rounds = schedule
        return c

    overrides = dict(overrides or {})

    def fed_campaign(strategy: str, seed: int):  # type: ignore[no-untyped-def]
        c = campaign(strategy, seed)
        for key, value in overrides.items():
            if not (strategy == "random" and key in RANDOM_BASELINE_KEYS):
                setattr(c, key, value)
        return c

    for seed in seeds:
        ceilings.append(full_data_accuracy(data, campaign("random", seed)))
        for s in strategies:
            res = run_simulation(SimulationConfig(dataset=dataset, clients=clients, alpha=alpha,
                                                  campaign=fed_campaign(s, seed)))
            arm = arms.setdefault(f"fed:{s}", Arm(f"fed:{s}", "federated"))
            arm.curves.append([{"labels": r.labels, "accuracy": r.accuracy} for r in res.rounds])
            arm.bytes_per_device.append(float(np.mean([r.summary_bytes_per_device for r in res.rounds[1:]])))
            done(f"{dataset} fed:{s} seed {seed}")
            if selection_only:
                curve = retrain_on_picks(data, campaign(s, seed), res.labeled_rows)
                arms.setdefault(f"fedsel:{s}", Arm(f"fedsel:{s}", "federated selection")).curves.append(
                    [p.to_dict() for p in curve])
                done(f"{dataset} fedsel:{s} seed {seed}")
        for s in central:
            curve = run_central(data, campaign(s, seed))
            arms.setdefault(f"central:{s}", Arm(f"central:{s}", "central")).curves.append(
                [p.to_dict() for p in curve])
            done(f"{dataset} central:{s} seed {seed}")
        for m in peer:
            curve = run_peer(data, campaign(m, seed), m)
            arms.setdefault(f"peer-lr:{m}", Arm(f"peer-lr:{m}", "peer")).curves.append([p.to_dict() for p in curve])
            done(f"{dataset} peer-lr:{m} seed {seed}")
        if on_seed is not None and len(ceilings) < len(seeds):
            on_seed(_setting_result(dataset, clients, alpha, list(seeds)[:len(ceilings)], schedule, ceilings, arms,
                                    overrides))
    result = _setting_result(dataset, clients, alpha, list(seeds), schedule, ceilings, arms, overrides)
    if on_seed is not None:
        on_seed(result)
    return result


def _setting_result(dataset: str, clients: int, alpha: float, seeds: list[int], schedule: tuple[int, int] | None,
                    ceilings: list[float], arms: dict[str, Arm], overrides: dict[str, Any]) -> dict[str, Any]:
    """The JSON-ready setting over ``seeds`` (every arm has one curve per seed)."""
    ceiling = float(np.mean(ceilings))
    result = {"dataset": dataset, "clients": clients, "alpha": alpha, "seeds": seeds,
              "schedule": dict(zip(("budget", "rounds"), schedule or SCHEDULES.get(dataset, (50, 16)))),
              "overrides": dict(overrides),
              "full_data_accuracy": ceiling, "full_data_accuracy_std": float(np.std(ceilings)),
              "target": TARGET_SHARE * ceiling, "arms": _summarize(arms, TARGET_SHARE * ceiling)}
    result["gap_to_central"] = gap_to_central(result)
    result["auto_paired"] = paired_against(result)
    result["fixed_paired"] = fixed_against_each_other(result)
    return result


def _summarize(arms: dict[str, Arm], target: float) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    means = {name: arm.mean_curve() for name, arm in arms.items()}
    for name, arm in arms.items():
        labels, mean, std = means[name]
        prefix = name.split(":", 1)[0]
        base = means.get(f"{prefix}:random")
        share = None if base is None else share_of_random(labels, mean, base[0], base[1])
        out[name] = {
            "kind": arm.kind, "labels": labels.tolist(), "mean": mean.tolist(), "std": std.tolist(),
            "auc": curve_auc(labels, mean), "auc_std": float(np.std([curve_auc(
                [p["labels"] for p in c], [p["accuracy"] for p in c]) for c in arm.curves])),
            "labels_to_target": labels_to_target(labels, mean, target),
            "share_of_random": share,
            "bytes_per_device_round": float(np.mean(arm.bytes_per_device)) if arm.bytes_per_device else None,
            "curves": list(arm.curves),  # a copy: a checkpoint must not grow with later seeds
        }
    return out


# ------------------------------------------------------------------ output
def _fmt(v: float | None, spec: str = ".3f", none: str = "—") -> str:
    return none if v is None or (isinstance(v, float) and np.isnan(v)) else format(v, spec)


def markdown_tables(setting: dict[str, Any]) -> str:
    """The summary table and the learning-curve table of one setting, as markdown."""
    arms = setting["arms"]
    title = (f"### {setting['dataset']}, {setting['clients']} clients, alpha {setting['alpha']}, "
             f"seeds {', '.join(map(str, setting['seeds']))}; full-data MLP {setting['full_data_accuracy']:.3f}, "
             f"target (95%) {setting['target']:.3f}"
             + (f"; federated runs with {_overrides_text(setting['overrides'])}" if setting.get("overrides") else "")
             + (f"; arms rerun and replaced in a merge: {', '.join(setting['replaced_arms'])}"
                if setting.get("replaced_arms") else ""))
    lines = [title, "", "| arm | final acc | AUC | labels to 95% | share of random's labels | bytes/device/round |",
             "|---|---|---|---|---|---|"]
    for name, a in arms.items():
        share = a["share_of_random"]
        lines.append(f"| {name} | {a['mean'][-1]:.3f} ± {a['std'][-1]:.3f} | {_fmt(a['auc'])} ± {_fmt(a['auc_std'])} "
                     f"| {_fmt(a['labels_to_target'], '.0f', 'not reached')} "
                     f"| {_fmt(share, '.2f', '> 1 (not reached)')} | {_fmt(a['bytes_per_device_round'], '.0f')} |")
    counts = sorted({round(x) for a in arms.values() for x in a["labels"] if x > 0})
    lines += ["", "| arm | " + " | ".join(str(c) for c in counts) + " |", "|---|" + "---|" * len(counts)]
    for name, a in arms.items():
        by_count = {round(x): (m, s) for x, m, s in zip(a["labels"], a["mean"], a["std"])}
        cells = [f"{by_count[c][0]:.3f} ± {by_count[c][1]:.3f}" if c in by_count else "" for c in counts]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def comparison_lines(setting: dict[str, Any]) -> list[str]:
    """One line per non-random arm: share of its random baseline's labels to reach random's final accuracy."""
    out = []
    for name, a in setting["arms"].items():
        prefix, method = name.split(":", 1)
        base = setting["arms"].get(f"{prefix}:random")
        if method == "random" or base is None:
            continue
        share = a["share_of_random"]
        verdict = (f"reaches {prefix}:random's final {base['mean'][-1]:.3f} with {share:.0%} of its "
                   f"{base['labels'][-1]:.0f} labels" if share is not None
                   else f"does not reach {prefix}:random's final {base['mean'][-1]:.3f}")
        out.append(f"{name} {verdict}")
    return out


def _sem(d: np.ndarray) -> float:
    """Standard error of the mean of per-seed differences (nan with one seed)."""
    return float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan")


def _per_seed(arm: dict[str, Any]) -> dict[int, np.ndarray]:
    """Label count -> accuracies of the arm's runs in seed order (only counts every run reached)."""
    runs = [{round(p["labels"]): p["accuracy"] for p in c if p["labels"] > 0} for c in arm.get("curves", [])]
    if not runs:
        return {}
    shared = set.intersection(*(set(r) for r in runs))
    return {n: np.array([r[n] for r in runs]) for n in sorted(shared)}


def gap_to_central(setting: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per strategy run both ways, the largest shortfall against ``central:<strategy>`` in points.

    ``end_to_end`` compares ``fed:<s>`` (federated selection and training), ``selection``
    compares ``fedsel:<s>`` (federated selection, central training); both at equal label
    counts, over every count the arms share. Positive = federated is behind. With the runs'
    curves, ``<key>_se`` is the standard error of the per-seed difference at the worst
    count (``<key>_labels``).
    """
    arms = setting["arms"]
    out: dict[str, dict[str, float]] = {}
    for name, ref in arms.items():
        if not name.startswith("central:"):
            continue
        method = name.split(":", 1)[1]
        ref_at = {round(x): m for x, m in zip(ref["labels"], ref["mean"]) if x > 0}
        row: dict[str, float] = {}
        for key, prefix in (("end_to_end", "fed"), ("selection", "fedsel")):
            arm = arms.get(f"{prefix}:{method}")
            if arm is None:
                continue
            gaps = {round(x): 100 * (ref_at[round(x)] - m) for x, m in zip(arm["labels"], arm["mean"])
                    if round(x) in ref_at}
            if gaps:
                at = max(gaps, key=lambda n: gaps[n])
                row[key] = float(gaps[at])
                row[f"{key}_mean"] = float(np.mean(list(gaps.values())))
                row[f"{key}_labels"] = at
                # Same seeds on both sides: the per-seed difference's standard error at the worst count.
                mine, theirs = _per_seed(arm).get(at), _per_seed(ref).get(at)
                if mine is not None and theirs is not None and len(mine) == len(theirs) > 1:
                    row[f"{key}_se"] = _sem(100 * (theirs - mine))
        if row:
            out[method] = row
    return out


def paired_against(setting: dict[str, Any], arm: str = "fed:auto", exclude: Sequence[str] = ()) -> dict[str, Any]:
    """``arm`` against every other federated arm (but ``exclude``) and the best of them, paired by seed.

    Every arm of a setting runs on the same seeds (same partition, same cold-start
    round), so the per-seed difference at a label count removes most of the run-to-run
    variation; its standard error says whether a shortfall is more than noise. For each
    other ``fed:`` arm: the worst mean difference over the shared label counts (points,
    negative = ``arm`` is behind), the count where it occurs and the standard error
    there. ``best_fixed`` compares, at each count, against whichever other arm (random
    excluded) has the highest mean there.
    """
    arms = setting["arms"]
    if arm not in arms:
        return {}
    mine = _per_seed(arms[arm])
    others = {name: _per_seed(other) for name, other in arms.items()
              if name.startswith("fed:") and name != arm and name not in exclude}
    diffs = {name: {n: 100 * (mine[n] - theirs[n]) for n in mine if n in theirs and len(theirs[n]) == len(mine[n])}
             for name, theirs in others.items()}

    def worst(by_count: dict[int, np.ndarray], names: dict[int, str] | None = None) -> dict[str, Any]:
        if not by_count:
            return {}
        n = min(by_count, key=lambda c: float(by_count[c].mean()))
        d = by_count[n]
        row: dict[str, Any] = {"worst": float(d.mean()), "labels": n, "se": _sem(d),
                               "mean": float(np.mean([v.mean() for v in by_count.values()]))}
        if names is not None:
            row["against"] = names[n]
        return row

    out: dict[str, Any] = {name: worst(d) for name, d in diffs.items() if d}
    fixed = {name: d for name, d in diffs.items() if d and name != "fed:random"}
    if fixed:
        counts = set.intersection(*(set(d) for d in fixed.values()))
        best = {n: max(fixed, key=lambda name: float(others[name][n].mean())) for n in counts}
        out["best_fixed"] = worst({n: fixed[best[n]][n] for n in counts}, best)
    return out


def fixed_against_each_other(setting: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each fixed federated arm against the best of the *other* fixed arms, paired by seed.

    The yardstick for ``auto``'s ``best_fixed`` figure: the best of several arms at each
    label count sits above any single arm by the noise of the curves alone, so a worst
    difference of about a point below "the best fixed arm" is what even a fixed choice
    shows. A fixed arm whose figure here is above ``auto``'s would have met the bar that
    ``auto`` missed. ``fed:auto`` and ``fed:random`` are neither measured nor compared
    against, nor is any other server-side selector (``round-robin``). Empty with fewer
    than two fixed arms.
    """
    from fedsift.server.selection import SELECTORS

    selectors = [f"fed:{s}" for s in SELECTORS]
    fixed = [n for n in setting["arms"] if n.startswith("fed:") and n != "fed:random" and n not in selectors]
    if len(fixed) < 2:
        return {}
    out = {}
    for name in fixed:
        best = paired_against(setting, name, exclude=selectors).get("best_fixed")
        if best:
            out[name] = best
    return out


def plot(settings: Sequence[dict[str, Any]], path: Path) -> Path:
    """Learning curves, mean ± std bands, one panel per setting.

    One color per method; line style per kind (solid federated, dash-dot federated selection
    with central training, dashed central, dotted peer).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(len(settings), 2)
    rows = -(-len(settings) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(7 * cols, 4.5 * rows), dpi=110, squeeze=False)
    styles = {"federated": "-", "federated selection": "-.", "central": "--", "peer": ":"}
    methods = list(dict.fromkeys(name.split(":", 1)[1] for st in settings for name in st["arms"]))
    palette = plt.get_cmap("tab20" if len(methods) > 10 else "tab10")
    for ax, setting in zip(axes.flat, settings):
        for name, a in setting["arms"].items():
            x, m, s = (np.asarray(a[k]) for k in ("labels", "mean", "std"))
            keep = x > 0
            color = palette(methods.index(name.split(":", 1)[1]) % palette.N)
            ax.plot(x[keep], m[keep], styles.get(a["kind"], "-"), color=color,
                    lw=2.2 if name.endswith(":random") else 1.3, label=name)
            ax.fill_between(x[keep], (m - s)[keep], (m + s)[keep], color=color, alpha=0.12)
        ax.axhline(setting["target"], color="grey", lw=0.8, ls="-.", label="95% of full data")
        ax.set_title(f"{setting['dataset']}, {setting['clients']} clients, α={setting['alpha']}"
                     + (f"\n{_overrides_text(setting['overrides'])}" if setting.get("overrides") else ""),
                     fontsize=9 if setting.get("overrides") else None)
        ax.set_xlabel("labels")
        ax.set_ylabel("test accuracy")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, ncol=2)
    for ax in list(axes.flat)[len(settings):]:
        ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def run_benchmark(datasets: Sequence[str], clients: Sequence[int], alphas: Sequence[float], seeds: Sequence[int],
                  strategies: Sequence[str], peer: Sequence[str] = PEER_METHODS,
                  on_run: Callable[[str], None] | None = None,
                  on_checkpoint: Callable[[dict[str, Any]], None] | None = None,
                  overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run every setting; the JSON-ready result with the wall time.

    ``overrides`` are campaign settings for the federated runs (see :func:`run_setting`).

    ``on_checkpoint``, if given, gets the result so far after every finished seed, marked
    ``"partial": true`` and holding only whole seeds: such a result pools with a run of
    the remaining seeds through :func:`merge_results`.
    """
    start = time.perf_counter()
    settings: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []  # the running setting's seeds so far, kept if it fails

    def checkpoint(partial: dict[str, Any]) -> None:
        current[:] = [partial]
        if on_checkpoint is not None:
            on_checkpoint({"settings": [*settings, partial], "wall_seconds": time.perf_counter() - start,
                           "partial": True, **({"failed": list(failed)} if failed else {})})

    for ds in datasets:
        for n in clients:
            for alpha in alphas:
                logger.info("setting %s, %d clients, alpha %s", ds, n, alpha)
                current.clear()
                try:
                    settings.append(run_setting(ds, n, alpha, seeds, strategies, peer, on_run=on_run,
                                                on_seed=checkpoint, overrides=overrides))
                except Exception as exc:  # noqa: BLE001  one failing setting must not cost the others
                    logger.exception("setting %s, %d clients, alpha %s failed; going on with the next", ds, n, alpha)
                    done = current[0]["seeds"] if current else []
                    failed.append({"dataset": ds, "clients": n, "alpha": alpha, "error": f"{type(exc).__name__}: {exc}",
                                   "seeds_finished": list(done)})
                    settings.extend(current)  # its finished seeds are whole and stay in the result
    result: dict[str, Any] = {"settings": settings, "wall_seconds": time.perf_counter() - start}
    if failed:
        result["failed"] = failed
    return result


def _checked_setting(i: int, setting: Any) -> tuple[tuple[Any, ...], list[int], dict[str, Any]]:
    """One result's setting, validated: its key, seeds and arms (every arm with one curve per seed)."""
    from fedsift.simulations.errors import SimulationError

    try:
        overrides = setting.get("overrides", {})  # results written before --set ran the defaults
        if not isinstance(overrides, dict):
            raise TypeError(f"overrides must be a mapping, got {overrides!r}")
        replaced = setting.get("replaced_arms", [])
        if not isinstance(replaced, list) or not all(isinstance(n, str) for n in replaced):
            raise TypeError(f"replaced_arms must be a list of arm names, got {replaced!r}")
        key = (setting["dataset"], setting["clients"], setting["alpha"], tuple(sorted(setting["schedule"].items())),
               json.dumps(overrides, sort_keys=True))
        seeds, arms = list(setting["seeds"]), setting["arms"]
        float(setting["full_data_accuracy"]), float(setting["full_data_accuracy_std"])
    except (KeyError, AttributeError) as exc:
        raise SimulationError(f"result {i}: a setting lacks {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise SimulationError(f"result {i}: a setting has a malformed field: {exc}") from exc
    if len(set(seeds)) != len(seeds):
        raise SimulationError(f"result {i}: {key[0]} lists a seed twice ({seeds})")
    if not isinstance(arms, dict):
        raise SimulationError(f"result {i}: the arms of {key[0]} are not a mapping")
    for name, arm in arms.items():
        curves = arm.get("curves") if isinstance(arm, dict) else None
        if not isinstance(curves, list) or len(curves) != len(seeds):
            raise SimulationError(f"result {i}: arm {name} of {key[0]} has no per-seed curves")
        if not all(isinstance(c, list) and c and all(
                isinstance(pt, dict) and all(isinstance(pt.get(f), (int, float)) and not isinstance(
                    pt.get(f), bool) for f in ("labels", "accuracy")) for pt in c) for c in curves):
            raise SimulationError(f"result {i}: arm {name} of {key[0]}: a curve point is not "
                                  "{'labels': number, 'accuracy': number}")
    return key, seeds, arms


def _where(key: tuple[Any, ...]) -> str:
    """A merge key as words: dataset, clients, alpha, and the ``--set`` overrides if any."""
    overrides = json.loads(key[4])
    return (f"{key[0]}, {key[1]} clients, alpha {key[2]}"
            + (f", federated runs with {_overrides_text(overrides)}" if overrides else ""))


def _join_arms(into: dict[str, Any], i: int, key: tuple[Any, ...], seeds: list[int], arms: dict[str, Any],
               arms_setting: dict[str, Any], replace: bool = False) -> None:
    """Add a result's arms (of ``arms_setting``), run on the very seeds of ``into``, to it.

    An arm both hold (every run includes ``random``) must reproduce: the runs are seeded,
    so the same arm on the same seeds gives the same curves; anything else means the two
    were run with different code or settings, and pooling them would compare unlike runs.
    With ``replace`` (a rerun of some arms after a fix), such an arm is taken from this
    later result instead, and its name is recorded in ``into["replaced"]``.
    """
    from fedsift.simulations.errors import SimulationError

    if float(arms_setting["full_data_accuracy"]) != float(into["setting"]["full_data_accuracy"]):
        raise SimulationError(f"result {i}: {_where(key)}: the full-data accuracy differs from the earlier "
                              "result's on the same seeds, so the runs used different code or settings")
    order = [seeds.index(s) for s in into["seeds"]]
    added = []
    for name, arm in arms.items():
        curves = [arm["curves"][k] for k in order]
        if name in into["arms"]:
            if into["arms"][name]["curves"] == curves:
                continue
            if not replace:
                raise SimulationError(f"result {i}: {_where(key)}: arm {name} differs from the earlier result's "
                                      "on the same seeds; the same arm on the same seeds reproduces, so the runs "
                                      "used different code or settings (--replace-arms keeps the later one)")
            into["replaced"].append(name)
        added.append(name)
        into["arms"][name] = {**arm, "curves": curves}
    into["replaced"] += [name for name in arms_setting.get("replaced_arms", []) if name in added]
    if not added:
        raise SimulationError(f"result {i}: {_where(key)}: seeds {sorted(seeds)} are already in an earlier "
                              "result, with no new or changed arm")


def merge_results(results: Sequence[dict[str, Any]], replace: bool = False) -> dict[str, Any]:
    """Pool benchmark results run on disjoint seeds, or on the same seeds with other arms, into one.

    Settings match on (dataset, clients, alpha, schedule, ``--set`` overrides). Results of
    a setting on the very same seeds are joined arm by arm (a later run of more strategies
    on seeds already run); an arm both hold must have identical curves, unless ``replace``
    is given: then the later result's curves win and the setting lists the arm under
    ``replaced_arms`` (a rerun of some arms after a fix, joined to the arms it left
    alone). Results on disjoint seeds are then
    concatenated in input order (other sessions, other machines), and every table is
    recomputed from the per-seed curves. The full-data accuracy is pooled over seeds;
    bytes per device are weighted by seed count.

    Raises
    ------
    SimulationError
        A result is not a label-efficiency result, two results share some but not all
        seeds of one setting (or all of them and no new arm), an arm both hold differs,
        or an arm's curves are missing.
    """
    from fedsift.simulations.errors import SimulationError

    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    wall = 0.0
    for i, result in enumerate(results):
        if not isinstance(result, dict) or not isinstance(result.get("settings"), list):
            raise SimulationError(f"result {i}: not a label-efficiency result (no 'settings' list)")
        wall += float(result.get("wall_seconds", 0.0))
        for setting in result["settings"]:
            key, seeds, arms = _checked_setting(i, setting)
            entries = groups.setdefault(key, [])
            same = [e for e in entries if set(e["seeds"]) == set(seeds)]  # no seed is listed twice
            if same:
                _join_arms(same[0], i, key, seeds, arms, setting, replace)
                continue
            for e in entries:
                if set(seeds) & set(e["seeds"]):
                    raise SimulationError(f"result {i}: {_where(key)}: seeds "
                                          f"{sorted(set(seeds) & set(e['seeds']))} are already in an earlier "
                                          "result")
            entries.append({"setting": setting, "seeds": seeds, "arms": dict(arms), "replaced": []})
    settings = []
    for key, entries in groups.items():
        seeds_all: list[int] = []
        ceilings = []
        pooled_arms: dict[str, Arm] = {}
        for e in entries:
            seeds_all += e["seeds"]
            ceilings.append((len(e["seeds"]), float(e["setting"]["full_data_accuracy"]),
                             float(e["setting"]["full_data_accuracy_std"])))
            for name, arm in e["arms"].items():
                merged = pooled_arms.setdefault(name, Arm(name, arm.get("kind", "")))
                merged.curves += arm["curves"]
                if arm.get("bytes_per_device_round") is not None:
                    merged.bytes_per_device += [float(arm["bytes_per_device_round"])] * len(e["seeds"])
        n = sum(c[0] for c in ceilings)
        ceiling = sum(c[0] * c[1] for c in ceilings) / n
        second = sum(c[0] * (c[2] ** 2 + c[1] ** 2) for c in ceilings) / n
        counts = {name: len(arm.curves) for name, arm in pooled_arms.items()}
        if any(c != len(seeds_all) for c in counts.values()):
            raise SimulationError(f"{_where(key)}: the results do not run the same arms ({counts})")
        setting = {k: entries[0]["setting"][k] for k in ("dataset", "clients", "alpha", "schedule")}
        setting["overrides"] = dict(entries[0]["setting"].get("overrides", {}))
        replaced = sorted({name for e in entries for name in e["replaced"]}
                          | {name for e in entries for name in e["setting"].get("replaced_arms", [])})
        if replaced:
            setting["replaced_arms"] = replaced
        setting.update(seeds=seeds_all, full_data_accuracy=ceiling,
                       full_data_accuracy_std=float(np.sqrt(max(second - ceiling ** 2, 0.0))),
                       target=TARGET_SHARE * ceiling, arms=_summarize(pooled_arms, TARGET_SHARE * ceiling))
        setting["gap_to_central"] = gap_to_central(setting)
        setting["auto_paired"] = paired_against(setting)
        setting["fixed_paired"] = fixed_against_each_other(setting)
        settings.append(setting)
    return {"settings": settings, "wall_seconds": wall}


def merge_files(paths: Sequence[Path], replace: bool = False) -> dict[str, Any]:
    """:func:`merge_results` over JSON files; an unreadable or non-JSON file is a SimulationError too."""
    from fedsift.simulations.errors import SimulationError

    results = []
    for path in paths:
        try:
            results.append(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise SimulationError(f"{path}: {exc}") from exc
    return merge_results(results, replace)


def runs_per_setting(seeds: Sequence[int], strategies: Sequence[str], peer: Sequence[str],
                     selection_only: bool = True) -> int:
    """How many runs (for a progress bar) one setting makes."""
    from fedsift.edge_runtime import available_strategies

    fed = {"random", *strategies}
    n_peer = len({"random", *peer}) if peer else 0
    return len(seeds) * ((2 if selection_only else 1) * len(fed) + len(fed & set(available_strategies())) + n_peer)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (``--quick`` fills those not given)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="digits + mnist1d, 10 clients, alpha 0.5, 3 seeds, random/margin/entropy/hybrid/auto")
    p.add_argument("--datasets", nargs="+", action=Repeatable, default=None)
    p.add_argument("--clients", type=int, nargs="+", action=Repeatable, default=None)
    p.add_argument("--alphas", type=float, nargs="+", action=Repeatable, default=None)
    p.add_argument("--seeds", type=int, nargs="+", action=Repeatable, default=None)
    p.add_argument("--strategies", nargs="+", action=Repeatable, default=None,
                   help="default: auto and all registered strategies")
    p.add_argument("--peer", nargs="*", action=Repeatable, default=None,
                   help="scikit-activeml methods (random, margin, entropy)")
    p.add_argument("--json", type=Path, default=None,
                   help="write the results here; rewritten after every finished seed (marked partial) as a checkpoint")
    p.add_argument("--png", type=Path, default=None)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="a campaign setting for the federated runs only (repeatable), e.g. train_rounds=20; "
                        "recorded in the result, and results run with other settings are not merged")
    p.add_argument("--merge", type=Path, nargs="+", action=Repeatable, default=None, metavar="JSON",
                   help="run nothing: pool these results (disjoint seeds, or the same seeds with other arms) "
                        "into one report, --json and --png (list the files after one --merge, or repeat it)")
    p.add_argument("--replace-arms", action="store_true",
                   help="with --merge: where two results on the same seeds hold an arm with different curves (a "
                        "rerun after a fix), keep the later result's and list the arm as replaced")
    args = p.parse_args(argv)
    if args.replace_arms and not args.merge:
        p.error("--replace-arms applies to --merge")
    defaults = QUICK if args.quick else {"datasets": ["digits", "mnist1d", "rt-text"], "clients": [10, 50],
                                         "alphas": [0.1, 0.5], "seeds": list(DEFAULT_SEEDS),
                                         "strategies": None, "peer": list(PEER_METHODS)}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.strategies is None:
        from fedsift.edge_runtime import available_strategies

        args.strategies = ["auto", *available_strategies()]
    return args


def report(result: dict[str, Any]) -> str:
    """The printed report: per setting its tables and comparison lines."""
    parts = []
    for setting in result["settings"]:
        parts.append(markdown_tables(setting))
        lines = comparison_lines(setting)
        if lines:
            parts.append("\n".join(f"- {line}" for line in lines))
        gaps = gap_to_central(setting)
        if gaps:
            rows = ["| strategy | fed vs central: worst ± SE at labels / mean (points) | fedsel vs central: same |",
                    "|---|---|---|"]
            for method, g in gaps.items():
                cells = [f"{g[k]:+.1f}" + (f" ± {g[k + '_se']:.1f}" if k + "_se" in g else "")
                         + f" at {g[k + '_labels']} / {g[k + '_mean']:+.1f}" if k in g else "—"
                         for k in ("end_to_end", "selection")]
                rows.append(f"| {method} | " + " | ".join(cells) + " |")
            parts.append("Shortfall against the same strategy run centrally, at equal labels "
                         "(fedsel = federated selection, central training; federated arms other than "
                         "random pick their cold-start batch from the devices' random candidates with the "
                         "cold-start allocation, central ones draw it uniformly):\n\n" + "\n".join(rows))
        paired = paired_against(setting)
        if paired:
            rows = ["| fed:auto against | worst difference (points) ± SE | at labels | mean difference |",
                    "|---|---|---|---|"]
            for name, g in paired.items():
                label = f"best fixed ({g['against']})" if name == "best_fixed" else name
                rows.append(f"| {label} | {g['worst']:+.1f} ± {_fmt(g['se'], '.1f')} | {g['labels']} "
                            f"| {g['mean']:+.1f} |")
            parts.append("fed:auto against the other federated arms, paired by seed (negative = auto is "
                         "behind; best fixed = the best other arm but random at each count):\n\n" + "\n".join(rows))
        floor = fixed_against_each_other(setting)
        if floor:
            rows = ["| fixed arm | worst against the best other fixed arm (points) ± SE | against | at labels |",
                    "|---|---|---|---|"]
            rows += [f"| {name} | {g['worst']:+.1f} ± {_fmt(g['se'], '.1f')} | {g['against']} | {g['labels']} |"
                     for name, g in floor.items()]
            parts.append("The same yardstick for each fixed arm (auto left out): how far below the best of the "
                         "others a fixed choice falls at its worst count. auto's best-fixed figure is read "
                         "against the highest of these:\n\n" + "\n".join(rows))
    for f in result.get("failed", []):
        parts.append(f"FAILED: {f['dataset']}, {f['clients']} clients, alpha {f['alpha']} "
                     f"(seeds finished: {f['seeds_finished'] or 'none'}): {f['error'][:500]}")
    if result.get("partial"):
        parts.append("partial result (a checkpoint): only the seeds finished so far")
    parts.append(f"wall time: {result['wall_seconds']:.0f} s")
    return "\n\n".join(parts)


def write_json(result: dict[str, Any], path: Path) -> None:
    """Write ``result`` to ``path`` through a temporary file, so a reader (or a kill) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def write_outputs(result: dict[str, Any], json_path: Path | None, png_path: Path | None) -> None:
    """Write the JSON and PNG where asked."""
    if json_path is not None:
        write_json(result, json_path)
    if png_path is not None:
        plot(result["settings"], png_path)


def checkpointer(json_path: Path | None) -> Callable[[dict[str, Any]], None] | None:
    """``on_checkpoint`` for :func:`run_benchmark`: the partial result goes to ``json_path`` after every seed."""
    if json_path is None:
        return None

    def save(partial: dict[str, Any]) -> None:
        write_json(partial, json_path)
        logger.info("checkpoint: %s (%s)", json_path, ", ".join(
            f"{s['dataset']} {len(s['seeds'])} seed(s)" for s in partial["settings"]))
    return save


def main(argv: list[str] | None = None) -> None:
    apply_offline_environment()
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import flwr  # noqa: F401  (importing flwr resets its logger: set levels afterwards)

    if args.merge:
        from fedsift.simulations.errors import SimulationError

        if args.overrides:
            raise SystemExit("label_efficiency: --set applies to runs; --merge runs nothing (the settings of "
                             "merged results are those they were run with)")
        try:
            result = merge_files(args.merge, args.replace_arms)
        except SimulationError as exc:
            raise SystemExit(f"label_efficiency --merge: {exc}") from exc
        write_outputs(result, args.json, args.png)
        print(report(result))
        return
    for name in ("flwr", "fedsift.server", "fedsift.simulations.runner"):
        logging.getLogger(name).setLevel(logging.ERROR)
    total = runs_per_setting(args.seeds, args.strategies, args.peer) * len(args.datasets) * len(args.clients) \
        * len(args.alphas)
    count = [0]

    def on_run(label: str) -> None:
        count[0] += 1
        logger.info("[%d/%d] %s", count[0], total, label)

    from fedsift.simulations.errors import SimulationError

    try:
        overrides = parse_overrides(args.overrides)
    except SimulationError as exc:
        raise SystemExit(f"label_efficiency: {exc}") from exc
    result = run_benchmark(args.datasets, args.clients, args.alphas, args.seeds, args.strategies, args.peer, on_run,
                           on_checkpoint=checkpointer(args.json), overrides=overrides)
    write_outputs(result, args.json, args.png)
    print(report(result))
    if result.get("failed"):
        raise SystemExit(f"label_efficiency: {len(result['failed'])} setting(s) failed; see FAILED above")


if __name__ == "__main__":
    main()
