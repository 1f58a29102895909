"""The stored benchmark results still read and pool with the current benchmark code."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedsift.simulations.benchmarks import cold_start as cs
from fedsift.simulations.benchmarks import label_efficiency as le

RESULTS = Path(__file__).resolve().parents[2] / "simulations" / "benchmarks" / "results"
FILES = sorted(RESULTS.glob("le_*.json"))
COLD_START = sorted(RESULTS.glob("cold_start_*.json"))


def test_there_are_stored_results() -> None:
    assert FILES and COLD_START, f"no stored results under {RESULTS}"
    assert {p.name for p in RESULTS.glob("*.json")} == {p.name for p in FILES + COLD_START}, "a file no test reads"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_stored_result_merges_and_reports(path: Path) -> None:
    merged = le.merge_files([path])
    assert merged["settings"], path
    for setting in merged["settings"]:
        assert setting["seeds"], f"{path.name}: {setting['dataset']} has no seeds"
        assert "fed:random" in setting["arms"] and len(setting["arms"]) > 1
        if "fed:auto" in setting["arms"]:  # one file holds only fixed arms, run beside an auto-only file
            assert setting["auto_paired"], f"{path.name}: {setting['dataset']} has no paired comparison"
    text = le.report(merged)
    assert "share of random's labels" in text
    assert ("fed:auto against" in text) == any("fed:auto" in st["arms"] for st in merged["settings"])


@pytest.mark.parametrize("path", COLD_START, ids=[p.name for p in COLD_START])
def test_each_stored_cold_start_result_reports_what_it_holds(path: Path) -> None:
    result = cs.read_result(path)
    for setting in result["settings"]:
        assert {"fed:random", "fedsel:random"} <= set(setting["arms"])
        assert set(setting["paired"]) == set(setting["policies"]) and setting["policies"]
    text = cs.report(result)
    assert all(f"| {p} |" in text for p in result["settings"][0]["policies"])
