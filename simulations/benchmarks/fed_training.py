"""Federated training with few labels, side by side with central training on as many labels.

Usage::

    python -m fedsift.simulations.benchmarks.fed_training --dataset digits --seeds 100 101 102 \
        --json runs/bench/fed_training.json

Random sampling only, so every arm sees labels drawn the same way and the differences are
training alone: the campaign's default (a 20-wave first round, then 5 waves per round of
>= 20 local steps with FedProx's proximal term, aggregated by Flower's FedAvgM with momentum
0.5 and server step 2) against the previous default (5 FedAvg waves of >= 50 local steps),
against the default with one lever taken out at a time or with more waves (10, 20, and 20
with lr 1e-2: the learning rate of the federated runs only), and against the central reference
(:func:`fedsift.simulations.central.run_central`, the same MLP trained from scratch on the
pooled data on its own fixed schedule, with its own uniform draw of as many labels). In
deployment every wave costs seconds, which is the price of the extra waves.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fedsift.offline import apply_offline_environment

from .common import Progress, Repeatable, print_stored, quiet_logs, with_wall_time

BEFORE = {"train_rounds": 5, "warmup_train_rounds": 0, "local_epochs": 10, "local_min_steps": 50,
          "server_momentum": 0.0, "server_lr": 1.0, "proximal_mu": 0.0}
SETTINGS: dict[str, dict[str, float]] = {
    "default (warmup 20, FedProx 0.1, FedAvgM 0.5 x 2)": {},
    "default, server step 1 (plain average)": {"server_lr": 1.0},
    "default without the warm-up waves": {"warmup_train_rounds": 0},
    "default without FedProx": {"proximal_mu": 0.0},
    "default without momentum": {"server_momentum": 0.0},
    "default, 10 waves per round": {"train_rounds": 10},
    "default, 20 waves per round": {"train_rounds": 20},
    "default, 20 waves per round, lr 1e-2": {"train_rounds": 20, "lr": 1e-2},
    "before: 5 FedAvg waves x >=50 steps": BEFORE,
}
CENTRAL = "central (pooled labels, from scratch)"


def with_setting(campaign: Any, setting: dict[str, float]) -> Any:
    """``campaign`` with the fields ``setting`` names replaced, checked as a config file's are.

    Raises
    ------
    TypeError
        ``setting`` names a field the campaign does not have (a plain ``setattr`` would
        quietly add it and train on the default).
    fedsift.server.errors.ConfigError
        A value is out of range.
    """
    from dataclasses import replace

    return replace(campaign, **setting).validate()


def run(dataset: str, seeds: list[int], rounds: int, clients: int = 10, alpha: float = 0.5,
        on_run: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Every setting in :data:`SETTINGS` and the central reference, each on every seed.

    ``on_run`` is told ``"<setting>, seed <n>"`` after each run (a progress line).

    Each arm keeps its per-seed accuracy curves (``curves``) beside their mean and std, so a
    stored result can be compared again (:func:`read_result`).
    """
    import time

    from fedsift.simulations import SimulationConfig, load_dataset, run_simulation
    from fedsift.simulations.central import run_central

    from .label_efficiency import _campaign

    started = time.perf_counter()
    out: dict[str, Any] = {"dataset": dataset, "clients": clients, "alpha": alpha, "rounds": rounds,
                           "seeds": seeds, "arms": {}}
    data = load_dataset(dataset)
    for name, setting in [*SETTINGS.items(), (CENTRAL, {})]:
        curves, labels = [], []
        for seed in seeds:
            campaign = _campaign(dataset, "random", seed)
            campaign.rounds = rounds
            campaign.num_features, campaign.num_classes = data.num_features, data.num_classes
            if name != CENTRAL:
                campaign = with_setting(campaign, setting)
                sim = SimulationConfig(dataset=dataset, clients=clients, alpha=alpha)
                sim.campaign = campaign
                rows = run_simulation(sim).rows()[1:]
                curve = [(r["labels"], r["accuracy"]) for r in rows]
            else:
                curve = [(p.labels, p.accuracy) for p in run_central(data, campaign) if p.labels > 0]
            labels = [c[0] for c in curve]
            curves.append([c[1] for c in curve])
            if on_run is not None:
                on_run(f"{name}, seed {seed}")
        acc = np.array(curves)
        out["arms"][name] = {"labels": labels, "curves": curves, "mean": acc.mean(0).tolist(),
                             "std": acc.std(0).tolist(), "setting": setting}
    out["wall_seconds"] = time.perf_counter() - started
    out["against_central"] = compare(out["arms"])
    return out


def compare(arms: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Each federated arm against central training on as many random labels, paired by seed.

    ``auc`` is the mean accuracy over the label counts (points); ``behind`` is how many
    points of that the arm is behind central (mean over seeds, ``se`` its standard error),
    ``final_behind`` the same at the last label count.
    """
    from .label_efficiency import _sem

    central = np.asarray(arms[CENTRAL]["curves"], dtype=float)
    out: dict[str, dict[str, float]] = {}
    for name, arm in arms.items():
        acc = np.asarray(arm["curves"], dtype=float)
        if acc.shape != central.shape or arm["labels"] != arms[CENTRAL]["labels"]:
            raise ValueError(f"{name}: its label counts or seeds differ from the central arm's")
        gap = 100 * (central.mean(1) - acc.mean(1))
        out[name] = {"auc": float(100 * acc.mean()), "final": float(acc[:, -1].mean()),
                     "behind": float(gap.mean()), "se": _sem(gap),
                     "final_behind": float(100 * (central[:, -1] - acc[:, -1]).mean())}
    return out


def read_result(path: Path) -> dict[str, Any]:
    """A stored result, its comparison recomputed from the per-seed curves.

    Raises
    ------
    SimulationError
        The file is unreadable, not JSON, lacks the central arm or an arm's per-seed
        curves, or an arm's label counts differ from the central arm's.
    """
    from fedsift.simulations.errors import SimulationError

    try:
        result = json.loads(Path(path).read_text(encoding="utf-8"))
        arms = result["arms"]
        if CENTRAL not in arms:
            raise KeyError(CENTRAL)
        if not all(isinstance(a["curves"], list) and len(a["curves"]) == len(result["seeds"]) for a in arms.values()):
            raise ValueError("an arm does not hold one curve per seed")
        result["against_central"] = compare(arms)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SimulationError(f"{path}: not a fed-training result: {exc}") from exc
    return result


def report(result: dict[str, Any]) -> str:
    """The printed tables: each arm against central, then mean accuracy per label count."""
    arms, cmp = result["arms"], result["against_central"]
    labels = arms[CENTRAL]["labels"]
    lines = [f"{result['dataset']}, random labels, {result['clients']} clients, alpha {result['alpha']}, "
             f"seeds {', '.join(map(str, result['seeds']))}", "",
             "| training | mean accuracy (points) | behind central ± SE | final accuracy | behind central at the end |",
             "|---|---|---|---|---|"]
    for name, row in cmp.items():
        behind = "—" if name == CENTRAL else f"{row['behind']:.1f} ± {row['se']:.1f}"
        end = "—" if name == CENTRAL else f"{row['final_behind']:.1f}"
        lines.append(f"| {name} | {row['auc']:.1f} | {behind} | {row['final']:.3f} | {end} |")
    lines += ["", "| training | " + " | ".join(str(n) for n in labels) + " |", "|---|" + "---|" * len(labels)]
    for name, arm in arms.items():
        lines.append(f"| {name} | " + " | ".join(f"{m:.3f}" for m in arm["mean"]) + " |")
    return with_wall_time(["\n".join(lines)], result)


def main(argv: list[str] | None = None) -> None:
    apply_offline_environment()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--seeds", type=int, nargs="+", action=Repeatable, default=[100, 101, 102])
    parser.add_argument("--rounds", type=int, default=4, help="rounds of the schedule's budget")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--alpha", type=float, default=0.5, help="Dirichlet label-skew concentration")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--report", type=Path, default=None, metavar="FILE",
                        help="run nothing: print the stored result FILE (its comparison recomputed)")
    args = parser.parse_args(argv)
    if args.report is not None:
        print_stored("fed_training", lambda: read_result(args.report), report)
        return
    quiet_logs()
    progress = Progress((len(SETTINGS) + 1) * len(args.seeds))
    result = run(args.dataset, args.seeds, args.rounds, args.clients, args.alpha, on_run=progress)
    print(report(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
