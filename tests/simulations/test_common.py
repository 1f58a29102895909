"""What the benchmark scripts' command lines share: list options that a repeat adds to."""

from __future__ import annotations

import argparse
from pathlib import Path

from fedsift.simulations.benchmarks import cold_start, label_efficiency, selection_gap
from fedsift.simulations.benchmarks.common import Repeatable


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, nargs="+", action=Repeatable, default=[100, 101])
    p.add_argument("--files", nargs="+", action=Repeatable, default=None)
    p.add_argument("--peer", nargs="*", action=Repeatable, default=None)
    return p


def test_a_repeat_adds_to_the_list_and_the_first_use_replaces_the_default() -> None:
    p = _parser()
    assert vars(p.parse_args([])) == {"seeds": [100, 101], "files": None, "peer": None}
    args = p.parse_args(["--seeds", "7", "--files", "a", "--seeds", "8", "9", "--files", "b", "c"])
    assert args.seeds == [7, 8, 9] and args.files == ["a", "b", "c"]
    # an option without values (nargs="*") still means "none", and adds nothing when repeated
    assert p.parse_args(["--peer"]).peer == [] and p.parse_args(["--peer", "x", "--peer"]).peer == ["x"]
    # the parser's default list is never changed in place
    assert p.parse_args([]).seeds == [100, 101]


def test_the_scripts_take_repeated_file_and_seed_options() -> None:
    le = label_efficiency.parse_args(["--merge", "a.json", "--merge", "b.json", "c.json"])
    assert le.merge == [Path("a.json"), Path("b.json"), Path("c.json")]
    le = label_efficiency.parse_args(["--quick", "--seeds", "1", "--seeds", "2", "--peer"])
    assert le.seeds == [1, 2] and le.peer == []
    sg = selection_gap.parse_args(["--report", "a.json", "--report", "b.json"])
    assert sg.report == [Path("a.json"), Path("b.json")] and sg.seeds == [100, 101, 102, 103, 104]
    assert selection_gap.parse_args(["--seeds", "7"]).seeds == [7]
    cs = cold_start.parse_args(["--seeds", "7", "--seeds", "8", "--report", "a.json", "--report", "b.json"])
    assert cs.seeds == [7, 8] and cs.report == [Path("a.json"), Path("b.json")]
