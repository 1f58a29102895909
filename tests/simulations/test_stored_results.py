"""The stored benchmark results still read and pool with the current benchmark code."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedsift.simulations.benchmarks import label_efficiency as le

RESULTS = Path(__file__).resolve().parents[2] / "simulations" / "benchmarks" / "results"
FILES = sorted(RESULTS.glob("*.json"))


def test_there_are_stored_results() -> None:
    assert FILES, f"no stored results under {RESULTS}"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_stored_result_merges_and_reports(path: Path) -> None:
    merged = le.merge_files([path])
    assert merged["settings"], path
    for setting in merged["settings"]:
        assert setting["seeds"], f"{path.name}: {setting['dataset']} has no seeds"
        assert {"fed:random", "fed:auto"} <= set(setting["arms"])
        assert setting["auto_paired"], f"{path.name}: {setting['dataset']} has no paired comparison"
    assert "fed:auto against" in le.report(merged)
