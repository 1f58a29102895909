"""How ``auto`` learns: its reward variants and a round-robin baseline beside its own arms, paired by seed.

Every variant runs the label-efficiency benchmark's federated schedule (``SCHEDULES``:
one random cold-start round, then ``budget`` labels per round) on the same seeds:

- ``auto``: the default bandit (prequential Brier reward on each round's fresh slice);
- ``auto-accuracy``: the same with the paired accuracy gain as reward;
- ``auto-holdout``: the slice is held out of training and every round is judged on all
  of it;
- ``auto-test``: rewarded with the gain in accuracy on the test set the table reports:
  an upper bound on what a better slice reward could reach, not a deployable arm;
- ``round-robin``: the arms in turn, one a round, no learning;
- every arm of ``auto`` (``CampaignConfig.auto_arms``) alone.

If ``auto-test`` is no closer to the better arm than ``auto``, the reward's noise is not
what keeps the bandit from it; if ``round-robin`` is as close, neither is switching.

Run: ``python -m fedsift.simulations.benchmarks.auto_study --dataset mnist1d --alphas 0.5 0.1
--seeds 130 131 132 --json runs/bench/auto_study.json``. The JSON is rewritten after every seed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fedsift.offline import apply_offline_environment

from .common import Progress, Repeatable, print_stored, quiet_logs, read_stored, with_wall_time
from .label_efficiency import _campaign, _sem, curve_auc, write_json

#: name -> (campaign strategy, CampaignConfig overrides)
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "auto": ("auto", {}),
    "auto-accuracy": ("auto", {"auto_reward": "accuracy"}),
    "auto-holdout": ("auto", {"holdout_validation": "yes"}),
    "auto-test": ("auto", {"auto_reward": "test"}),
    "round-robin": ("round-robin", {}),
}


def default_arms() -> list[str]:
    from fedsift.server import CampaignConfig

    return list(CampaignConfig().auto_arms)


def run_setting(dataset: str, clients: int, alpha: float, seeds: Sequence[int], variants: Sequence[str],
                schedule: tuple[int, int] | None = None, on_run: Callable[[str], None] | None = None,
                on_seed: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Curves and per-round arms of ``variants`` and of every ``auto`` arm alone, over ``seeds``.

    ``schedule`` is (budget, rounds); default the label-efficiency schedule of ``dataset``.
    """
    from fedsift.simulations import SimulationConfig, run_simulation

    arms = default_arms()
    names = [*arms, *[v for v in variants if v not in arms]]
    runs: dict[str, dict[str, list[Any]]] = {n: {"curves": [], "plays": []} for n in names}
    setting: dict[str, Any] = {"dataset": dataset, "clients": clients, "alpha": alpha, "seeds": [],
                               "arms": arms, "variants": names, "runs": runs}
    for seed in seeds:
        for name in names:
            strategy, overrides = VARIANTS.get(name, (name, {}))
            cfg = _campaign(dataset, strategy, seed)
            if schedule is not None:
                cfg.budget, cfg.rounds = schedule
            for key, value in overrides.items():
                setattr(cfg, key, value)
            res = run_simulation(SimulationConfig(dataset=dataset, clients=clients, alpha=alpha, campaign=cfg))
            runs[name]["curves"].append([{"labels": r.labels, "accuracy": r.accuracy} for r in res.rounds])
            runs[name]["plays"].append([r.strategy for r in res.rounds[1 + cfg.cold_start_rounds:]])
            if on_run is not None:
                on_run(f"{dataset} alpha {alpha} {name} seed {seed}")
        setting["seeds"].append(seed)
        setting["compare"] = compare(setting)
        if on_seed is not None:
            on_seed(setting)
    return setting


def _accuracy(runs: dict[str, Any], name: str) -> tuple[list[float], np.ndarray]:
    curves = runs[name]["curves"]
    n = min(len(c) for c in curves)
    return [c["labels"] for c in curves[0][:n]], 100 * np.array([[p["accuracy"] for p in c[:n]] for c in curves])


def compare(setting: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per variant: accuracy per count, and its per-seed difference to the better arm at each count (points)."""
    runs, arms = setting["runs"], setting["arms"]
    acc = {n: _accuracy(runs, n) for n in setting["variants"] if runs[n]["curves"]}
    out: dict[str, dict[str, Any]] = {}
    for name, (labels, a) in acc.items():
        entry: dict[str, Any] = {"labels": labels, "mean": a.mean(0).tolist(), "auc": curve_auc(labels, a.mean(0) / 100)}
        plays = [p for run in runs[name]["plays"] for p in run]
        entry["share"] = {arm: plays.count(arm) / len(plays) for arm in sorted(set(plays))} if plays else {}
        entry["switches_per_run"] = float(np.mean([sum(x != y for x, y in zip(r, r[1:]))
                                                   for r in runs[name]["plays"]]))
        if name not in arms:
            rows = []
            for i in range(1, len(labels)):
                best = max(arms, key=lambda arm: acc[arm][1][:, i].mean())
                d = a[:, i] - acc[best][1][:, i]
                rows.append({"labels": labels[i], "arm": best, "diff": float(d.mean()), "se": _sem(d)})
            entry["vs_best_arm"] = rows
            if rows:
                worst = min(rows, key=lambda r: r["diff"])
                entry["worst"] = worst
                entry["mean_diff"] = float(np.mean([r["diff"] for r in rows]))
        out[name] = entry
    return out


def report(result: dict[str, Any], every: int = 2) -> str:
    """Per setting: mean accuracy per label count, then each variant against the better arm."""
    parts = []
    for st in result["settings"]:
        cmp = st["compare"]
        labels = cmp[st["arms"][0]]["labels"]
        cols = list(range(1, len(labels), every))
        if cols and cols[-1] != len(labels) - 1:
            cols.append(len(labels) - 1)
        rows = ["| variant | " + " | ".join(f"{labels[i]:.0f}" for i in cols) + " | AUC | vs better arm: worst ± SE "
                "(at labels, arm); mean | arm shares; switches per run |",
                "|---" * (len(cols) + 4) + "|"]
        for name, e in cmp.items():
            vs = "—"
            if "worst" in e:
                w = e["worst"]
                vs = f"{w['diff']:+.1f} ± {w['se']:.1f} ({w['labels']:.0f}, {w['arm']}); {e['mean_diff']:+.2f}"
            shares = ", ".join(f"{k} {v:.2f}" for k, v in e["share"].items())
            rows.append(f"| {name} | " + " | ".join(f"{e['mean'][i]:.1f}" for i in cols)
                        + f" | {e['auc']:.4f} | {vs} | {shares}; {e['switches_per_run']:.1f} |")
        parts.append(f"{st['dataset']}, {st['clients']} clients, alpha {st['alpha']}, seeds {st['seeds']}: "
                     f"mean test accuracy (%), paired by seed\n\n" + "\n".join(rows))
    return with_wall_time(parts, result)


def read_result(path: Path) -> dict[str, Any]:
    """A stored result, its comparisons recomputed from the per-seed curves."""

    def recompute(setting: dict[str, Any]) -> None:
        setting["compare"] = compare(setting)

    return read_stored(path, "an auto-study", recompute)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="mnist1d")
    p.add_argument("--clients", type=int, default=10)
    p.add_argument("--alphas", type=float, nargs="+", action=Repeatable, default=[0.5])
    p.add_argument("--seeds", type=int, nargs="+", action=Repeatable, default=[130, 131, 132])
    p.add_argument("--variants", nargs="+", action=Repeatable, default=list(VARIANTS), help=f"of {', '.join(VARIANTS)}")
    p.add_argument("--every", type=int, default=2, help="print every N-th label count")
    p.add_argument("--json", type=Path, default=None, help="write the results here; rewritten after every seed")
    p.add_argument("--report", type=Path, default=None, metavar="JSON", help="run nothing: report a stored result")
    args = p.parse_args(argv)
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        p.error(f"unknown variant {unknown[0]!r}; known: {', '.join(VARIANTS)}")
    if args.every < 1:
        p.error("--every must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    apply_offline_environment()
    args = parse_args(argv)
    if args.report is not None:
        return print_stored("auto_study", lambda: read_result(args.report), lambda r: report(r, args.every))
    quiet_logs()
    progress = Progress(len(args.alphas) * len(args.seeds) * len({*default_arms(), *args.variants}))
    settings: list[dict[str, Any]] = []

    def save(setting: dict[str, Any]) -> None:
        if args.json is not None:
            write_json({"settings": [*settings, setting], "wall_seconds": progress.seconds}, args.json)

    for alpha in args.alphas:
        settings.append(run_setting(args.dataset, args.clients, alpha, args.seeds, args.variants,
                                    on_run=progress, on_seed=save))
    result = {"settings": settings, "wall_seconds": progress.seconds}
    if args.json is not None:
        write_json(result, args.json)
    print(report(result, args.every))
    return 0


if __name__ == "__main__":
    sys.exit(main())
