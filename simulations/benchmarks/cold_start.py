"""Cold start: which allocation policy spends the first, random round's candidates best.

In the cold-start rounds every device offers a uniform random sample of its pool (an
untrained model's scores are noise) and the server's ``cold_start_allocation`` picks the
batch from all of them. This benchmark runs the default strategy once per candidate
policy, for the first few rounds only, beside ``fed:random`` (uniform random sampling,
the label-efficiency baseline), on the same seeds, and reports the per-seed paired
difference at each label count, federated end to end (``fed``) and with the picks
retrained centrally (``fedsel``, selection alone).

Run: ``python -m fedsift.simulations.benchmarks.cold_start --datasets digits rt-text
--seeds 110 111 112 --json runs/bench/cold_start.json``. Arms are named
``fed:<strategy>@<policy>``. The first round of ``@proportional`` is uniform random
like ``fed:random``'s (the same picks); later rounds differ by the strategy.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fedsift.offline import apply_offline_environment

from .common import Progress, Repeatable, print_stored, quiet_logs, read_stored, with_wall_time
from .label_efficiency import SCHEDULES, Arm, _campaign, _per_seed, _sem, _summarize, write_json

POLICIES = ("pool-diversity", "diversity", "typical", "proportional")
DEFAULT_SEEDS = (110, 111, 112, 113, 114)
DEFAULT_ROUNDS = 4


def run_setting(dataset: str, clients: int, alpha: float, seeds: Sequence[int], policies: Sequence[str] = POLICIES,
                rounds: int = DEFAULT_ROUNDS, strategy: str = "auto", budget: int | None = None,
                on_run: Callable[[str], None] | None = None) -> dict[str, Any]:
    """``fed:random`` and ``strategy`` under each cold-start policy, ``rounds`` rounds per run.

    ``budget`` (labels per round) defaults to the label-efficiency schedule's.
    """
    from fedsift.simulations import SimulationConfig, load_dataset, run_simulation
    from fedsift.simulations.central import retrain_on_picks

    data = load_dataset(dataset)
    arms: dict[str, Arm] = {}
    done = on_run or (lambda label: None)
    variants: list[tuple[str, str | None]] = [("random", None), *((strategy, p) for p in policies)]
    for seed in seeds:
        for strat, policy in variants:
            cfg = _campaign(dataset, strat, seed)
            cfg.rounds = rounds
            if budget is not None:
                cfg.budget = budget
            if policy is not None:
                cfg.cold_start_allocation = policy
            name = strat if policy is None else f"{strat}@{policy}"
            res = run_simulation(SimulationConfig(dataset=dataset, clients=clients, alpha=alpha, campaign=cfg))
            arms.setdefault(f"fed:{name}", Arm(f"fed:{name}", "federated")).curves.append(
                [{"labels": r.labels, "accuracy": r.accuracy} for r in res.rounds])
            curve = retrain_on_picks(data, cfg, res.labeled_rows)
            arms.setdefault(f"fedsel:{name}", Arm(f"fedsel:{name}", "federated selection")).curves.append(
                [p.to_dict() for p in curve])
            done(f"{dataset} {name} seed {seed}")
    setting = {"dataset": dataset, "clients": clients, "alpha": alpha, "seeds": list(seeds), "rounds": rounds,
               "budget": budget or SCHEDULES.get(dataset, (50, 16))[0], "strategy": strategy, "policies": list(policies),
               "arms": _summarize(arms, float("inf"))}
    setting["paired"] = paired_by_count(setting)
    return setting


def paired_by_count(setting: dict[str, Any]) -> dict[str, dict[str, list[dict[str, float]]]]:
    """Per policy and prefix (fed, fedsel): mean ± SE of the per-seed difference to ``<prefix>:random`` (points)."""
    arms, out = setting["arms"], {}
    for policy in setting["policies"]:
        rows: dict[str, list[dict[str, float]]] = {}
        for prefix in ("fed", "fedsel"):
            mine = _per_seed(arms.get(f"{prefix}:{setting['strategy']}@{policy}", {}))
            base = _per_seed(arms.get(f"{prefix}:random", {}))
            rows[prefix] = [{"labels": n, "diff": float((100 * (mine[n] - base[n])).mean()),
                             "se": _sem(100 * (mine[n] - base[n]))}
                            for n in mine if n in base and len(base[n]) == len(mine[n])]
        out[policy] = rows
    return out


def report(result: dict[str, Any]) -> str:
    """One table per setting: rows are policies, columns label counts, cells fed / fedsel differences."""
    parts = []
    for st in result["settings"]:
        paired = st["paired"]
        counts = [r["labels"] for r in next(iter(paired.values()))["fed"]] if paired else []
        head = (f"{st['dataset']}, {st['clients']} clients, alpha {st['alpha']}, seeds {st['seeds']}: "
                f"{st['strategy']} under each cold-start policy minus fed:random, points (fed / fedsel, ± SE)")
        rows = ["| policy | " + " | ".join(f"{n} labels" for n in counts) + " |", "|---" * (len(counts) + 1) + "|"]
        for policy, by in paired.items():
            cells = [f"{f['diff']:+.1f} ± {f['se']:.1f} / {s['diff']:+.1f} ± {s['se']:.1f}"
                     for f, s in zip(by["fed"], by["fedsel"])]
            rows.append(f"| {policy} | " + " | ".join(cells) + " |")
        base = st["arms"].get("fed:random")
        if base:
            rows.append("| fed:random accuracy | " + " | ".join(f"{m:.3f}" for x, m in zip(base["labels"], base["mean"])
                                                                if x > 0) + " |")
        parts.append(head + "\n\n" + "\n".join(rows))
    return with_wall_time(parts, result)


def read_result(path: Path) -> dict[str, Any]:
    """A stored result, its paired differences recomputed from the per-seed curves."""

    def recompute(setting: dict[str, Any]) -> None:
        setting["paired"] = paired_by_count(setting)

    return read_stored(path, "a cold-start", recompute)


def merge_results(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pool results of disjoint seeds: per setting, the policies every result ran, their curves joined.

    Raises :class:`~fedsift.simulations.errors.SimulationError` when two results share a
    seed of the same setting.
    """
    from fedsift.simulations.errors import SimulationError

    pooled: dict[tuple[Any, ...], dict[str, Any]] = {}
    for result in results:
        for st in result["settings"]:
            key = (st["dataset"], st["clients"], st["alpha"], st["rounds"], st["budget"], st["strategy"])
            into = pooled.get(key)
            if into is None:
                pooled[key] = {**st, "seeds": list(st["seeds"]), "policies": list(st["policies"]),
                               "arms": {name: {"kind": a["kind"], "curves": list(a["curves"])}
                                        for name, a in st["arms"].items()}}
                continue
            shared = set(into["seeds"]) & set(st["seeds"])
            if shared:
                raise SimulationError(f"{st['dataset']}, alpha {st['alpha']}: seed {min(shared)} is in two results")
            into["seeds"] += st["seeds"]
            into["policies"] = [p for p in into["policies"] if p in st["policies"]]
            into["arms"] = {name: {"kind": a["kind"], "curves": a["curves"] + st["arms"][name]["curves"]}
                            for name, a in into["arms"].items() if name in st["arms"]}
    settings = []
    for st in pooled.values():
        keep = {"random", *(f"{st['strategy']}@{p}" for p in st["policies"])}
        arms = {name: Arm(name, a["kind"], a["curves"]) for name, a in st["arms"].items()
                if name.split(":", 1)[1] in keep}
        st["arms"] = _summarize(arms, float("inf"))
        st["paired"] = paired_by_count(st)
        settings.append(st)
    return {"settings": settings, "wall_seconds": sum(r.get("wall_seconds", 0.0) for r in results)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="+", action=Repeatable, default=["digits", "mnist1d", "rt-text"])
    p.add_argument("--clients", type=int, nargs="+", action=Repeatable, default=[10])
    p.add_argument("--alphas", type=float, nargs="+", action=Repeatable, default=[0.1, 0.5])
    p.add_argument("--seeds", type=int, nargs="+", action=Repeatable, default=list(DEFAULT_SEEDS))
    p.add_argument("--policies", nargs="+", action=Repeatable, default=list(POLICIES))
    p.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="rounds per run (the first is the cold start)")
    p.add_argument("--strategy", default="auto")
    p.add_argument("--json", type=Path, default=None, help="write the results here; rewritten after every setting")
    p.add_argument("--report", type=Path, nargs="+", action=Repeatable, default=None, metavar="JSON",
                   help="run nothing: print the report of stored results (several: disjoint seeds, pooled)")
    args = p.parse_args(argv)
    from fedsift.server.allocation import available_policies

    unknown = [x for x in args.policies if x not in available_policies()]
    if unknown:
        p.error(f"unknown allocation policy {unknown[0]!r}; known: {', '.join(available_policies())}")
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    apply_offline_environment()
    args = parse_args(argv)
    if args.report is not None:
        return print_stored("cold_start", lambda: merge_results([read_result(path) for path in args.report]), report)
    quiet_logs()
    grid = [(d, c, a) for d in args.datasets for c in args.clients for a in args.alphas]
    progress = Progress(len(grid) * len(args.seeds) * (len(args.policies) + 1))
    settings: list[dict[str, Any]] = []
    for dataset, clients, alpha in grid:
        settings.append(run_setting(dataset, clients, alpha, args.seeds, args.policies, args.rounds,
                                    args.strategy, on_run=progress))
        result = {"settings": settings, "wall_seconds": progress.seconds, "partial": len(settings) < len(grid)}
        if args.json is not None:
            write_json(result, args.json)
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
