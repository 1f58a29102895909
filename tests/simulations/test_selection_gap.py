"""The selection-gap benchmark: each replay reduces to the central loop where it must."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from fedsift.simulations import load_dataset
from fedsift.simulations.benchmarks import selection_gap as sg
from fedsift.simulations.benchmarks.label_efficiency import _campaign
from fedsift.simulations.central import _context, fit_mlp, fit_or_init, initial_labels


@pytest.fixture(scope="module")
def digits():  # type: ignore[no-untyped-def]
    return load_dataset("digits")


def _state(data, strategy: str):  # type: ignore[no-untyped-def]
    cfg = _campaign("digits", strategy, 3)
    cfg.num_features, cfg.num_classes, cfg.budget = data.num_features, data.num_classes, 20
    labeled = np.asarray(initial_labels(data, cfg)[0], dtype=np.int64)
    return cfg, labeled, [fit_mlp(data, labeled, cfg)]


def _central_pick(data, cfg, labeled, history, rnd):  # type: ignore[no-untyped-def]
    from fedsift.edge_runtime import get_strategy

    strategy = get_strategy(cfg.strategy)
    pool = np.setdiff1d(np.arange(data.x_train.shape[0]), labeled)
    rng = np.random.default_rng([cfg.seed, rnd])
    ctx = _context(strategy.needs, history[-1], history, data, pool, labeled, rng, cfg.mc_passes, cfg.mc_dropout)
    return pool[strategy.select(ctx, cfg.budget, rng).indices]


def test_one_device_with_top_k_and_no_random_slice_picks_what_central_margin_picks(digits) -> None:
    cfg, labeled, history = _state(digits, "margin")
    cfg.allocation, cfg.random_fraction, cfg.sketch_dim = "global_topk", 0.0, 0
    everything = [np.arange(digits.x_train.shape[0])]
    fed = sg.picked_rows(sg.fed_mechanism_allocation(digits, cfg, everything, 2, labeled, history))
    assert sorted(fed.tolist()) == sorted(_central_pick(digits, cfg, labeled, history, 2).tolist())
    assert not set(fed.tolist()) & set(labeled.tolist())


def test_the_mechanism_replay_spreads_the_batch_over_devices_and_keeps_the_random_slice(digits) -> None:
    cfg, labeled, history = _state(digits, "hybrid")
    rows = np.setdiff1d(np.arange(digits.x_train.shape[0]), labeled)
    parts = np.array_split(np.arange(digits.x_train.shape[0]), 4)
    alloc = sg.fed_mechanism_allocation(digits, cfg, parts, 2, labeled, history)
    picks = sg.picked_rows(alloc)
    assert len(picks) == cfg.budget == len(set(picks.tolist())) and set(picks.tolist()) <= set(rows.tolist())
    assert len({int(np.searchsorted([p[-1] for p in parts], r)) for r in picks}) > 1
    reasons = [p.reason for p in alloc.picks]
    assert reasons.count("random-slice") == round(cfg.budget * cfg.random_fraction) == 2
    assert reasons.count("cross-device-diversity") == cfg.budget - 2


def _layers(onnx_model: bytes):  # type: ignore[no-untyped-def]
    import onnx
    from onnx import numpy_helper

    arrays = [numpy_helper.to_array(t) for t in onnx.load_from_string(onnx_model).graph.initializer]
    return list(zip(arrays[0::2], arrays[1::2]))


@pytest.mark.parametrize("strategy,shortlist,share,cold,large", [
    ("hybrid", 4, 0.0, 0, 30), ("badge", 4, 0.0, 0, 30), ("hybrid", 16, 0.0, 0, 30), ("hybrid", 4, 1.0, 0, 30),
    ("hybrid", 4, 0.0, 1, 30), ("hybrid", 0, 0.0, 0, 5)])
def test_replayed_with_a_federated_runs_own_models_the_mechanism_picks_what_that_run_picked(digits, strategy,
                                                                                             shortlist, share,
                                                                                             cold, large) -> None:
    """The replay mirrors the devices (random stream, item ids) and the server, not just their kind.

    ``cold_start_shortlist`` changes the run's first (cold-start) batch only: the replayed
    rounds after it then pick what the default shortlist picks from the same labels. With
    ``kcenter_shortlist`` 0 and ``large_federation`` 5, the five devices count as a large
    federation: both the Flower run and the replay take the wide shortlist (8).
    """

    from fedsift.simulations import SimulationConfig, dirichlet_partition, run_simulation

    cfg = _campaign("digits", strategy, 7)
    cfg.budget, cfg.rounds, cfg.kcenter_shortlist, cfg.kcenter_shortlist_share = 20, 3, shortlist, share
    cfg.cold_start_shortlist, cfg.large_federation = cold, large
    models: list[bytes] = []
    res = run_simulation(SimulationConfig(dataset="digits", clients=5, alpha=0.5, campaign=cfg), on_model=models.append)
    cfg.num_features, cfg.num_classes = digits.num_features, digits.num_classes
    parts = dirichlet_partition(digits.y_train, 5, 0.5, 7)
    default = replace(cfg, kcenter_shortlist=4, kcenter_shortlist_share=0.0, cold_start_shortlist=0)
    differs = []
    for rnd in (2, 3):  # round r's devices score with the model published after round r - 1
        before = np.asarray(res.labeled_rows[rnd - 1], dtype=np.int64)
        picked = sorted(set(res.labeled_rows[rnd]) - set(before.tolist()))
        alloc = sg.fed_mechanism_allocation(digits, cfg, parts, rnd, before, [_layers(models[rnd - 1])])
        assert sorted(sg.picked_rows(alloc).tolist()) == picked
        alloc = sg.fed_mechanism_allocation(digits, default, parts, rnd, before, [_layers(models[rnd - 1])])
        differs.append(sorted(sg.picked_rows(alloc).tolist()) != picked)
    # the replay follows the run's shortlist, which matters here
    assert cfg.shortlist_for(5) == (8 if shortlist == 0 else shortlist)
    assert any(differs) == (cfg.shortlist_for(5) != 4 or share > 0)


def test_scoring_with_the_central_model_as_onnx_picks_what_central_hybrid_picks(digits) -> None:
    from fedsift.server.model import export_onnx

    cfg, labeled, history = _state(digits, "hybrid")
    fed = sg.fed_model_picks(digits, cfg, export_onnx(history[-1]), 2, labeled)
    central = _central_pick(digits, cfg, labeled, history, 2)
    # float32 ONNX against float64 numpy: the same batch up to a near-tie or two
    assert len(set(fed.tolist()) & set(central.tolist())) >= cfg.budget - 2


def test_the_control_arms_scoring_step_with_the_central_model_is_the_central_step(digits) -> None:
    """``fed-labels`` and ``central-reseed`` differ from ``central`` only in the model they score with."""
    cfg, labeled, history = _state(digits, "hybrid")
    same = sg.scored_picks(digits, cfg, fit_or_init(digits, labeled, cfg), 2, labeled)
    assert same.tolist() == _central_pick(digits, cfg, labeled, history, 2).tolist()
    other = sg.scored_picks(digits, cfg, fit_or_init(digits, labeled, replace(cfg, seed=cfg.seed + sg.RESEED)),
                            2, labeled)
    assert len(other) == cfg.budget and other.tolist() != same.tolist()
    assert not set(other.tolist()) & set(labeled.tolist())


def test_with_no_labels_the_control_arms_model_is_the_initialization(digits) -> None:
    from fedsift.server.model import init_weights

    cfg, _, _ = _state(digits, "hybrid")
    layers = fit_or_init(digits, np.zeros(0, dtype=np.int64), cfg)
    expected = init_weights([digits.num_features, *cfg.hidden, digits.num_classes], cfg.seed)
    assert all(np.array_equal(w, v) and np.array_equal(b, c) for (w, b), (v, c) in zip(layers, expected))


def test_the_model_a_run_publishes_after_round_r_pairs_with_the_labels_it_held_then(digits) -> None:
    """``fed-model`` scores round r with ``models[r - 1]``; ``fed-labels`` trains on ``labeled_rows[r - 1]``."""
    from fedsift.simulations import SimulationConfig, run_simulation

    cfg = _campaign("digits", "hybrid", 5)
    cfg.budget, cfg.rounds = 10, 2
    models: list[bytes] = []
    res = run_simulation(SimulationConfig(dataset="digits", clients=3, alpha=0.5, campaign=cfg), on_model=models.append)
    assert len(models) == len(res.labeled_rows) == cfg.rounds + 1
    assert [len(rows) for rows in res.labeled_rows] == [0, 10, 20]
    # before any label, both are the initialization
    init = fit_or_init(digits, np.zeros(0, dtype=np.int64), cfg)
    assert all(np.allclose(w, v) and np.allclose(b, c) for (w, b), (v, c) in zip(_layers(models[0]), init))


def test_fed_model_refuses_strategies_it_cannot_rebuild(digits) -> None:
    from fedsift.server.model import export_onnx
    from fedsift.simulations.errors import SimulationError

    cfg, labeled, history = _state(digits, "bald")
    with pytest.raises(SimulationError, match="bald needs MC dropout or a committee"):
        sg.fed_model_picks(digits, cfg, export_onnx(history[-1]), 2, labeled)
    for name, message in (("qbc", "needs MC dropout or a committee"), ("auto", "not a device strategy")):
        with pytest.raises(SimulationError, match=message):  # before anything runs
            sg.run("digits", clients=3, alpha=0.5, strategy=name, seeds=[1], schedule=(10, 2))


def test_compare_pairs_each_arm_with_central_by_seed() -> None:
    def curve(*acc: float) -> list[dict[str, float]]:
        return [{"labels": 10 * i, "accuracy": a} for i, a in enumerate(acc)]

    curves = {"central": [curve(0.1, 0.5, 0.7), curve(0.1, 0.6, 0.8)],
              "fed-model": [curve(0.1, 0.4, 0.7), curve(0.1, 0.4, 0.8)]}  # -10 and -20 at 10 labels
    (row,) = sg.compare(curves).values()
    assert row["worst"] == pytest.approx(-15.0) and row["labels"] == 10
    assert row["se"] == pytest.approx(5.0) and row["mean"] == pytest.approx(-7.5)



def test_a_seed_that_fell_short_does_not_sink_the_mean_curve_or_the_report(caplog) -> None:
    """Before, one federated seed with a round short of its budget made a ragged array after all seeds ran."""
    full = [{"labels": 10 * i, "accuracy": 0.1 * (i + 1)} for i in range(4)]
    short = [{"labels": 0, "accuracy": 0.1}, {"labels": 10, "accuracy": 0.3}, {"labels": 17, "accuracy": 0.4}]
    arm = sg.mean_arm([full, full])
    assert arm["labels"] == [0, 10, 20, 30] and arm["mean"] == pytest.approx([0.1, 0.2, 0.3, 0.4])
    with caplog.at_level("WARNING"):
        ragged = sg.mean_arm([full, short])
    assert "differ in length or label counts" in caplog.text
    assert ragged["labels"] == pytest.approx([0, 10, 18.5]) and ragged["mean"] == pytest.approx([0.1, 0.25, 0.35])
    result = {"dataset": "digits", "clients": 3, "alpha": 0.5, "strategy": "hybrid", "seeds": [1, 2],
              "overrides": {}, "arms": {"central": sg.mean_arm([full, full]), "fed": ragged},
              "against_central": sg.compare({"central": [full, full], "fed": [full, short]}), "wall_seconds": 1.0}
    text = sg.report(result)
    assert "| fed | 0.250 | — | — |" in text  # 10 labels reached by both seeds; 20 and 30 not
    # paired only where both seeds reached the count: at 10 labels, (0 + 10) / 2 points ahead
    assert result["against_central"]["fed"]["labels"] == 10

def test_a_small_run_has_every_arm_and_the_central_arm_is_the_central_loop(tmp_path) -> None:
    from fedsift.simulations.central import run_central

    result = sg.run("digits", clients=3, alpha=0.5, strategy="hybrid", seeds=[1], schedule=(10, 3),
                    overrides={"train_rounds": 1})
    assert set(result["arms"]) == set(sg.ARMS) and set(result["against_central"]) == set(sg.ARMS) - {"central"}
    assert result["overrides"] == {"train_rounds": 1}
    assert all(arm["labels"] == [0, 10, 20, 30] for arm in result["arms"].values())
    data = load_dataset("digits")
    cfg = _campaign("digits", "hybrid", 1)
    cfg.num_features, cfg.num_classes, cfg.budget, cfg.rounds = data.num_features, data.num_classes, 10, 3
    assert result["arms"]["central"]["curves"][0] == [p.to_dict() for p in run_central(data, cfg)]
    # the first round is the central cold start for every replayed arm
    replayed = ("central", "fed-mechanism", "fed-model", "fed-labels", "central-reseed")
    first = {result["arms"][a]["curves"][0][1]["accuracy"] for a in replayed}
    assert len(first) == 1
    # after it, the reseeded model picks another batch
    assert result["arms"]["central-reseed"]["curves"][0][2:] != result["arms"]["central"]["curves"][0][2:]
    text = sg.report(result)
    assert "| fed-mechanism |" in text and "federated run with train_rounds=1" in text


def test_the_command_line_names_a_bad_setting(tmp_path) -> None:
    with pytest.raises(SystemExit, match="selection_gap: --set seed: the central reference reads it too"):
        sg.main(["--dataset", "digits", "--seeds", "1", "--set", "seed=3"])
    with pytest.raises(SystemExit, match=r"selection_gap: --set config 'lr' = -1.0: must be in \(0, 10\]"):
        sg.main(["--dataset", "digits", "--seeds", "1", "--set", "lr=-1"])


def test_the_learning_rate_reaches_the_federated_run_alone() -> None:
    """``lr`` is refused by label_efficiency's --set; here only the federated run trains with it."""
    from fedsift.simulations.benchmarks.label_efficiency import parse_overrides
    from fedsift.simulations.errors import SimulationError

    assert parse_overrides(["lr=0.05"], sg.FED_ONLY_TRAINING) == {"lr": 0.05}
    with pytest.raises(SimulationError, match="lr: the central reference reads it too"):
        parse_overrides(["lr=0.05"])
    kwargs = {"clients": 3, "alpha": 0.5, "strategy": "margin", "seeds": [1], "schedule": (10, 2)}
    plain = sg.run("digits", overrides={"train_rounds": 1}, **kwargs)
    fast = sg.run("digits", overrides={"train_rounds": 1, "lr": 0.05}, **kwargs)
    for arm in ("central", "fed-mechanism"):  # trained and scored the central way: untouched
        assert fast["arms"][arm]["curves"] == plain["arms"][arm]["curves"], arm
    assert fast["arms"]["fed"]["curves"] != plain["arms"]["fed"]["curves"]


def test_read_result_names_a_file_that_is_not_a_selection_gap_result(tmp_path) -> None:
    from fedsift.simulations.errors import SimulationError

    (tmp_path / "bad.json").write_text('{"arms": {"central": {"curves": "rm -rf /"}}, "seeds": [1]}')
    arms = {name: {"curves": [[{"labels": 0, "accuracy": 0.1}]]} for name in sg.ARMS}
    arms["fed"]["curves"] = "rm -rf /"
    import json

    (tmp_path / "hostile.json").write_text(json.dumps({"arms": arms, "seeds": [1]}))
    (tmp_path / "broken.json").write_text("{")
    for name in ("bad.json", "hostile.json", "broken.json", "missing.json"):
        with pytest.raises(SimulationError, match="not a selection-gap result"):
            sg.read_result(tmp_path / name)


def test_more_initializations_retrain_central_and_fedsel_from_other_weights_on_the_same_schedule() -> None:
    from fedsift.simulations.central import retrain_on_picks

    result = sg.run("digits", clients=3, alpha=0.5, strategy="hybrid", seeds=[1], schedule=(10, 3),
                    overrides={"train_rounds": 1}, inits=3)
    assert result["inits"] == [0, 1000, 2000]
    assert set(result["arms"]) == set(sg.ARMS) | {"central@1000", "fedsel@1000", "central@2000", "fedsel@2000"}
    assert set(result["against_central"]) == set(sg.ARMS) - {"central"}  # the extra arms stay out of it
    assert set(result["against_averaged"]) == {"fedsel", "central, one init"}
    assert list(result["against_same_init"]) == ["+0", "+1000", "+2000"]
    assert result["against_same_init"]["+0"] == pytest.approx(result["against_central"]["fedsel"], nan_ok=True)
    one = sg.run("digits", clients=3, alpha=0.5, strategy="hybrid", seeds=[1], schedule=(10, 3),
                 overrides={"train_rounds": 1})
    assert "inits" not in one and "against_averaged" not in one
    for arm in sg.ARMS:  # the seed's own arms do not move
        assert result["arms"][arm]["curves"] == one["arms"][arm]["curves"], arm
    curves = {name: arm["curves"][0] for name, arm in result["arms"].items()}
    for offset in (1000, 2000):
        other, fedsel = curves[f"central@{offset}"], curves[f"fedsel@{offset}"]
        # the same label counts, other accuracies: other weights, not other labels
        assert [p["labels"] for p in other] == [p["labels"] for p in curves["central"]]
        assert [p["labels"] for p in fedsel] == [p["labels"] for p in curves["fedsel"]]
        assert [p["accuracy"] for p in other] != [p["accuracy"] for p in curves["central"]]
        assert [p["accuracy"] for p in fedsel] != [p["accuracy"] for p in curves["fedsel"]]
    # fedsel@OFFSET is the federated run's labels trained from seed + OFFSET; central@OFFSET's
    # round 0 is that initialization and its round 1 the seed's cold start trained from it
    from fedsift.simulations import SimulationConfig, run_simulation

    data = load_dataset("digits")
    cfg = _campaign("digits", "hybrid", 1)
    cfg.budget, cfg.rounds, cfg.train_rounds = 10, 3, 1
    res = run_simulation(SimulationConfig(dataset="digits", clients=3, alpha=0.5, campaign=cfg))
    cfg.num_features, cfg.num_classes = data.num_features, data.num_classes
    other = replace(cfg, seed=1001)
    assert [p.to_dict() for p in retrain_on_picks(data, other, res.labeled_rows)] == curves["fedsel@1000"]
    cold = retrain_on_picks(data, other, [np.zeros(0, dtype=np.int64), initial_labels(data, cfg)[0]])
    assert [p.accuracy for p in cold] == [p["accuracy"] for p in curves["central@1000"][:2]]
    text = sg.report(result)
    assert "against central averaged over 3 initializations (seed +0, +1000, +2000)" in text
    assert "| fedsel averaged the same way |" in text and "| central@2000 |" in text
    assert "| fedsel against central, both from seed +1000 alone |" in text


def test_the_averaged_comparison_pairs_the_averages_by_seed() -> None:
    def curve(*acc: float) -> list[dict[str, float]]:
        return [{"labels": 10 * i, "accuracy": a} for i, a in enumerate(acc)]

    curves = {"central": [curve(0.1, 0.6), curve(0.1, 0.5)], "central@1000": [curve(0.1, 0.4), curve(0.1, 0.5)],
              "fedsel": [curve(0.1, 0.4), curve(0.1, 0.5)], "fedsel@1000": [curve(0.1, 0.4), curve(0.1, 0.3)]}
    # averages at 10 labels: central 0.5, 0.5; fedsel 0.4, 0.4
    got = sg.compare_averaged(curves, [0, 1000])
    assert got["fedsel"]["worst"] == pytest.approx(-10.0) and got["fedsel"]["se"] == pytest.approx(0.0)
    assert got["central, one init"]["worst"] == pytest.approx(5.0) and got["central, one init"]["se"] == pytest.approx(5.0)
    assert got["central, one init"]["labels"] == 10  # the round-0 points tie at 0 and come first
    curves["fedsel@1000"] = [curve(0.1, 0.4), [{"labels": 0, "accuracy": 0.1}, {"labels": 12, "accuracy": 0.3}]]
    with pytest.raises(ValueError, match="different label counts"):
        sg.compare_averaged(curves, [0, 1000])


def test_inits_must_be_at_least_one(tmp_path) -> None:
    from fedsift.simulations.errors import SimulationError

    assert sg.init_offsets(1) == [0] and sg.init_arms([0]) == []
    with pytest.raises(SimulationError, match="--inits 0: at least one initialization"):
        sg.run("digits", clients=3, alpha=0.5, strategy="hybrid", seeds=[1], schedule=(10, 2), inits=0)
    with pytest.raises(SystemExit, match="selection_gap: --inits -2: at least one"):
        sg.main(["--dataset", "digits", "--seeds", "1", "--inits", "-2"])


def test_read_result_names_a_file_whose_initializations_do_not_add_up(tmp_path) -> None:
    import json

    from fedsift.simulations.errors import SimulationError

    arms = {name: {"curves": [[{"labels": 0, "accuracy": 0.1}, {"labels": 10, "accuracy": 0.2}]]}
            for name in (*sg.ARMS, "central@1000", "fedsel@1000")}
    good = {"dataset": "digits", "clients": 3, "alpha": 0.5, "strategy": "hybrid", "overrides": {},
            "arms": arms, "seeds": [1], "inits": [0, 1000]}
    (tmp_path / "good.json").write_text(json.dumps(good))
    assert sg.read_result(tmp_path / "good.json")["against_averaged"]["fedsel"]["worst"] == pytest.approx(0.0)
    hostile = {"missing arm": {**good, "inits": [0, 1000, 2000]}, "not from 0": {**good, "inits": [1000]},
               "not a list": {**good, "inits": "0"}, "not ints": {**good, "inits": [0, "1000"]},
               "ragged": {**good, "arms": {**arms, "fedsel@1000": {"curves": [[{"labels": 0, "accuracy": 0.1},
                                                                             {"labels": 12, "accuracy": 0.2}]]}}},
               "no setting": {k: v for k, v in good.items() if k != "alpha"}}
    for name, content in hostile.items():
        (tmp_path / "bad.json").write_text(json.dumps(content))
        with pytest.raises(SimulationError, match="not a selection-gap result"):
            sg.read_result(tmp_path / "bad.json")


def _result(seeds: list[int], shift: float, inits: list[int] | None = None, **setting: object) -> dict:
    """A stored-looking result whose every arm is ``central`` moved by ``shift`` (fedsel by 2 × shift)."""
    def curve(seed: int, d: float) -> list[dict[str, float]]:
        return [{"labels": 10 * i, "accuracy": 0.1 * i + 0.01 * seed + d} for i in range(3)]

    names = [*sg.ARMS, *sg.init_arms(inits or [0])]
    curves = {n: [curve(s, 0.0 if n.startswith("central") else shift * (2 if n.startswith("fedsel") else 1))
                  for s in seeds] for n in names}
    out = {"dataset": "digits", "clients": 3, "alpha": 0.5, "strategy": "hybrid", "overrides": {}, "seeds": seeds,
           "arms": {n: sg.mean_arm(c) for n, c in curves.items()}, "wall_seconds": 2.0, **setting}
    if inits:
        out["inits"] = inits
    return out


def test_results_of_disjoint_seeds_pool_into_one_report(tmp_path, capsys) -> None:
    import json

    from fedsift.simulations.errors import SimulationError

    a, b = _result([1, 2], -0.01, [0, 1000]), _result([3], -0.04, [0, 1000])
    pooled = sg.pool_results([a, b])
    assert pooled["seeds"] == [1, 2, 3] and pooled["wall_seconds"] == 4.0 and pooled["inits"] == [0, 1000]
    assert len(pooled["arms"]["fed"]["curves"]) == 3
    # fed: -1, -1 and -4 points at every count but 0 labels' tie → worst mean -2 ± 1
    assert pooled["against_central"]["fed"]["worst"] == pytest.approx(-2.0)
    assert pooled["against_central"]["fed"]["se"] == pytest.approx(1.0)
    assert pooled["against_averaged"]["fedsel"]["worst"] == pytest.approx(-4.0)
    assert pooled["against_same_init"]["+1000"]["worst"] == pytest.approx(-4.0)
    # without the extra initializations in one of them, the pooled result has none
    plain = sg.pool_results([a, _result([3], -0.04)])
    assert "inits" not in plain and "central@1000" not in plain["arms"]
    for other, message in ((_result([2], 0.0), "share seeds: \\[2\\]"),
                           (_result([3], 0.0, alpha=0.1), "another alpha: 0.5 and 0.1"),
                           (_result([3], 0.0, overrides={"train_rounds": 20}), "another overrides")):
        with pytest.raises(SimulationError, match=message):
            sg.pool_results([a, other])
    for name, result in (("a.json", a), ("b.json", b), ("c.json", _result([3], 0.0, alpha=0.1))):
        (tmp_path / name).write_text(json.dumps(result))
    sg.main(["--report", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    assert "seeds 1, 2, 3" in capsys.readouterr().out
    sg.main(["--report", str(tmp_path / "a.json"), "--report", str(tmp_path / "b.json")])
    assert "seeds 1, 2, 3" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="selection_gap --report: cannot pool results with another alpha"):
        sg.main(["--report", str(tmp_path / "a.json"), str(tmp_path / "c.json")])
