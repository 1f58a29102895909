"""The auto study: variants beside auto's arms, paired differences and the report, on a tiny setting."""

from __future__ import annotations

import numpy as np
import pytest

from fedsift.simulations.benchmarks import auto_study as st


@pytest.fixture(scope="module")
def setting() -> dict:
    return st.run_setting("digits", clients=3, alpha=0.5, seeds=[1, 2], variants=["round-robin", "auto-test"],
                          schedule=(10, 5))


def test_every_variant_runs_beside_the_arms(setting: dict) -> None:
    assert setting["variants"] == ["hybrid", "badge", "round-robin", "auto-test"]
    assert setting["seeds"] == [1, 2]
    for name in setting["variants"]:
        runs = setting["runs"][name]
        assert len(runs["curves"]) == 2 and len(runs["curves"][0]) == 6  # round 0 and five rounds
        assert all(len(p) == 4 for p in runs["plays"])  # the rounds after the one cold-start round


def test_round_robin_alternates_and_fixed_arms_do_not(setting: dict) -> None:
    assert setting["runs"]["round-robin"]["plays"][0] == ["hybrid", "badge", "hybrid", "badge"]
    cmp = setting["compare"]
    assert cmp["round-robin"]["switches_per_run"] == 3.0
    assert cmp["round-robin"]["share"] == {"badge": 0.5, "hybrid": 0.5}
    assert cmp["hybrid"]["share"] == {"hybrid": 1.0} and cmp["hybrid"]["switches_per_run"] == 0.0
    assert set(cmp["auto-test"]["share"]) <= {"hybrid", "badge"}


def test_differences_are_to_the_better_arm_at_each_count(setting: dict) -> None:
    def acc(name: str, i: int) -> np.ndarray:
        return 100 * np.array([c[i]["accuracy"] for c in setting["runs"][name]["curves"]])

    rows = setting["compare"]["auto-test"]["vs_best_arm"]
    assert len(rows) == 5
    for i, row in enumerate(rows, start=1):
        best = "hybrid" if acc("hybrid", i).mean() >= acc("badge", i).mean() else "badge"
        d = acc("auto-test", i) - acc(best, i)
        assert row["arm"] == best
        assert row["diff"] == pytest.approx(d.mean()) and row["se"] == pytest.approx(d.std(ddof=1) / np.sqrt(2))
    assert setting["compare"]["auto-test"]["worst"]["diff"] == min(r["diff"] for r in rows)
    assert "vs_best_arm" not in setting["compare"]["hybrid"]


def test_report_and_stored_result(setting: dict, tmp_path) -> None:
    from fedsift.simulations.benchmarks.label_efficiency import write_json

    text = st.report({"settings": [setting], "wall_seconds": 2.0}, every=1)
    assert "| round-robin |" in text and "| auto-test |" in text and "badge 0.50, hybrid 0.50; 3.0" in text
    path = tmp_path / "study.json"
    write_json({"settings": [setting]}, path)
    again = st.read_result(path)["settings"][0]["compare"]
    assert again["auto-test"]["worst"] == pytest.approx(setting["compare"]["auto-test"]["worst"])


def test_bad_arguments_and_files_are_named(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        st.parse_args(["--variants", "auto", "oracle"])
    assert "unknown variant 'oracle'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        st.parse_args(["--every", "0"])
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(SystemExit, match="junk.json: not an auto-study result"):
        st.main(["--report", str(tmp_path / "junk.json")])
    (tmp_path / "empty.json").write_text('{"settings": [{"runs": {}}]}')
    with pytest.raises(SystemExit, match="empty.json: not an auto-study result"):
        st.main(["--report", str(tmp_path / "empty.json")])
