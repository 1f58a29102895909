"""The adaptive strategy's reward, side by side: ``auto`` with Brier vs accuracy rewards, and hybrid.

Usage::

    python -m fedsift.simulations.benchmarks.auto_reward --dataset mnist1d --seeds 100 101 102 \
        --json runs/bench/auto_reward.json

Runs the label-efficiency benchmark's federated schedule (10 clients, alpha 0.5, one random
cold-start round, then ``budget`` per round) for ``auto`` with ``auto_reward = "brier"`` and
``"accuracy"``, and for the best fixed strategy of shared/LABEL-EFFICIENCY.md (hybrid), and prints
mean test accuracy per label count (every ``--every``-th round), the final accuracy and the
normalized area under the curve.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from fedsift.offline import apply_offline_environment

ARMS = (("auto-brier", "auto", "brier"), ("auto-accuracy", "auto", "accuracy"), ("hybrid", "hybrid", "brier"))


def run(dataset: str, seeds: list[int], clients: int = 10, alpha: float = 0.5) -> dict[str, Any]:
    """Curves of every arm in :data:`ARMS` over ``seeds``."""
    from fedsift.simulations import SimulationConfig, run_simulation

    from .label_efficiency import _campaign, curve_auc

    out: dict[str, Any] = {"dataset": dataset, "clients": clients, "alpha": alpha, "seeds": seeds, "arms": {}}
    for name, strategy, reward in ARMS:
        curves, labels = [], []
        for seed in seeds:
            campaign = _campaign(dataset, strategy, seed)
            campaign.auto_reward = reward
            sim = SimulationConfig(dataset=dataset, clients=clients, alpha=alpha)
            sim.campaign = campaign
            rows = run_simulation(sim).rows()
            curves.append([r["accuracy"] for r in rows])
            labels = [r["labels"] for r in rows]
        acc = np.array(curves)
        out["arms"][name] = {"labels": labels, "mean": acc.mean(0).tolist(), "std": acc.std(0).tolist(),
                             "auc": curve_auc(labels, acc.mean(0))}
    return out


def main(argv: list[str] | None = None) -> None:
    apply_offline_environment()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist1d")
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102])
    parser.add_argument("--every", type=int, default=2, help="print every N-th label count")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    import flwr  # noqa: F401  (importing flwr resets its logger: quiet it afterwards)

    for handler in [logging.getLogger("flwr"), *logging.getLogger("flwr").handlers]:
        handler.setLevel(logging.ERROR)
    result = run(args.dataset, args.seeds)
    arms = result["arms"]
    labels = arms["hybrid"]["labels"]
    cols = list(range(1, len(labels), args.every)) + ([len(labels) - 1] if (len(labels) - 2) % args.every else [])
    print(f"{args.dataset}, 10 clients, alpha 0.5, seeds {args.seeds}: mean test accuracy")
    print(f"{'arm':<14}" + "".join(f"{labels[i]:>7}" for i in cols) + f"{'AUC':>8}")
    for name, arm in arms.items():
        print(f"{name:<14}" + "".join(f"{arm['mean'][i]:>7.3f}" for i in cols) + f"{arm['auc']:>8.4f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
