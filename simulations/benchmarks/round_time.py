"""Wall time of one active-learning round for N simulated devices, per backend.

Usage::

    python -m fedsift.simulations.benchmarks.round_time --clients 10 100 --backends inprocess ray \
        --json runs/bench/round_time.json

Runs 2 rounds of the default campaign (digits, alpha 0.5, budget 20) per setting and
reports the mean wall time of a round (query, allocation, release, labels, training
waves, ONNX export, evaluation) and the whole run including start-up (Ray's start-up
is 8-11 s of it).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from fedsift.offline import apply_offline_environment

from .common import Repeatable


def measure(clients: int, backend: str, rounds: int) -> dict[str, float]:
    from fedsift.server import CampaignConfig
    from fedsift.simulations import SimulationConfig, run_simulation

    start = time.perf_counter()
    res = run_simulation(SimulationConfig(clients=clients, backend=backend, alpha=0.5,
                                          campaign=CampaignConfig(rounds=rounds, budget=20)))
    total = time.perf_counter() - start
    per_round = [r.seconds for r in res.rounds[1:]]
    return {"clients": clients, "backend": backend, "rounds": rounds,
            "round_seconds_mean": sum(per_round) / len(per_round), "run_seconds": total,
            "summary_bytes_per_device": res.rounds[-1].summary_bytes_per_device}


def main(argv: list[str] | None = None) -> None:
    apply_offline_environment()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", action=Repeatable, default=[10, 100])
    parser.add_argument("--backends", nargs="+", action=Repeatable, default=["inprocess", "ray"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    import flwr  # noqa: F401

    logging.getLogger("flwr").setLevel(logging.ERROR)
    rows = [measure(n, b, args.rounds) for b in args.backends for n in args.clients]
    print(f"{'backend':<10} {'clients':>7} {'s/round':>8} {'run s':>7} {'summary B/device':>17}")
    for r in rows:
        print(f"{r['backend']:<10} {r['clients']:>7} {r['round_seconds_mean']:>8.2f} {r['run_seconds']:>7.1f} "
              f"{r['summary_bytes_per_device']:>17.0f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
