"""Federated training with few labels, side by side with central training on the same labels.

Usage::

    python -m fedsift.simulations.benchmarks.fed_training --dataset digits --seeds 100 101 102 \
        --json runs/bench/fed_training.json

Random sampling only, so every arm sees labels drawn the same way and the differences are
training alone: the campaign's default (a 20-wave first round, then 5 waves per round of
>= 20 local steps with FedProx's proximal term, aggregated by Flower's FedAvgM with momentum
0.5 and server step 2) against the previous default (5 FedAvg waves of >= 50 local steps),
against the default with one lever taken out at a time, and against the central reference
(:func:`fedsift.simulations.central.run_central`, the same MLP trained from scratch on the
pooled labels on its own fixed schedule). In deployment every wave costs seconds, which is
the price of the extra waves.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from fedsift.offline import apply_offline_environment

BEFORE = {"train_rounds": 5, "warmup_train_rounds": 0, "local_epochs": 10, "local_min_steps": 50,
          "server_momentum": 0.0, "server_lr": 1.0, "proximal_mu": 0.0}
SETTINGS: dict[str, dict[str, float]] = {
    "default (warmup 20, FedProx 0.1, FedAvgM 0.5 x 2)": {},
    "default, server step 1 (plain average)": {"server_lr": 1.0},
    "default without the warm-up waves": {"warmup_train_rounds": 0},
    "default without FedProx": {"proximal_mu": 0.0},
    "default without momentum": {"server_momentum": 0.0},
    "default, 10 waves per round": {"train_rounds": 10},
    "before: 5 FedAvg waves x >=50 steps": BEFORE,
}
CENTRAL = "central (pooled labels, from scratch)"


def run(dataset: str, seeds: list[int], rounds: int, clients: int = 10, alpha: float = 0.5) -> dict[str, Any]:
    from fedsift.simulations import SimulationConfig, load_dataset, run_simulation
    from fedsift.simulations.central import run_central

    from .label_efficiency import _campaign

    out: dict[str, Any] = {"dataset": dataset, "seeds": seeds, "arms": {}}
    data = load_dataset(dataset)
    for name, setting in [*SETTINGS.items(), (CENTRAL, {})]:
        curves, labels = [], []
        for seed in seeds:
            campaign = _campaign(dataset, "random", seed)
            campaign.rounds = rounds
            if name != CENTRAL:
                for key, value in setting.items():
                    setattr(campaign, key, value)
                sim = SimulationConfig(dataset=dataset, clients=clients, alpha=alpha)
                sim.campaign = campaign
                rows = run_simulation(sim).rows()[1:]
                curve = [(r["labels"], r["accuracy"]) for r in rows]
            else:
                campaign.num_features, campaign.num_classes = data.num_features, data.num_classes
                curve = [(p.labels, p.accuracy) for p in run_central(data, campaign) if p.labels > 0]
            labels = [c[0] for c in curve]
            curves.append([c[1] for c in curve])
        acc = np.array(curves)
        out["arms"][name] = {"labels": labels, "mean": acc.mean(0).tolist(), "std": acc.std(0).tolist(),
                             **setting}
    return out


def main(argv: list[str] | None = None) -> None:
    apply_offline_environment()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102])
    parser.add_argument("--rounds", type=int, default=4, help="rounds of the schedule's budget")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--alpha", type=float, default=0.5, help="Dirichlet label-skew concentration")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    import flwr  # noqa: F401  (importing flwr resets its logger: quiet it afterwards)

    for handler in [logging.getLogger("flwr"), *logging.getLogger("flwr").handlers]:
        handler.setLevel(logging.ERROR)
    result = run(args.dataset, args.seeds, args.rounds, args.clients, args.alpha)
    arms = result["arms"]
    labels = next(iter(arms.values()))["labels"]
    print(f"{args.dataset}, random labels, {args.clients} clients, alpha {args.alpha}, seeds {args.seeds}: "
          "mean test accuracy")
    print(f"{'training':<48}" + "".join(f"{n:>8}" for n in labels))
    for name, arm in arms.items():
        print(f"{name:<48}" + "".join(f"{a:>8.3f}" for a in arm["mean"]))
    central = np.array(arms[CENTRAL]["mean"])
    print("points behind central at equal labels:")
    for name, arm in arms.items():
        if name != CENTRAL:
            print(f"{name:<48}" + "".join(f"{g:>8.1f}" for g in 100 * (central - np.array(arm["mean"]))))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
