"""Server-side allocation time over many devices' summaries.

Usage::

    python -m fedsift.simulations.benchmarks.allocation_speed --devices 10000 --top-k 20 --sketch-dim 32 \
        --budget 200 --json runs/bench/allocation_speed.json

Builds synthetic summaries (top-k candidates with scores and sketches, random offers),
then times ``plan_allocation`` for every registered policy, best of ``--repeat`` runs,
and the size of one summary on the wire.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from fedsift.protocols import Summary
from fedsift.server.allocation import available_policies, get_policy, plan_allocation
from fedsift.server.config import CampaignConfig
from fedsift.server.errors import ConfigError
from fedsift.server.waves import content_bytes


def synthetic_summaries(devices: int, top_k: int, sketch_dim: int, seed: int) -> list[Summary]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(devices):
        d = f"device-{i:05d}"
        out.append(Summary(
            round=1, model_version=1, device_id=d, pool_size=int(rng.integers(50, 500)), labeled_count=0,
            consented_count=100, histogram=rng.integers(0, 50, 10).astype(np.int64), hist_range=(0.0, 2.3),
            class_counts=rng.integers(0, 50, 10).astype(np.int64),
            candidate_ids=[f"{d}-c{j}" for j in range(top_k)], scores=rng.random(top_k).astype(np.float32),
            sketches=rng.normal(size=(top_k, sketch_dim)).astype(np.float32),
            random_ids=[f"{d}-r{j}" for j in range(2)]))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--top-k", type=int, default=20)
    parser.add_argument("--sketch-dim", type=int, default=32)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kcenter-shortlist", type=int, default=0,
                        help="candidates per label the k-center policies consider (the campaign's kcenter_shortlist; "
                             "0 = the campaign default for --devices devices)")
    parser.add_argument("--kcenter-shortlist-share", type=float, default=0.0,
                        help="least share of the offered candidates the k-center policies consider "
                             "(the campaign's kcenter_shortlist_share; 0 = off)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.devices < 1:
        parser.error(f"'--devices' = {args.devices}: must be at least 1")
    if args.kcenter_shortlist == 0:
        args.kcenter_shortlist = CampaignConfig().shortlist_for(args.devices)
    try:  # the k-center policy checks its settings: name a bad one before building 10,000 summaries
        get_policy("diversity", shortlist_factor=args.kcenter_shortlist, shortlist_share=args.kcenter_shortlist_share)
    except ConfigError as exc:
        parser.error(str(exc))
    summaries = synthetic_summaries(args.devices, args.top_k, args.sketch_dim, 0)
    wire = content_bytes(summaries[0].to_recorddict())
    rows = []
    for policy in available_policies():
        best = float("inf")
        for r in range(args.repeat):
            start = time.perf_counter()
            alloc = plan_allocation(summaries, args.budget, policy, 0.1, np.random.default_rng(r),
                                    shortlist_factor=args.kcenter_shortlist,
                                    shortlist_share=args.kcenter_shortlist_share)
            best = min(best, time.perf_counter() - start)
        rows.append({"policy": policy, "devices": args.devices, "candidates": args.devices * args.top_k,
                     "budget": args.budget, "kcenter_shortlist": args.kcenter_shortlist,
                     "kcenter_shortlist_share": args.kcenter_shortlist_share, "picks": len(alloc.picks),
                     "seconds": best})
    print(f"{args.devices} devices x top-{args.top_k}, {args.sketch_dim}-dim sketches, budget {args.budget}, "
          f"k-center shortlist x{args.kcenter_shortlist}, at least {args.kcenter_shortlist_share:.0%} of the offers; "
          f"one summary = {wire} bytes on the wire")
    print(f"{'policy':<18} {'picks':>6} {'seconds (best of %d)' % args.repeat:>22}")
    for r in rows:
        print(f"{r['policy']:<18} {r['picks']:>6} {r['seconds']:>22.3f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"summary_bytes": wire, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
