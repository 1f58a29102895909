"""The cold-start benchmark: arms, paired differences and the report on a tiny setting."""

from __future__ import annotations

import numpy as np
import pytest

from fedsift.simulations.benchmarks import cold_start as cs


@pytest.fixture(scope="module")
def setting() -> dict:
    return cs.run_setting("digits", clients=3, alpha=0.5, seeds=[1, 2], policies=["typical", "proportional"],
                          rounds=2, budget=10)


def test_every_policy_runs_beside_random_both_ways(setting: dict) -> None:
    assert set(setting["arms"]) == {f"{p}:{a}" for p in ("fed", "fedsel")
                                    for a in ("random", "auto@typical", "auto@proportional")}
    for arm in setting["arms"].values():
        assert len(arm["curves"]) == 2 and [round(x) for x in arm["labels"] if x > 0] == [10, 20]


def test_paired_differences_are_per_seed_differences_to_random(setting: dict) -> None:
    arms = setting["arms"]
    for policy in ("typical", "proportional"):
        for prefix in ("fed", "fedsel"):
            rows = setting["paired"][policy][prefix]
            assert [r["labels"] for r in rows] == [10, 20]
            for r in rows:
                def at(name: str) -> np.ndarray:
                    return np.array([next(p["accuracy"] for p in c if round(p["labels"]) == r["labels"])
                                     for c in arms[name]["curves"]])
                d = 100 * (at(f"{prefix}:auto@{policy}") - at(f"{prefix}:random"))
                assert r["diff"] == pytest.approx(d.mean()) and r["se"] == pytest.approx(d.std(ddof=1) / np.sqrt(2))


def test_report_has_a_row_per_policy(setting: dict) -> None:
    text = cs.report({"settings": [setting], "wall_seconds": 1.0})
    assert "| typical |" in text and "| proportional |" in text and "10 labels" in text
    assert "fed:random accuracy" in text


def test_arguments_name_an_unknown_policy(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cs.parse_args(["--policies", "typical", "tipical"])
    assert "unknown allocation policy 'tipical'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cs.parse_args(["--rounds", "0"])


def test_report_of_a_stored_file_names_a_bad_one(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"settings": [{"arms": {}}]}')
    with pytest.raises(SystemExit, match="bad.json: not a cold-start result"):
        cs.main(["--report", str(bad)])
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(SystemExit, match="junk.json: not a cold-start result"):
        cs.main(["--report", str(tmp_path / "junk.json")])


def test_merge_pools_disjoint_seeds_of_the_policies_all_ran(setting: dict) -> None:
    import copy

    from fedsift.simulations.errors import SimulationError

    other = copy.deepcopy(setting)
    other["seeds"] = [3, 4]
    other["policies"] = ["typical"]
    for name in ("fed:auto@proportional", "fedsel:auto@proportional"):
        del other["arms"][name]
    merged = cs.merge_results([{"settings": [setting]}, {"settings": [other]}])
    (st,) = merged["settings"]
    assert st["seeds"] == [1, 2, 3, 4] and st["policies"] == ["typical"]
    assert set(st["arms"]) == {"fed:random", "fedsel:random", "fed:auto@typical", "fedsel:auto@typical"}
    assert all(len(a["curves"]) == 4 for a in st["arms"].values())
    for mine, alone in zip(st["paired"]["typical"]["fed"], setting["paired"]["typical"]["fed"]):
        assert mine["diff"] == pytest.approx(alone["diff"])  # the same runs twice: the same mean
    with pytest.raises(SimulationError, match="seed 1 is in two results"):
        cs.merge_results([{"settings": [setting]}, {"settings": [setting]}])


def test_a_uniform_cold_start_draws_the_random_baselines_batch(setting: dict) -> None:
    # Same seed, same proportional draw: the first round of @proportional is fed:random's, so the
    # other policies' first-round differences are the policy's, not a second draw's.
    first = setting["paired"]["proportional"]["fed"][0]
    assert first["labels"] == 10 and first["diff"] == 0.0 and first["se"] == 0.0
