"""Federated training with few labels, side by side with central training on the same labels.

Usage::

    python -m fedsift.simulations.benchmarks.fed_training --dataset digits --seeds 100 101 102 \
        --json runs/bench/fed_training.json

Random sampling only, so every arm sees labels drawn the same way and the differences are
training alone: the campaign's default (5 FedAvg waves per round, >= 50 local steps) against
more, shorter waves and server-side momentum (Flower's FedAvgM), and the central reference (:func:`fedsift.simulations.central.run_central`,
the same MLP trained on the pooled labels). In deployment every wave costs seconds, which is
the price of the faster settings.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from fedsift.offline import apply_offline_environment

SETTINGS: dict[str, dict[str, float]] = {
    "fed 5 waves x >=50 steps (default)": {"train_rounds": 5, "local_min_steps": 50, "local_epochs": 10},
    "fed 20 waves x >=10 steps": {"train_rounds": 20, "local_min_steps": 10, "local_epochs": 2},
    "fed 50 waves x >=5 steps": {"train_rounds": 50, "local_min_steps": 5, "local_epochs": 1},
    "fed 5 waves, FedAvgM momentum 0.5": {"train_rounds": 5, "local_min_steps": 50, "local_epochs": 10,
                                           "server_momentum": 0.5},
    "fed 20 waves x >=10 steps, FedAvgM 0.5": {"train_rounds": 20, "local_min_steps": 10, "local_epochs": 2,
                                                "server_momentum": 0.5},
}


def run(dataset: str, seeds: list[int], rounds: int, clients: int = 10, alpha: float = 0.5) -> dict[str, Any]:
    from fedsift.simulations import SimulationConfig, load_dataset, run_simulation
    from fedsift.simulations.central import run_central

    from .label_efficiency import _campaign

    out: dict[str, Any] = {"dataset": dataset, "seeds": seeds, "arms": {}}
    data = load_dataset(dataset)
    for name, setting in [*SETTINGS.items(), ("central (pooled labels)", {})]:
        curves, labels = [], []
        for seed in seeds:
            campaign = _campaign(dataset, "random", seed)
            campaign.rounds = rounds
            if setting:
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
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    import flwr  # noqa: F401  (importing flwr resets its logger: quiet it afterwards)

    for handler in [logging.getLogger("flwr"), *logging.getLogger("flwr").handlers]:
        handler.setLevel(logging.ERROR)
    result = run(args.dataset, args.seeds, args.rounds)
    arms = result["arms"]
    labels = next(iter(arms.values()))["labels"]
    print(f"{args.dataset}, random labels, 10 clients, alpha 0.5, seeds {args.seeds}: mean test accuracy")
    print(f"{'training':<38}" + "".join(f"{n:>8}" for n in labels))
    for name, arm in arms.items():
        print(f"{name:<38}" + "".join(f"{a:>8.3f}" for a in arm["mean"]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
