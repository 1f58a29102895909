"""Where the federated-selection gap comes from: the selection mechanism or the scoring model.

Usage::

    python -m fedsift.simulations.benchmarks.selection_gap --dataset mnist1d --clients 50 \
        --alpha 0.5 --strategy hybrid --seeds 150 151 152 153 154 --json runs/bench/selection_gap.json

The label-efficiency benchmark's ``fedsel:<s>`` arm (a federated run's picks, trained the
central reference's way) falls behind ``central:<s>`` for two reasons mixed together:

- the *mechanism*: each device runs the strategy on its own pool and sends candidates with
  their 32-dim sketches; the server's allocation picks among them (k-center over sketches,
  without the labeled set) and spends a tenth of the budget on a random slice;
- the *scoring model*: devices score with the federated model, which with many devices and
  few labels each is far weaker than the central reference's.

This benchmark separates them. Every arm but ``fed`` trains the central reference's MLP the
central way on its own picks, so only the picks differ; the replayed arms start from the
central cold start:

- ``central``: the central loop (:func:`~fedsift.simulations.central.run_central`);
- ``fed``: the federated run itself, end to end (its own model's test accuracy, the one
  arm not trained the central way: what more federated training buys shows here);
- ``fedsel``: the federated run's picks (both causes; its cold start is the federated one);
- ``fed-mechanism``: the devices' and the server's steps replayed in-process on the same
  partition (the strategy on each device's pool, :func:`~fedsift.edge_runtime.build_summary`,
  :func:`~fedsift.server.plan_allocation` with the campaign's policy), scoring with the
  central model trained on the labels so far: the mechanism alone;
- ``fed-model``: the central loop, scoring with the model the federated run published for
  that round. This is not the scoring model's quality alone: that model was trained on
  the federated run's labels while the central loop's selection anchors at its own, and
  the controls below show that the label set, not the federated training, makes its cost
  (``simulations/benchmarks/FINDINGS.md``);
- ``fed-labels`` (control): the central loop, scoring with a model trained the central way
  on the labels the federated run held when it published that round's model: the
  ``fed-model`` label set without the federated training;
- ``central-reseed`` (control): the central loop, scoring with a model trained on its own
  labels from another initialization and batch order: what scoring with any other
  model costs, the floor for the two arms above.

Each arm is compared with ``central`` paired by seed: the worst mean difference over the
label counts, its standard error, and the mean over counts.

``--inits K`` (default 1) also trains ``central`` and ``fedsel`` from K − 1 further
initializations (seed + 1000 k: the MLP's initial weights and batch order; the cold start,
the picks' random streams and the federated run stay the seed's), stored as
``central@1000``, ``fedsel@1000``, ... Averaged over the K initializations per seed they give
a reference that one initialization's draw does not move: ``fedsel`` against ``central``
both averaged, and the single-initialization ``central`` against the average (how far the
reference every other arm is paired with sits from it), and ``fedsel`` against ``central``
one initialization at a time.

``--set KEY=VALUE`` changes the
federated run's campaign settings, checked as in ``label_efficiency`` (there is no random arm
here to spare), e.g. ``train_rounds=20``; the mechanism replay takes the selection settings
among them. Unlike there, ``lr``, ``weight_decay`` and ``batch_size`` may be set too
(:data:`FED_ONLY_TRAINING`): only the federated run trains with them. ``--report FILE``
prints a stored result without running anything; ``--report A B ...`` pools results of
disjoint seeds and the same setting (:func:`pool_results`).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from fedsift.offline import apply_offline_environment

from .common import Repeatable, print_stored

logger = logging.getLogger(__name__)

ARMS = ("central", "fed", "fedsel", "fed-mechanism", "fed-model", "fed-labels", "central-reseed")
#: Arms added after the first stored results: a stored file without them still reads.
CONTROL_ARMS = frozenset({"fed-labels", "central-reseed"})
#: Added to the campaign seed for ``central-reseed``'s model (initialization and batch order).
RESEED = 1000
#: Optimizer settings ``--set`` may change here though the central reference reads them in
#: ``label_efficiency``: here every arm but ``fed`` trains with a campaign of its own, so
#: they reach the federated run's training alone (and through its models, ``fed-model``).
FED_ONLY_TRAINING = frozenset({"lr", "weight_decay", "batch_size"})


def _replay(data: Any, cfg: Any, pick: Callable[[int, np.ndarray, list[Any]], np.ndarray],
            train_cfg: Any = None) -> list[dict[str, float]]:
    """The central loop from its cold start, with ``pick(round, labeled, history)`` choosing each batch.

    Every model is trained with ``train_cfg`` (default ``cfg``): its seed sets the
    initialization and batch order; the cold start is ``cfg``'s.
    """
    from fedsift.client import trainer
    from fedsift.simulations.central import fit_mlp, initial_labels

    from fedsift.server.model import init_weights

    train_cfg = cfg if train_cfg is None else train_cfg
    layers = init_weights([data.num_features, *cfg.hidden, data.num_classes], train_cfg.seed)
    curve = [{"labels": 0, "accuracy": trainer.evaluate(layers, data.x_test, data.y_test)[0]}]
    cold = initial_labels(data, cfg)
    labeled = np.zeros(0, dtype=np.int64)
    history: list[Any] = []
    for rnd in range(1, cfg.rounds + 1):
        picks = cold[rnd - 1] if rnd <= len(cold) else pick(rnd, labeled, history)
        labeled = np.concatenate([labeled, np.asarray(picks, dtype=np.int64)])
        layers = fit_mlp(data, labeled, train_cfg)
        history.append(layers)
        curve.append({"labels": int(labeled.size), "accuracy": trainer.evaluate(layers, data.x_test, data.y_test)[0]})
    return curve


def fed_mechanism_allocation(data: Any, cfg: Any, parts: Sequence[np.ndarray], rnd: int, labeled: np.ndarray,
                             history: list[Any]) -> Any:
    """One round of the devices' and the server's selection steps, scored with ``history[-1]``.

    Each device runs ``cfg.strategy`` on its unlabeled rows (anchored at its own labeled
    rows), offers ``top_k`` candidates with sketches and uniformly drawn ids for the random
    slice, as :class:`~fedsift.client.app.DeviceAgent` does, with the same random stream and
    the simulated pools' item ids (``s000123`` for row 123); the server allocates the budget
    with the campaign's policy. Given a federated run's own model and labels, it returns that
    run's allocation. Returns the :class:`~fedsift.server.Allocation` (see :func:`picked_rows`).
    """
    from fedsift.client.app import _stable_seed
    from fedsift.edge_runtime import build_summary, get_strategy
    from fedsift.protocols import Query
    from fedsift.server import plan_allocation
    from fedsift.simulations.central import _context

    strategy = get_strategy(cfg.strategy)
    query = Query(round=rnd, model_version=rnd - 1, strategy=cfg.strategy, top_k=cfg.candidates_per_device,
                  num_bins=cfg.num_bins, sketch_dim=cfg.sketch_dim, sketch_seed=cfg.seed,
                  random_k=int(round(cfg.budget * cfg.random_fraction)) + int(round(cfg.budget * cfg.normal_share)))
    done = np.zeros(data.x_train.shape[0], dtype=bool)
    done[labeled] = True
    summaries = []
    for d, rows in enumerate(parts):
        rows = np.asarray(rows, dtype=np.int64)
        pool, own = rows[~done[rows]], rows[done[rows]]
        if pool.size == 0:
            continue
        device = f"device-{d:05d}"
        rng = np.random.default_rng(_stable_seed(query.sketch_seed, rnd, device))
        ctx = _context(strategy.needs, history[-1], history, data, pool, own, rng, cfg.mc_passes, cfg.mc_dropout)
        scores = np.asarray(strategy.score(ctx, rng), dtype=np.float64)
        selection = strategy.select(ctx, query.top_k, rng)
        ids = [f"s{int(r):06d}" for r in pool]
        offer = rng.choice(pool.size, min(query.random_k, pool.size), replace=False)
        summaries.append(build_summary(query, device, ids, scores, ctx.probs, ctx.embedding,
                                       labeled_count=int(own.size), random_ids=[ids[i] for i in offer],
                                       selection=selection))
    rng = np.random.default_rng([cfg.seed, rnd])
    return plan_allocation(summaries, cfg.budget, cfg.allocation_in(rnd), cfg.random_fraction, rng,
                           max_per_device=cfg.max_per_device, normal_share=cfg.normal_share,
                           shortlist_factor=cfg.shortlist_in(rnd, len(parts)),
                           shortlist_share=cfg.kcenter_shortlist_share)


def picked_rows(allocation: Any) -> np.ndarray:
    """The ``x_train`` rows of an allocation made by :func:`fed_mechanism_allocation`."""
    return np.array([int(p.candidate_id[1:]) for p in allocation.picks], dtype=np.int64)


def scored_picks(data: Any, cfg: Any, layers: Any, rnd: int, labeled: np.ndarray) -> np.ndarray:
    """The central selection step scored with ``layers``: with the central model's own, :func:`run_central`'s picks."""
    from fedsift.edge_runtime import get_strategy
    from fedsift.simulations.central import _context

    strategy = get_strategy(cfg.strategy)
    pool = np.setdiff1d(np.arange(data.x_train.shape[0]), labeled)
    rng = np.random.default_rng([cfg.seed, rnd])
    ctx = _context(strategy.needs, layers, [layers], data, pool, labeled, rng, cfg.mc_passes, cfg.mc_dropout)
    return pool[strategy.select(ctx, cfg.budget, rng).indices]


def check_strategy(name: str) -> None:
    """Refuse, before anything runs, a strategy this benchmark cannot replay.

    Raises
    ------
    SimulationError
        ``name`` is not a registered device strategy (``auto`` chooses among them per round
        and has no central run), or it needs MC dropout or a committee, which the
        ``fed-model`` replay does not rebuild from ONNX artifacts.
    """
    from fedsift.edge_runtime import available_strategies, get_strategy
    from fedsift.edge_runtime.strategies import NEEDS_COMMITTEE, NEEDS_MC
    from fedsift.simulations.errors import SimulationError

    if name not in available_strategies():
        raise SimulationError(f"strategy {name!r} is not a device strategy with a central run; one of "
                              f"{', '.join(available_strategies())}")
    if get_strategy(name).needs & {NEEDS_MC, NEEDS_COMMITTEE}:
        raise SimulationError(f"fed-model: strategy {name} needs MC dropout or a committee, which "
                              "this replay does not rebuild from ONNX artifacts")


def fed_model_picks(data: Any, cfg: Any, onnx_model: bytes, rnd: int, labeled: np.ndarray) -> np.ndarray:
    """The central selection step scored with a published (federated) ONNX model."""
    from fedsift.edge_runtime import OnnxScorer, get_strategy
    from fedsift.edge_runtime.strategies import ScoringContext

    check_strategy(cfg.strategy)
    strategy = get_strategy(cfg.strategy)
    scorer = OnnxScorer(onnx_model)
    pool = np.setdiff1d(np.arange(data.x_train.shape[0]), labeled)
    out = scorer.score(data.x_train[pool].astype(np.float32))
    labeled_emb = scorer.score(data.x_train[labeled].astype(np.float32)).embedding
    ctx = ScoringContext(out.probs, out.embedding, data.x_train[pool], labeled_emb, None, None)
    rng = np.random.default_rng([cfg.seed, rnd])
    return pool[strategy.select(ctx, cfg.budget, rng).indices]


def run_seed(dataset: str, clients: int, alpha: float, strategy: str, seed: int,
             overrides: dict[str, Any] | None = None,
             schedule: tuple[int, int] | None = None, inits: int = 1) -> dict[str, list[dict[str, float]]]:
    """Every arm's curve for one seed (see the module docstring); ``schedule`` = (budget, rounds).

    ``inits`` > 1 adds ``central@OFFSET`` and ``fedsel@OFFSET`` for each of :func:`init_offsets`.
    """
    from fedsift.simulations import SimulationConfig, dirichlet_partition, load_dataset, run_simulation
    from fedsift.simulations.central import fit_or_init, retrain_on_picks, run_central

    from .label_efficiency import _campaign as campaign_for

    def _campaign(ds: str, name: str, sd: int):  # type: ignore[no-untyped-def]
        cfg = campaign_for(ds, name, sd)
        if schedule is not None:
            cfg.budget, cfg.rounds = schedule
        return cfg

    data = load_dataset(dataset)
    central_cfg = _campaign(dataset, strategy, seed)
    central_cfg.num_features, central_cfg.num_classes = data.num_features, data.num_classes
    fed_cfg = _campaign(dataset, strategy, seed)
    for key, value in (overrides or {}).items():
        setattr(fed_cfg, key, value)
    models: list[bytes] = []
    res = run_simulation(SimulationConfig(dataset=dataset, clients=clients, alpha=alpha, campaign=fed_cfg),
                         on_model=models.append)
    fed_cfg.num_features, fed_cfg.num_classes = data.num_features, data.num_classes
    parts = dirichlet_partition(data.y_train, clients, alpha, seed)
    # the mechanism replay: the federated campaign's selection settings, the central model
    mech_cfg = _campaign(dataset, strategy, seed)
    for key in ("allocation", "kcenter_shortlist", "large_federation", "cold_start_shortlist",
                "kcenter_shortlist_share", "random_fraction", "top_k", "sketch_dim", "num_bins", "max_per_device",
                "normal_share"):
        setattr(mech_cfg, key, getattr(fed_cfg, key))
    mech_cfg.num_features, mech_cfg.num_classes = data.num_features, data.num_classes
    reseeded = replace(central_cfg, seed=seed + RESEED)
    more: dict[str, list[dict[str, float]]] = {}
    for offset in init_offsets(inits)[1:]:
        other = replace(central_cfg, seed=seed + offset)  # the seed's cold start and pick streams, other weights
        more[f"central@{offset}"] = _replay(data, central_cfg, lambda rnd, labeled, history: scored_picks(
            data, central_cfg, history[-1], rnd, labeled), train_cfg=other)
        more[f"fedsel@{offset}"] = [p.to_dict() for p in retrain_on_picks(data, other, res.labeled_rows)]
    return {
        "central": [p.to_dict() for p in run_central(data, central_cfg)],
        "fed": [{"labels": r.labels, "accuracy": r.accuracy} for r in res.rounds],
        "fedsel": [p.to_dict() for p in retrain_on_picks(data, central_cfg, res.labeled_rows)],
        "fed-mechanism": _replay(data, central_cfg, lambda rnd, labeled, history: picked_rows(
            fed_mechanism_allocation(data, mech_cfg, parts, rnd, labeled, history))),
        # round r's devices score with the model published after round r - 1
        "fed-model": _replay(data, central_cfg, lambda rnd, labeled, history: fed_model_picks(
            data, central_cfg, models[rnd - 1], rnd, labeled)),
        # models[r - 1] was trained on the labels the run held at the end of round r - 1
        "fed-labels": _replay(data, central_cfg, lambda rnd, labeled, history: scored_picks(
            data, central_cfg, fit_or_init(data, res.labeled_rows[rnd - 1], central_cfg), rnd, labeled)),
        "central-reseed": _replay(data, central_cfg, lambda rnd, labeled, history: scored_picks(
            data, central_cfg, fit_or_init(data, labeled, reseeded), rnd, labeled)),
        **more,
    }


def init_offsets(inits: int) -> list[int]:
    """The seed offsets of ``inits`` initializations, the seed's own (0) first."""
    if inits < 1:
        from fedsift.simulations.errors import SimulationError

        raise SimulationError(f"--inits {inits}: at least one initialization (the seed's own)")
    return [k * RESEED for k in range(inits)]


def init_arms(offsets: Sequence[int]) -> list[str]:
    """The arm names ``--inits`` adds for ``offsets`` (the first, 0, is ``central``/``fedsel`` themselves)."""
    return [f"{arm}@{offset}" for offset in offsets[1:] for arm in ("central", "fedsel")]


def _average(runs: Sequence[list[list[dict[str, float]]]]) -> list[list[dict[str, float]]]:
    """Per seed, the accuracy averaged over several initializations' curves of the same labels."""
    out = []
    for per_init in zip(*runs):
        n = min(len(c) for c in per_init)
        if any([p["labels"] for p in c[:n]] != [p["labels"] for p in per_init[0][:n]] for c in per_init):
            raise ValueError("one seed's initializations hold different label counts")
        out.append([{"labels": per_init[0][i]["labels"],
                     "accuracy": float(np.mean([c[i]["accuracy"] for c in per_init]))} for i in range(n)])
    return out


def compare_averaged(curves: dict[str, list[list[dict[str, float]]]],
                     offsets: Sequence[int]) -> dict[str, dict[str, float]]:
    """``fedsel`` and the one-initialization ``central`` against ``central`` averaged over ``offsets``.

    Both sides of ``fedsel``'s comparison are averaged over the same initializations, paired
    by seed as in :func:`compare`.
    """
    def avg(arm: str) -> list[list[dict[str, float]]]:
        return _average([curves[arm], *(curves[f"{arm}@{o}"] for o in offsets[1:])])

    return compare({"central": avg("central"), "fedsel": avg("fedsel"), "central, one init": curves["central"]})


def compare_same_init(curves: dict[str, list[list[dict[str, float]]]],
                      offsets: Sequence[int]) -> dict[str, dict[str, float]]:
    """``fedsel`` against ``central`` one initialization at a time, keyed by the seed offset."""
    out = {}
    for offset in offsets:
        tag = "" if offset == 0 else f"@{offset}"
        out[f"+{offset}"] = compare({"central": curves[f"central{tag}"], "fedsel": curves[f"fedsel{tag}"]})["fedsel"]
    return out


def compare(curves: dict[str, list[list[dict[str, float]]]]) -> dict[str, dict[str, float]]:
    """Each arm against ``central``, paired by seed: worst mean difference (points) ± SE, where, and the mean."""
    from .label_efficiency import _per_seed, _sem

    ref = _per_seed({"curves": curves["central"]})
    out = {}
    for name, runs in curves.items():
        if name == "central":
            continue
        mine = _per_seed({"curves": runs})
        diffs = {n: 100 * (mine[n] - ref[n]) for n in mine if n in ref and len(mine[n]) == len(ref[n])}
        if not diffs:
            continue
        worst = min(diffs, key=lambda n: diffs[n].mean())
        out[name] = {"worst": float(diffs[worst].mean()), "se": _sem(diffs[worst]), "labels": worst,
                     "mean": float(np.mean([d.mean() for d in diffs.values()]))}
    return out


def run(dataset: str, clients: int, alpha: float, strategy: str, seeds: Sequence[int],
        overrides: dict[str, Any] | None = None, on_seed: Callable[[int], None] | None = None,
        schedule: tuple[int, int] | None = None, inits: int = 1) -> dict[str, Any]:
    """All seeds: per-arm curves, mean curves and the comparison with ``central``.

    With ``inits`` > 1 also ``inits`` (the seed offsets), ``against_averaged``
    (:func:`compare_averaged`) and ``against_same_init`` (:func:`compare_same_init`); the
    extra arms are left out of ``against_central``.
    """
    check_strategy(strategy)
    offsets = init_offsets(inits)
    start = time.perf_counter()
    curves: dict[str, list[list[dict[str, float]]]] = {a: [] for a in (*ARMS, *init_arms(offsets))}
    for seed in seeds:
        for name, curve in run_seed(dataset, clients, alpha, strategy, seed, overrides, schedule, inits).items():
            curves[name].append(curve)
        if on_seed is not None:
            on_seed(seed)
    arms = {name: mean_arm(runs) for name, runs in curves.items()}
    result = {"dataset": dataset, "clients": clients, "alpha": alpha, "strategy": strategy, "seeds": list(seeds),
              "overrides": dict(overrides or {}), "arms": arms,
              "against_central": compare({a: curves[a] for a in ARMS}), "wall_seconds": time.perf_counter() - start}
    if inits > 1:
        result["inits"] = offsets
        result["against_averaged"] = compare_averaged(curves, offsets)
        result["against_same_init"] = compare_same_init(curves, offsets)
    return result


def mean_arm(runs: list[list[dict[str, float]]]) -> dict[str, Any]:
    """An arm's mean and std curve over seeds, round by round, up to the round every seed reached.

    Every seed of an arm spends the same budget per round, so the label counts agree; where
    they do not (a federated round that could not fill its budget) the mean count is kept
    (:meth:`label_efficiency.Arm.mean_curve`), and the comparison with ``central`` still
    pairs only equal counts (:func:`compare`).
    """
    from .label_efficiency import Arm

    labels, mean, std = Arm("", "", curves=list(runs)).mean_curve()
    n = len(labels)
    if any(len(c) != n or [p["labels"] for p in c[:n]] != [p["labels"] for p in runs[0][:n]] for c in runs):
        logger.warning("the seeds' curves differ in length or label counts; mean curve over %d rounds", n)
    counts = [int(x) if float(x).is_integer() else float(x) for x in labels]
    return {"labels": counts, "mean": mean.tolist(), "std": std.tolist(), "curves": runs}


#: What results must share to pool into one report.
SAME_SETTING = ("dataset", "clients", "alpha", "strategy", "overrides")


def read_result(path: Path) -> dict[str, Any]:
    """A stored result, its comparison recomputed from the per-seed curves.

    Raises
    ------
    SimulationError
        The file is unreadable, not JSON, or lacks an arm's per-seed curves.
    """
    from fedsift.simulations.errors import SimulationError

    try:
        result = json.loads(Path(path).read_text(encoding="utf-8"))
        missing = [key for key in (*SAME_SETTING, "seeds") if key not in result]
        if missing:
            raise ValueError(f"no {', '.join(missing)}")
        curves = {name: result["arms"][name]["curves"] for name in ARMS
                  if name not in CONTROL_ARMS or name in result["arms"]}
        offsets = result.get("inits", [0])
        if not (isinstance(offsets, list) and offsets[:1] == [0] and all(isinstance(o, int) for o in offsets)):
            raise ValueError(f"inits must list seed offsets from 0, not {offsets!r}")
        more = {name: result["arms"][name]["curves"] for name in init_arms(offsets)}
        if not all(isinstance(c, list) and len(c) == len(result["seeds"]) for c in (*curves.values(), *more.values())):
            raise ValueError("an arm does not hold one curve per seed")
        result["against_central"] = compare(curves)
        if len(offsets) > 1:
            result["against_averaged"] = compare_averaged({**curves, **more}, offsets)
            result["against_same_init"] = compare_same_init({**curves, **more}, offsets)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SimulationError(f"{path}: not a selection-gap result: {exc}") from exc
    return result


def pool_results(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Results of disjoint seeds with the same setting as one: curves joined, every figure recomputed.

    Only the arms every result holds are kept, and ``--inits`` only when all used the same
    offsets; ``wall_seconds`` is the sum.

    Raises
    ------
    SimulationError
        The results differ in a setting (:data:`SAME_SETTING`) or share a seed.
    """
    from fedsift.simulations.errors import SimulationError

    first = results[0]
    for other in results[1:]:
        for key in SAME_SETTING:
            if other.get(key) != first.get(key):
                raise SimulationError(f"cannot pool results with another {key}: {first.get(key)!r} and {other.get(key)!r}")
    seeds = [s for r in results for s in r["seeds"]]
    if len(set(seeds)) != len(seeds):
        raise SimulationError(f"cannot pool results that share seeds: {sorted(s for s in set(seeds) if seeds.count(s) > 1)}")
    offsets = [r.get("inits", [0]) for r in results]
    offsets = offsets[0] if all(o == offsets[0] for o in offsets) else [0]
    names = [n for n in (*ARMS, *init_arms(offsets)) if all(n in r["arms"] for r in results)]
    curves = {n: [c for r in results for c in r["arms"][n]["curves"]] for n in names}
    pooled = {**{k: first[k] for k in SAME_SETTING}, "seeds": seeds, "arms": {n: mean_arm(c) for n, c in curves.items()},
              "against_central": compare({n: curves[n] for n in names if n in ARMS}),
              "wall_seconds": sum(float(r.get("wall_seconds", 0.0)) for r in results)}
    if len(offsets) > 1:
        pooled["inits"] = offsets
        pooled["against_averaged"] = compare_averaged(curves, offsets)
        pooled["against_same_init"] = compare_same_init(curves, offsets)
    return pooled


def report(result: dict[str, Any]) -> str:
    """The printed tables: mean accuracy per label count, then each arm against ``central``."""
    arms = result["arms"]
    extra = ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(result["overrides"].items()))
    lines = [f"{result['dataset']}, {result['clients']} clients, alpha {result['alpha']}, {result['strategy']}, "
             f"seeds {', '.join(map(str, result['seeds']))}" + (f"; federated run with {extra}" if extra else ""),
             "", "| arm | " + " | ".join(str(n) for n in arms["central"]["labels"][1:]) + " |",
             "|---|" + "---|" * (len(arms["central"]["labels"]) - 1)]
    for name, arm in arms.items():  # by label count: an arm whose seeds fell short shows "—" there
        at = {round(n): m for n, m in zip(arm["labels"], arm["mean"])}
        lines.append(f"| {name} | " + " | ".join(
            f"{at[round(n)]:.3f}" if round(n) in at else "—" for n in arms["central"]["labels"][1:]) + " |")
    lines += ["", "| arm against central (paired by seed) | worst (points) ± SE | at labels | mean |", "|---|---|---|---|"]
    for name, g in result["against_central"].items():
        lines.append(f"| {name} | {g['worst']:+.1f} ± {g['se']:.1f} | {g['labels']} | {g['mean']:+.1f} |")
    if "against_averaged" in result:
        offsets = ", ".join(f"+{o}" for o in result["inits"])
        lines += ["", f"| against central averaged over {len(result['inits'])} initializations (seed {offsets}) "
                  "| worst (points) ± SE | at labels | mean |", "|---|---|---|---|"]
        for name, g in result["against_averaged"].items():
            label = f"{name} averaged the same way" if name == "fedsel" else name
            lines.append(f"| {label} | {g['worst']:+.1f} ± {g['se']:.1f} | {g['labels']} | {g['mean']:+.1f} |")
        for offset, g in result.get("against_same_init", {}).items():
            lines.append(f"| fedsel against central, both from seed {offset} alone "
                         f"| {g['worst']:+.1f} ± {g['se']:.1f} | {g['labels']} | {g['mean']:+.1f} |")
    lines.append(f"\nwall time: {result['wall_seconds']:.0f} s")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="mnist1d")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--alpha", type=float, default=0.5)
    p.add_argument("--strategy", default="hybrid")
    p.add_argument("--seeds", type=int, nargs="+", action=Repeatable, default=[100, 101, 102, 103, 104])
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="a campaign setting for the federated run (repeatable), e.g. train_rounds=20")
    p.add_argument("--inits", type=int, default=1, metavar="K",
                   help="also train central and fedsel from K - 1 more initializations and compare their averages")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--report", type=Path, nargs="+", action=Repeatable, default=None, metavar="FILE",
                   help="run nothing: print the stored result FILE (its comparison recomputed); "
                        "several files of disjoint seeds and the same setting are pooled into one")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    apply_offline_environment()
    from .label_efficiency import parse_overrides

    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import flwr  # noqa: F401  (importing flwr resets its logger: set levels afterwards)
    from fedsift.simulations.errors import SimulationError

    for name in ("flwr", "fedsift.server", "fedsift.simulations.runner"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if args.report is not None:
        print_stored("selection_gap", lambda: pool_results([read_result(f) for f in args.report]), report)
        return
    try:
        overrides = parse_overrides(args.overrides, FED_ONLY_TRAINING)
        result = run(args.dataset, args.clients, args.alpha, args.strategy, args.seeds, overrides,
                     on_seed=lambda s: logger.info("seed %d done", s), inits=args.inits)
    except SimulationError as exc:
        raise SystemExit(f"selection_gap: {exc}") from exc
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(report(result))


if __name__ == "__main__":
    main()
