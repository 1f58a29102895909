"""The stored benchmark results still read and pool with the current benchmark code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fedsift.simulations.benchmarks import auto_study
from fedsift.simulations.benchmarks import cold_start as cs
from fedsift.simulations.benchmarks import fed_training as ft
from fedsift.simulations.benchmarks import label_efficiency as le
from fedsift.simulations.benchmarks import selection_gap as sg

RESULTS = Path(__file__).resolve().parents[2] / "simulations" / "benchmarks" / "results"
FILES = sorted(RESULTS.glob("le_*.json"))
COLD_START = sorted(RESULTS.glob("cold_start_*.json"))
AUTO_STUDY = sorted(RESULTS.glob("auto_study_*.json"))
SELECTION_GAP = sorted(RESULTS.glob("selection_gap_*.json"))
FED_TRAINING = sorted(RESULTS.glob("fed_training_*.json"))


def test_there_are_stored_results() -> None:
    assert FILES and COLD_START and AUTO_STUDY and SELECTION_GAP and FED_TRAINING, f"no stored results under {RESULTS}"
    read = {p.name for p in FILES + COLD_START + AUTO_STUDY + SELECTION_GAP + FED_TRAINING}
    assert {p.name for p in RESULTS.glob("*.json")} == read, "a file no test reads"


#: A stored result's name as the docs cite it (``runs/bench/...`` names runs that were not stored).
CITED = re.compile(r"([\w./-]*?)\b((?:le|cold_start|selection_gap|fed_training|auto_study)_[\w.-]*\.json)")


@pytest.mark.parametrize("doc", ["simulations/benchmarks/FINDINGS.md", "README.md",
                                 "simulations/benchmarks/results/README.md"])
def test_every_result_file_a_doc_cites_is_stored(doc: str) -> None:
    text = (RESULTS.parents[2] / doc).read_text(encoding="utf-8")
    cited = {name for prefix, name in CITED.findall(text) if "runs/" not in prefix}
    assert cited, f"{doc} cites no stored result: the pattern no longer matches its file names"
    assert not cited - {p.name for p in RESULTS.glob("*.json")}, f"{doc} cites files that are not stored"


def test_the_results_readme_describes_every_stored_file() -> None:
    text = (RESULTS / "README.md").read_text(encoding="utf-8")
    assert not [p.name for p in RESULTS.glob("*.json") if p.name not in text], "add a row to results/README.md"


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



@pytest.mark.parametrize("names, seeds", [
    (("le_mnist1d_c50_s150-154_rerun.json", "le_mnist1d_c50_s155-159.json", "le_mnist1d_c50_s160-169.json"), range(150, 170)),
    (("le_mnist1d_c50_s150-154_rerun.json", "le_mnist1d_c50_s155-159.json", "le_mnist1d_c50_s160-169.json",
      "le_mnist1d_c50_a05_s170-179.json", "le_mnist1d_c50_a01_s170-179.json"), range(150, 180)),
    (("le_mnist1d_c50_s150-159_ks8.json", "le_mnist1d_c50_s160-169_ks8.json", "le_mnist1d_c50_a05_s170-179_ks8.json",
      "le_mnist1d_c50_a01_s170-179_ks8.json"), range(150, 180)),
    (("le_mnist1d_c50_s150-159_ks8.json", "le_mnist1d_c50_s160-169_ks8.json", "le_mnist1d_c50_a05_s170-179_ks8.json",
      "le_mnist1d_c50_a01_s170-179_ks8.json", "le_mnist1d_c50_a05_s180-189_ks8.json",
      "le_mnist1d_c50_a01_s180-189_ks8.json"), range(150, 190)),
    (("le_text_c50_s150-154_v2.json", "le_text_c50_s155-159.json", "le_text_c50_s160-169.json"), range(150, 170)),
    (("le_text_c50_s150-154_v2.json", "le_text_c50_s155-159.json", "le_text_c50_s160-169.json",
      "le_text_c50_a05_s170-179.json", "le_text_c50_a01_s170-179.json"), range(150, 180)),
    (("le_text_c50_s150-159_ks8.json", "le_text_c50_s160-164_ks8.json", "le_text_c50_s165-169_ks8.json",
      "le_text_c50_a05_s170-179_ks8.json", "le_text_c50_a01_s170-179_ks8.json"), range(150, 180)),
    (("le_text_c50_s150-159_ks8.json", "le_text_c50_s160-164_ks8.json", "le_text_c50_s165-169_ks8.json",
      "le_text_c50_a05_s170-179_ks8.json", "le_text_c50_a01_s170-179_ks8.json", "le_text_c50_a05_s180-189_ks8.json",
      "le_text_c50_a01_s180-189_ks8.json"), range(150, 190)),
    (("le_digits_c50_s150-154_rerun.json", "le_digits_c50_s155-159.json"), range(150, 160)),
    (("le_digits_c50_s150-154_ks8.json", "le_digits_c50_s155-159_ks8.json"), range(150, 160)),
    (("le_digits_c50_s150-154_rerun.json", "le_digits_c50_s155-159.json", "le_digits_c50_s160-169.json"),
     range(150, 170)),
    (("le_digits_c50_s150-154_ks8.json", "le_digits_c50_s155-159_ks8.json", "le_digits_c50_s160-169_ks8.json"),
     range(150, 170)),
    (("le_text_c50_s150-159_ks8.json", "le_text_c50_s160-164_ks8.json"), range(150, 165)),
    (("le_mnist1d_c25_s150-159.json", "le_mnist1d_c25_a01_s160-169.json", "le_mnist1d_c25_a05_s160-169.json"),
     range(150, 170)),
    (("le_mnist1d_c25_s150-159_ks8.json", "le_mnist1d_c25_a01_s160-169_ks8.json",
      "le_mnist1d_c25_a05_s160-169_ks8.json"), range(150, 170)),
    (("le_mnist1d_c25_s150-159.json", "le_mnist1d_c25_a01_s160-169.json", "le_mnist1d_c25_a05_s160-169.json",
      "le_mnist1d_c25_a05_s170-179.json", "le_mnist1d_c25_a01_s170-179.json"), range(150, 180)),
    (("le_mnist1d_c25_s150-159_ks8.json", "le_mnist1d_c25_a01_s160-169_ks8.json",
      "le_mnist1d_c25_a05_s160-169_ks8.json", "le_mnist1d_c25_a05_s170-179_ks8.json",
      "le_mnist1d_c25_a01_s170-179_ks8.json"), range(150, 180)),
    (("le_text_c50_s150-159_ks8.json", "le_text_c50_s160-164_ks8.json", "le_text_c50_s165-169_ks8.json"),
     range(150, 170)),
    (("le_text_c25_s150-159.json", "le_text_c25_s160-169.json"), range(150, 170)),
    (("le_text_c25_s150-159_ks8.json", "le_text_c25_s160-169_ks8.json"), range(150, 170)),
    (("le_text_c25_s150-159.json", "le_text_c25_s160-169.json", "le_text_c25_a05_s170-179.json",
      "le_text_c25_a01_s170-179.json"), range(150, 180)),
    (("le_text_c25_s150-159_ks8.json", "le_text_c25_s160-169_ks8.json", "le_text_c25_a05_s170-179_ks8.json",
      "le_text_c25_a01_s170-179_ks8.json"), range(150, 180)),
    (("le_digits_c25_s150-159.json", "le_digits_c25_s160-169.json"), range(150, 170)),
    (("le_digits_c25_s150-159_ks8.json", "le_digits_c25_s160-169_ks8.json"), range(150, 170)),
    (("le_mnist1d_c35_s150-159.json", "le_mnist1d_c35_s160-169.json"), range(150, 170)),
    (("le_mnist1d_c35_s150-159_ks8.json", "le_mnist1d_c35_s160-169_ks8.json"), range(150, 170)),
    (("le_mnist1d_c35_s150-159.json", "le_mnist1d_c35_s160-169.json", "le_mnist1d_c35_a05_s170-179.json",
      "le_mnist1d_c35_a01_s170-179.json"), range(150, 180)),
    (("le_mnist1d_c35_s150-159_ks8.json", "le_mnist1d_c35_s160-169_ks8.json", "le_mnist1d_c35_a05_s170-179_ks8.json",
      "le_mnist1d_c35_a01_s170-179_ks8.json"), range(150, 180)),
    (("le_text_c35_s150-159.json", "le_text_c35_s160-169.json", "le_text_c35_a05_s170-179.json",
      "le_text_c35_a01_s170-179.json"), range(150, 180)),
    (("le_text_c35_s150-159_ks8.json", "le_text_c35_s160-169_ks8.json", "le_text_c35_a05_s170-179_ks8.json",
      "le_text_c35_a01_s170-179_ks8.json"), range(150, 180)),
    (("le_text_c30_s150-159.json", "le_text_c30_a05_s160-169.json", "le_text_c30_a01_s160-169.json",
      "le_text_c30_a05_s170-179.json", "le_text_c30_a01_s170-179.json"), range(150, 180)),
    (("le_text_c30_s150-159_ks8.json", "le_text_c30_a05_s160-169_ks8.json", "le_text_c30_a01_s160-169_ks8.json",
      "le_text_c30_a05_s170-179_ks8.json", "le_text_c30_a01_s170-179_ks8.json"), range(150, 180)),
    (("le_mnist1d_c30_s150-159.json", "le_mnist1d_c30_a05_s160-169.json", "le_mnist1d_c30_a01_s160-169.json"),
     range(150, 170)),
    (("le_mnist1d_c30_s150-159.json", "le_mnist1d_c30_a05_s160-169.json", "le_mnist1d_c30_a01_s160-169.json",
      "le_mnist1d_c30_a05_s170-179.json", "le_mnist1d_c30_a01_s170-179.json"), range(150, 180)),
    (("le_mnist1d_c10_s140-149_ks8.json", "le_mnist1d_c10_s140-149_ks8_fixed.json", "le_mnist1d_c10_s150-159_ks8.json",
      "le_mnist1d_c10_s160-169_ks8.json"), range(140, 170)),
    (("le_mnist1d_c30_s150-159_ks8.json", "le_mnist1d_c30_a05_s160-169_ks8.json",
      "le_mnist1d_c30_a01_s160-169_ks8.json"), range(150, 170)),
    (("le_mnist1d_c30_s150-159_ks8.json", "le_mnist1d_c30_a05_s160-169_ks8.json",
      "le_mnist1d_c30_a01_s160-169_ks8.json", "le_mnist1d_c30_a05_s170-179_ks8.json",
      "le_mnist1d_c30_a01_s170-179_ks8.json"), range(150, 180)),
    (("le_text_c10_s140-149_v2.json", "le_text_c10_s150-159.json", "le_text_c10_s160-169.json"), range(140, 170)),
    (("le_text_c10_s140-149_ks8.json", "le_text_c10_s140-149_ks8_fixed.json", "le_text_c10_s150-159_ks8.json",
      "le_text_c10_s160-169_ks8.json"), range(140, 170)),
    (("le_digits_c10_s140-149_rerun.json", "le_digits_c10_s150-159.json", "le_digits_c10_a05_s160-169.json",
      "le_digits_c10_a01_s160-169.json"), range(140, 170)),
    (("le_digits_c10_a05_s140-149_ks8.json", "le_digits_c10_a05_s150-159_ks8.json",
      "le_digits_c10_a05_s160-169_ks8.json", "le_digits_c10_a01_s140-149_ks8.json",
      "le_digits_c10_a01_s150-159_ks8.json", "le_digits_c10_a01_s160-169_ks8.json"), range(140, 170)),
    (("le_digits_c30_s150-159.json", "le_digits_c30_s160-169.json"), range(150, 170)),
    (("le_digits_c30_s150-159_ks8.json", "le_digits_c30_s160-169_ks8.json"), range(150, 170)),
    (("le_digits_c35_s150-159.json", "le_digits_c35_s160-169.json"), range(150, 170)),
    (("le_digits_c35_s150-159_ks8.json", "le_digits_c35_s160-169_ks8.json"), range(150, 170)),
])
def test_the_seed_sets_the_docs_pool_merge_into_one_report(names: tuple[str, ...], seeds: range) -> None:
    """FINDINGS and the README read these files pooled: disjoint seeds, one setting, both alphas.

    ``seeds`` is the pooled seed set, the same at both alphas.
    """
    merged = le.merge_files([RESULTS / name for name in names])
    assert sorted(st["alpha"] for st in merged["settings"]) == [0.1, 0.5]
    for setting in merged["settings"]:
        assert sorted(setting["seeds"]) == list(seeds), setting["alpha"]
        assert setting["auto_paired"] and setting["overrides"] == _overrides_named_in(names[0])


def test_from_30_devices_the_default_runs_what_the_stored_ks8_runs_ran() -> None:
    """The ``_bysize`` file ran the default (``kcenter_shortlist`` 0) at 50 clients after it began to follow the
    device count: every arm is the ``kcenter_shortlist=8`` run's on the same seed, so the ``_ks8`` files from 30
    clients up stand for today's default (and the override-free ones there for today's ``kcenter_shortlist=4``).
    """
    import json

    (new,) = json.loads((RESULTS / "le_mnist1d_c50_a01_s180-180_bysize.json").read_text(encoding="utf-8"))["settings"]
    (wide,) = json.loads((RESULTS / "le_mnist1d_c50_a01_s180-189_ks8.json").read_text(encoding="utf-8"))["settings"]
    assert new["overrides"] == {} and wide["overrides"] == {"kcenter_shortlist": 8}
    assert (new["clients"], new["alpha"], new["seeds"]) == (wide["clients"], wide["alpha"], [180])
    assert {"fed:auto", "fedsel:auto", "fed:random"} <= set(new["arms"])
    at = wide["seeds"].index(180)
    for arm, got in new["arms"].items():
        assert got["curves"] == [wide["arms"][arm]["curves"][at]], arm


@pytest.mark.parametrize("narrow, wide", [
    ("le_text_c50_a01_s180-189_ks4.json", "le_text_c50_a01_s180-189_ks8.json"),
    ("le_mnist1d_c50_a05_s180-189_ks4.json", "le_mnist1d_c50_a05_s180-189_ks8.json"),
    ("le_mnist1d_c50_a01_s180-189_ks4.json", "le_mnist1d_c50_a01_s180-189_ks8.json"),
])
def test_the_held_out_seeds_compare_both_widths_on_the_same_random_runs(narrow: str, wide: str) -> None:
    """On the held-out seeds FINDINGS reads 8 (the default there) against a fixed 4: same seeds, same random runs."""
    import json

    (n,) = json.loads((RESULTS / narrow).read_text(encoding="utf-8"))["settings"]
    (w,) = json.loads((RESULTS / wide).read_text(encoding="utf-8"))["settings"]
    assert n["overrides"] == _overrides_named_in(narrow) == {"kcenter_shortlist": 4}
    assert w["overrides"] == _overrides_named_in(wide) == {"kcenter_shortlist": 8}
    assert (n["dataset"], n["clients"], n["alpha"], n["seeds"]) == (w["dataset"], w["clients"], w["alpha"], w["seeds"])
    assert set(n["seeds"]) == _seeds_named_in(narrow)
    for arm in ("fed:random", "fedsel:random", "central:random"):
        assert n["arms"][arm]["curves"] == w["arms"][arm]["curves"], arm
    for arm in ("fed:auto", "fed:hybrid", "fed:badge", "fed:margin"):
        assert n["arms"][arm]["curves"] != w["arms"][arm]["curves"], arm


def test_the_auto2_file_is_its_parent_merged_with_the_auto_rerun() -> None:
    """``le_c10_s140-149_auto2.json`` = ``le_c10_s140-149.json`` + the ``--strategies auto`` rerun, ``--replace-arms``.

    The rerun is not stored on its own; it is the auto2 file less the arms carried over.
    """
    import json

    stored = json.loads((RESULTS / "le_c10_s140-149_auto2.json").read_text(encoding="utf-8"))
    rerun = json.loads(json.dumps(stored))
    for setting in rerun["settings"]:
        del setting["replaced_arms"]
        for name in [n for n in setting["arms"] if n.split(":", 1)[1] in ("hybrid", "badge", "margin")]:
            del setting["arms"][name]
    parent = json.loads((RESULTS / "le_c10_s140-149.json").read_text(encoding="utf-8"))
    merged = le.merge_results([parent, rerun], replace=True)
    assert len(merged["settings"]) == len(stored["settings"]) == 4
    for mine, theirs in zip(merged["settings"], stored["settings"]):
        assert mine["replaced_arms"] == theirs["replaced_arms"] == ["fed:auto", "fedsel:auto", "fedsel:random"]
        assert mine["arms"] == theirs["arms"], mine["dataset"]


#: Files rerun on 2026-12-04 because their parents' ``fedsel`` arms were stored before ``2836ab4`` (the
#: label order, which the ``fedsel`` retraining follows, came from string hashing): the rerun must
#: reproduce every ``fed:`` and ``central:`` arm of the parent, and only the ``fedsel`` arms may differ.
RERUNS = {
    "le_mnist1d_c10_s140-149_rerun.json": "le_c10_s140-149_auto2.json",
    "le_mnist1d_c50_s150-154_rerun.json": "le_c50_s150-154_all.json",
    "le_digits_c10_s140-149_rerun.json": "le_digits_c10_s140-149_auto2.json",
    "le_digits_c50_s150-154_rerun.json": "le_c50_s150-154_all.json",
}


@pytest.mark.parametrize("rerun, parent", sorted(RERUNS.items()))
def test_a_rerun_redraws_only_the_fedsel_arms_of_its_parent(rerun: str, parent: str) -> None:
    import json

    def settings(name: str) -> dict[tuple[str, int, float], dict]:
        data = json.loads((RESULTS / name).read_text(encoding="utf-8"))
        return {(s["dataset"], s["clients"], s["alpha"]): s for s in data["settings"]}

    new, old = settings(rerun), settings(parent)
    assert new and set(new) <= set(old), rerun
    for key, setting in new.items():
        assert setting["seeds"] == old[key]["seeds"], key
        assert set(setting["arms"]) == set(old[key]["arms"]), key
        for name, arm in setting["arms"].items():
            if not name.startswith("fedsel:"):
                assert arm["curves"] == old[key]["arms"][name]["curves"], f"{rerun} {key} {name}"


#: ``selection_gap`` rerun on 2026-12-04 with the control arms added (``fed-labels``, ``central-reseed``):
#: every arm the parent holds must come back bit for bit.
CONTROLS = {f"selection_gap_mnist1d_c50_{a}_s150-159{v}_ctl.json": f"selection_gap_mnist1d_c50_{a}_s150-159{v}.json"
            for a in ("a05", "a01") for v in ("", "_ks16")}


@pytest.mark.parametrize("rerun, parent", sorted(CONTROLS.items()))
def test_the_selection_gap_rerun_with_controls_reproduces_its_parent(rerun: str, parent: str) -> None:
    import json

    new, old = (json.loads((RESULTS / name).read_text(encoding="utf-8")) for name in (rerun, parent))
    assert set(new["arms"]) == set(old["arms"]) | sg.CONTROL_ARMS == set(sg.ARMS)
    assert (new["seeds"], new["overrides"], new["alpha"]) == (old["seeds"], old["overrides"], old["alpha"])
    for name, arm in old["arms"].items():
        assert new["arms"][name]["curves"] == arm["curves"], f"{rerun}: {name}"
    # both controls are replays from the same cold start as central, and then differ from it
    for name in sg.CONTROL_ARMS:
        curves, central = ([[(p["labels"], p["accuracy"]) for p in c] for c in new["arms"][arm]["curves"]]
                           for arm in (name, "central"))
        assert [c[:2] for c in curves] == [c[:2] for c in central] and curves != central, name


#: ``selection_gap --inits 3`` rerun on 2026-12-05 (``central`` and ``fedsel`` from two more
#: initializations): every arm of the control-arm file must come back bit for bit.
INITS = {f"selection_gap_mnist1d_c50_{a}_s150-159{v}_inits3.json": f"selection_gap_mnist1d_c50_{a}_s150-159{v}_ctl.json"
         for a in ("a05", "a01") for v in ("", "_ks16")}


@pytest.mark.parametrize("rerun, parent", sorted(INITS.items()))
def test_the_selection_gap_rerun_with_more_initializations_reproduces_its_parent(rerun: str, parent: str) -> None:
    import json

    new, old = (json.loads((RESULTS / name).read_text(encoding="utf-8")) for name in (rerun, parent))
    assert new["inits"] == [0, 1000, 2000]
    assert set(new["arms"]) == set(old["arms"]) | set(sg.init_arms(new["inits"]))
    assert (new["seeds"], new["overrides"], new["alpha"]) == (old["seeds"], old["overrides"], old["alpha"])
    for name, arm in old["arms"].items():
        assert new["arms"][name]["curves"] == arm["curves"], f"{rerun}: {name}"


def _overrides_named_in(name: str) -> dict[str, int]:
    """The campaign overrides a stored file's name announces (none = defaults).

    ``_ks8`` = ``kcenter_shortlist`` 8, ``_cs4`` = ``cold_start_shortlist`` 4.
    """
    named = {}
    for tag, key in (("ks", "kcenter_shortlist"), ("cs", "cold_start_shortlist")):
        match = re.search(rf"_{tag}(\d+)(?=[_.])", name)
        if match:
            named[key] = int(match.group(1))
    return named


def _seeds_named_in(name: str) -> set[int]:
    """The seeds a stored file's name announces (``_s160-164`` = 160 to 164)."""
    match = re.search(r"_s(\d+)-(\d+)", name)
    assert match, f"{name} names no seed range"
    return set(range(int(match.group(1)), int(match.group(2)) + 1))


@pytest.mark.parametrize("le_file, gap_prefix, gap_suffix", [
    ("le_mnist1d_c50_s160-169.json", "selection_gap_mnist1d_c50", "s160-169_inits3.json"),
    ("le_mnist1d_c10_s140-149_rerun.json", "selection_gap_mnist1d_c10", "s140-149_inits3.json"),
    ("le_mnist1d_c10_s150-159.json", "selection_gap_mnist1d_c10", "s150-159_inits3.json"),
    ("le_mnist1d_c10_s160-169.json", "selection_gap_mnist1d_c10", "s160-169_inits3.json"),
    ("le_mnist1d_c50_s150-159_ks8.json", "selection_gap_mnist1d_c50", "s150-159_ks8_inits3.json"),
    ("le_mnist1d_c50_s160-169_ks8.json", "selection_gap_mnist1d_c50", "s160-169_ks8_inits3.json"),
    (("le_mnist1d_c50_a05_s170-179.json", "le_mnist1d_c50_a01_s170-179.json"),
     "selection_gap_mnist1d_c50", "s170-179_inits3.json"),
    (("le_mnist1d_c50_a05_s170-179_ks8.json", "le_mnist1d_c50_a01_s170-179_ks8.json"),
     "selection_gap_mnist1d_c50", "s170-179_ks8_inits3.json"),
    (("le_mnist1d_c50_a05_s180-189_ks8.json", "le_mnist1d_c50_a01_s180-189_ks8.json"),
     "selection_gap_mnist1d_c50", "s180-189_ks8_inits3.json"),
    ("le_mnist1d_c25_s150-159.json", "selection_gap_mnist1d_c25", "s150-159_inits3.json"),
    ("le_mnist1d_c25_s150-159_ks8.json", "selection_gap_mnist1d_c25", "s150-159_ks8_inits3.json"),
    (("le_mnist1d_c25_a05_s160-169.json", "le_mnist1d_c25_a01_s160-169.json"),
     "selection_gap_mnist1d_c25", "s160-169_inits3.json"),
    (("le_mnist1d_c25_a05_s160-169_ks8.json", "le_mnist1d_c25_a01_s160-169_ks8.json"),
     "selection_gap_mnist1d_c25", "s160-169_ks8_inits3.json"),
    (("le_mnist1d_c25_a05_s170-179.json", "le_mnist1d_c25_a01_s170-179.json"),
     "selection_gap_mnist1d_c25", "s170-179_inits3.json"),
    (("le_mnist1d_c25_a05_s170-179_ks8.json", "le_mnist1d_c25_a01_s170-179_ks8.json"),
     "selection_gap_mnist1d_c25", "s170-179_ks8_inits3.json"),
    ("le_mnist1d_c30_s150-159.json", "selection_gap_mnist1d_c30", "s150-159_inits3.json"),
    ("le_mnist1d_c30_s150-159_ks8.json", "selection_gap_mnist1d_c30", "s150-159_ks8_inits3.json"),
    ("le_mnist1d_c35_s150-159.json", "selection_gap_mnist1d_c35", "s150-159_inits3.json"),
    ("le_mnist1d_c35_s150-159_ks8.json", "selection_gap_mnist1d_c35", "s150-159_ks8_inits3.json"),
    ("le_mnist1d_c35_s160-169.json", "selection_gap_mnist1d_c35", "s160-169_inits3.json"),
    ("le_mnist1d_c35_s160-169_ks8.json", "selection_gap_mnist1d_c35", "s160-169_ks8_inits3.json"),
    (("le_mnist1d_c35_a05_s170-179.json", "le_mnist1d_c35_a01_s170-179.json"),
     "selection_gap_mnist1d_c35", "s170-179_inits3.json"),
    (("le_mnist1d_c35_a05_s170-179_ks8.json", "le_mnist1d_c35_a01_s170-179_ks8.json"),
     "selection_gap_mnist1d_c35", "s170-179_ks8_inits3.json"),
    ("le_mnist1d_c10_s140-149_ks8_fixed.json", "selection_gap_mnist1d_c10", "s140-149_ks8_inits3.json"),
    ("le_mnist1d_c10_s150-159_ks8.json", "selection_gap_mnist1d_c10", "s150-159_ks8_inits3.json"),
    ("le_mnist1d_c10_s160-169_ks8.json", "selection_gap_mnist1d_c10", "s160-169_ks8_inits3.json"),
    (("le_mnist1d_c30_a05_s160-169.json", "le_mnist1d_c30_a01_s160-169.json"),
     "selection_gap_mnist1d_c30", "s160-169_inits3.json"),
    (("le_mnist1d_c30_a05_s160-169_ks8.json", "le_mnist1d_c30_a01_s160-169_ks8.json"),
     "selection_gap_mnist1d_c30", "s160-169_ks8_inits3.json"),
    (("le_mnist1d_c30_a05_s170-179.json", "le_mnist1d_c30_a01_s170-179.json"),
     "selection_gap_mnist1d_c30", "s170-179_inits3.json"),
    (("le_mnist1d_c30_a05_s170-179_ks8.json", "le_mnist1d_c30_a01_s170-179_ks8.json"),
     "selection_gap_mnist1d_c30", "s170-179_ks8_inits3.json"),
])
@pytest.mark.parametrize("alpha, tag", [(0.5, "a05"), (0.1, "a01")])
def test_the_two_benchmarks_agree_on_the_same_seeds(le_file: str | tuple[str, ...], gap_prefix: str,
                                                    gap_suffix: str, alpha: float, tag: str) -> None:
    """``label_efficiency``'s hybrid arms and ``selection_gap``'s, run apart on the same seeds, are the same runs.

    ``le_file`` may be one file per alpha (a tuple): exactly one setting of the alpha must be among them.
    """
    import json

    le_files = (le_file,) if isinstance(le_file, str) else le_file
    (setting,) = [s for name in le_files
                  for s in json.loads((RESULTS / name).read_text(encoding="utf-8"))["settings"]
                  if s["alpha"] == alpha]
    gap = json.loads((RESULTS / f"{gap_prefix}_{tag}_{gap_suffix}").read_text(encoding="utf-8"))
    assert (setting["dataset"], setting["clients"], gap["alpha"]) == (gap["dataset"], gap["clients"], alpha)
    assert setting["seeds"] == gap["seeds"] and setting.get("overrides", {}) == gap["overrides"]
    assert all(gap["overrides"] == _overrides_named_in(name) == _overrides_named_in(gap_suffix)
               for name in le_files)
    for mine, theirs in (("fed:hybrid", "fed"), ("fedsel:hybrid", "fedsel"), ("central:hybrid", "central")):
        assert setting["arms"][mine]["curves"] == gap["arms"][theirs]["curves"], mine


@pytest.mark.parametrize("default_files, wide_file, shortlist", [
    (("le_digits_c10_s150-159.json",), "le_digits_c10_a05_s150-159_ks16.json", 16),
    (("le_digits_c10_s140-149_rerun.json",), "le_digits_c10_a05_s140-149_ks8.json", 8),
    (("le_digits_c10_s150-159.json",), "le_digits_c10_a05_s150-159_ks8.json", 8),
    (("le_digits_c10_a05_s160-169.json",), "le_digits_c10_a05_s160-169_ks8.json", 8),
    (("le_mnist1d_c10_s140-149_rerun.json",), "le_mnist1d_c10_s140-149_ks16.json", 16),
    (("le_mnist1d_c10_s140-149_rerun.json",), "le_mnist1d_c10_s140-149_ks8.json", 8),
    (("le_text_c10_s140-149_v2.json",), "le_text_c10_s140-149_ks8.json", 8),
    (("le_mnist1d_c50_s150-154_rerun.json", "le_mnist1d_c50_s155-159.json"), "le_mnist1d_c50_s150-159_ks8.json", 8),
    (("le_mnist1d_c50_s160-169.json",), "le_mnist1d_c50_s160-169_ks8.json", 8),
    (("le_text_c50_s150-154_v2.json", "le_text_c50_s155-159.json"), "le_text_c50_s150-159_ks8.json", 8),
    (("le_digits_c50_s150-154_rerun.json",), "le_digits_c50_s150-154_ks8.json", 8),
    (("le_digits_c50_s155-159.json",), "le_digits_c50_s155-159_ks8.json", 8),
    (("le_digits_c25_s150-159.json",), "le_digits_c25_s150-159_ks8.json", 8),
    (("le_text_c50_s160-169.json",), "le_text_c50_s160-164_ks8.json", 8),
    (("le_digits_c25_s150-159.json",), "le_digits_c25_s150-159_ks8_cs4.json", 8),
    (("le_mnist1d_c25_s150-159.json",), "le_mnist1d_c25_s150-159_ks8.json", 8),
    (("le_text_c25_s150-159.json",), "le_text_c25_s150-159_ks8.json", 8),
    (("le_mnist1d_c25_a01_s160-169.json",), "le_mnist1d_c25_a01_s160-169_ks8.json", 8),
    (("le_mnist1d_c25_a05_s160-169.json",), "le_mnist1d_c25_a05_s160-169_ks8.json", 8),
    (("le_text_c50_s160-169.json",), "le_text_c50_s165-169_ks8.json", 8),
    (("le_text_c25_s160-169.json",), "le_text_c25_s160-169_ks8.json", 8),
    (("le_digits_c25_s160-169.json",), "le_digits_c25_s160-169_ks8.json", 8),
    (("le_mnist1d_c35_s150-159.json",), "le_mnist1d_c35_s150-159_ks8.json", 8),
    (("le_digits_c35_s150-159.json",), "le_digits_c35_s150-159_ks8.json", 8),
    (("le_text_c35_s150-159.json",), "le_text_c35_s150-159_ks8.json", 8),
    (("le_mnist1d_c35_s160-169.json",), "le_mnist1d_c35_s160-169_ks8.json", 8),
    (("le_text_c35_s160-169.json",), "le_text_c35_s160-169_ks8.json", 8),
    (("le_text_c30_s150-159.json",), "le_text_c30_s150-159_ks8.json", 8),
    (("le_digits_c30_s150-159.json",), "le_digits_c30_s150-159_ks8.json", 8),
    (("le_mnist1d_c30_s150-159.json",), "le_mnist1d_c30_s150-159_ks8.json", 8),
    (("le_text_c30_a05_s160-169.json",), "le_text_c30_a05_s160-169_ks8.json", 8),
    (("le_text_c30_a01_s160-169.json",), "le_text_c30_a01_s160-169_ks8.json", 8),
    (("le_mnist1d_c30_a01_s160-169.json",), "le_mnist1d_c30_a01_s160-169_ks8.json", 8),
    (("le_mnist1d_c30_a05_s160-169.json",), "le_mnist1d_c30_a05_s160-169_ks8.json", 8),
    (("le_mnist1d_c10_s150-159.json",), "le_mnist1d_c10_s150-159_ks8.json", 8),
    (("le_mnist1d_c10_s160-169.json",), "le_mnist1d_c10_s160-169_ks8.json", 8),
    (("le_mnist1d_c10_s140-149_rerun.json",), "le_mnist1d_c10_s140-149_ks8_fixed.json", 8),
    (("le_text_c10_s140-149_v2.json",), "le_text_c10_s140-149_ks8_fixed.json", 8),
    (("le_text_c10_s150-159.json",), "le_text_c10_s150-159_ks8.json", 8),
    (("le_text_c10_s160-169.json",), "le_text_c10_s160-169_ks8.json", 8),
    (("le_digits_c10_s140-149_rerun.json",), "le_digits_c10_a01_s140-149_ks8.json", 8),
    (("le_digits_c10_s150-159.json",), "le_digits_c10_a01_s150-159_ks8.json", 8),
    (("le_digits_c30_s160-169.json",), "le_digits_c30_s160-169_ks8.json", 8),
    (("le_digits_c35_s160-169.json",), "le_digits_c35_s160-169_ks8.json", 8),
    (("le_digits_c50_s160-169.json",), "le_digits_c50_s160-169_ks8.json", 8),
    (("le_digits_c10_a01_s160-169.json",), "le_digits_c10_a01_s160-169_ks8.json", 8),
    (("le_text_c35_a05_s170-179.json",), "le_text_c35_a05_s170-179_ks8.json", 8),
    (("le_text_c30_a05_s170-179.json",), "le_text_c30_a05_s170-179_ks8.json", 8),
    (("le_text_c35_a01_s170-179.json",), "le_text_c35_a01_s170-179_ks8.json", 8),
    (("le_text_c30_a01_s170-179.json",), "le_text_c30_a01_s170-179_ks8.json", 8),
    (("le_mnist1d_c25_a05_s170-179.json",), "le_mnist1d_c25_a05_s170-179_ks8.json", 8),
    (("le_mnist1d_c25_a01_s170-179.json",), "le_mnist1d_c25_a01_s170-179_ks8.json", 8),
    (("le_text_c25_a05_s170-179.json",), "le_text_c25_a05_s170-179_ks8.json", 8),
    (("le_text_c25_a01_s170-179.json",), "le_text_c25_a01_s170-179_ks8.json", 8),
    (("le_mnist1d_c35_a05_s170-179.json",), "le_mnist1d_c35_a05_s170-179_ks8.json", 8),
    (("le_mnist1d_c35_a01_s170-179.json",), "le_mnist1d_c35_a01_s170-179_ks8.json", 8),
    (("le_mnist1d_c30_a05_s170-179.json",), "le_mnist1d_c30_a05_s170-179_ks8.json", 8),
    (("le_mnist1d_c30_a01_s170-179.json",), "le_mnist1d_c30_a01_s170-179_ks8.json", 8),
    (("le_mnist1d_c50_a05_s170-179.json",), "le_mnist1d_c50_a05_s170-179_ks8.json", 8),
    (("le_mnist1d_c50_a01_s170-179.json",), "le_mnist1d_c50_a01_s170-179_ks8.json", 8),
    (("le_text_c50_a05_s170-179.json",), "le_text_c50_a05_s170-179_ks8.json", 8),
    (("le_text_c50_a01_s170-179.json",), "le_text_c50_a01_s170-179_ks8.json", 8),
])
def test_the_shortlist_runs_share_the_defaults_random_arms(default_files: tuple[str, ...], wide_file: str,
                                                          shortlist: int) -> None:
    """FINDINGS reads the wider-shortlist runs against the default on the same seeds: same random runs.

    The default runs may be split over several files (disjoint seeds), and may hold more seeds than the
    wider run; they are matched seed by seed. A ``_fixed`` file holds only the fixed arms (and random), to
    be joined with an earlier file of ``auto`` on the same seeds; its fixed arms must differ instead.
    """
    import json

    default = [s for name in default_files
               for s in json.loads((RESULTS / name).read_text(encoding="utf-8"))["settings"]]
    wider = json.loads((RESULTS / wide_file).read_text(encoding="utf-8"))["settings"]
    assert wider
    for wide in wider:
        bases = [s for s in default if (s["dataset"], s["clients"], s["alpha"])
                 == (wide["dataset"], wide["clients"], wide["alpha"])]
        # Files stored before ``--set`` existed carry no ``overrides``: they ran the defaults.
        assert wide["overrides"]["kcenter_shortlist"] == shortlist
        assert wide["overrides"] == _overrides_named_in(wide_file)
        assert all(base.get("overrides", {}) == {} for base in bases)
        assert sum(len(base["seeds"]) for base in bases) == len({seed for base in bases for seed in base["seeds"]})
        fixed_only = wide_file.endswith("_fixed.json")
        changed = ("fed:hybrid", "fed:badge", "fed:margin") if fixed_only else ("fed:auto",)
        assert set(changed) <= set(wide["arms"]) and ("fed:auto" in wide["arms"]) != fixed_only
        by_seed = {arm: {seed: curve for base in bases
                         for seed, curve in zip(base["seeds"], base["arms"][arm]["curves"])}
                   for arm in ("fed:random", "fedsel:random", "central:random", *changed)}
        assert set(wide["seeds"]) == _seeds_named_in(wide_file) and len(wide["seeds"]) == len(set(wide["seeds"]))
        assert set(by_seed["fed:random"]) == set().union(*(_seeds_named_in(name) for name in default_files))
        assert set(wide["seeds"]) <= set(by_seed["fed:random"]), "a seed the default runs lack"
        for arm in ("fed:random", "fedsel:random", "central:random"):
            assert wide["arms"][arm]["curves"] == [by_seed[arm][seed] for seed in wide["seeds"]], arm
        for arm in changed:
            assert wide["arms"][arm]["curves"] != [by_seed[arm][seed] for seed in wide["seeds"]], arm


@pytest.mark.parametrize("default_file, wide_file, kept_file", [
    ("le_digits_c25_s150-159.json", "le_digits_c25_s150-159_ks8.json", "le_digits_c25_s150-159_ks8_cs4.json"),
])
def test_a_cold_start_shortlist_of_4_keeps_the_defaults_first_batch(default_file: str, wide_file: str,
                                                                    kept_file: str) -> None:
    """``cold_start_shortlist=4`` under a wider ``kcenter_shortlist``: the default's cold start, then the wider rule.

    FINDINGS reads the later counts' cost as selection's, not the cold start's: that rests on the
    first batch (the cold-start round's) being the default run's, seed by seed, and the rest not.
    """
    import json

    def settings(name: str) -> dict[float, dict]:
        return {s["alpha"]: s for s in json.loads((RESULTS / name).read_text(encoding="utf-8"))["settings"]}

    default, wide, kept = settings(default_file), settings(wide_file), settings(kept_file)
    assert set(kept) == set(default) == set(wide) == {0.5, 0.1}
    assert _overrides_named_in(kept_file) == {"kcenter_shortlist": 8, "cold_start_shortlist": 4}
    first_differs = []
    for alpha, k in kept.items():
        assert k["overrides"] == _overrides_named_in(kept_file) and k["seeds"] == default[alpha]["seeds"]
        for mine, base, wider in zip(k["arms"]["fed:auto"]["curves"], default[alpha]["arms"]["fed:auto"]["curves"],
                                     wide[alpha]["arms"]["fed:auto"]["curves"]):
            assert mine[:2] == base[:2], f"alpha {alpha}: the cold-start batch is not the default's"
            assert mine[2:] != base[2:] and mine[2:] != wider[2:]
            first_differs.append(wider[1] != base[1])
    assert any(first_differs), "the wider run's cold start equals the default's: this test shows nothing"


#: ``selection_gap --inits 3`` runs with 8 (the default's width from 30 devices up) on seeds held out from
#: choosing that step: no run of the old fixed 4 shares their seeds.
HELD_OUT = {f"selection_gap_mnist1d_c50_{tag}_s180-189_ks8_inits3.json" for tag in ("a05", "a01")}
#: ``selection_gap --inits 3`` runs with a wider ``kcenter_shortlist`` and the default run on the same seeds.
WIDER = {p.name: p.name.replace(f"_{v}_inits3", "_inits3")
         for v in ("ks8", "ks16", "ks8_cs4") for p in RESULTS.glob(f"selection_gap_*_{v}_inits3.json")
         if p.name not in HELD_OUT}


def test_the_wider_shortlist_selection_gap_files_are_found() -> None:
    """Guards the parametrization below, which an empty glob would skip without a failure."""
    assert any("_ks8_" in name for name in WIDER) and any("_ks16_" in name for name in WIDER)
    assert any("_ks8_cs4_" in name for name in WIDER)
    assert all((RESULTS / name).is_file() for name in HELD_OUT)


@pytest.mark.parametrize("clients, variant, sets, first", [
    (50, "", 3, 150), (50, "_ks8", 4, 150), (50, "_ks16", 3, 150), (35, "", 3, 150), (35, "_ks8", 3, 150),
    (25, "", 3, 150), (25, "_ks8", 3, 150), (30, "", 3, 150), (30, "_ks8", 3, 150), (10, "", 3, 140),
    (10, "_ks8", 3, 140),
])
@pytest.mark.parametrize("tag", ["a05", "a01"])
def test_each_selection_gap_width_pools_its_ten_seed_sets(clients: int, variant: str, sets: int, first: int,
                                                         tag: str) -> None:
    """FINDINGS and the README read these ``--inits 3`` files pooled over seeds ``first`` on (``--report A B ...``).

    Same setting and overrides, disjoint seeds, and the averaged-reference comparison kept.
    """
    import json

    lows = range(first, first + 10 * sets, 10)
    names = [f"selection_gap_mnist1d_c{clients}_{tag}_s{lo}-{lo + 9}{variant}_inits3.json" for lo in lows]
    results = [json.loads((RESULTS / name).read_text(encoding="utf-8")) for name in names]
    pooled = sg.pool_results(results)
    assert sorted(pooled["seeds"]) == list(range(first, first + 10 * sets))
    assert pooled["clients"] == clients and pooled["overrides"] == _overrides_named_in(names[0])
    assert pooled["inits"] == results[0]["inits"] and len(pooled["inits"]) == 3 and pooled["against_averaged"]


#: ``selection_gap`` runs that keep the cold start at 4 under a wider shortlist, and the wider run.
COLD_KEPT = {p.name: p.name.replace("_cs4_inits3", "_inits3") for p in RESULTS.glob("selection_gap_*_cs4_inits3.json")}


def test_the_cold_start_kept_at_4_leaves_the_mechanism_replay_alone() -> None:
    """The ``fed-mechanism`` replay starts from the central cold start: ``cold_start_shortlist`` cannot reach it.

    FINDINGS reads a kept cold start's change in ``fedsel`` as the federated run's first batch: that
    batch is the default run's (shortlist 4) seed by seed, in every initialization, and the rest is not.
    """
    import json

    assert COLD_KEPT
    for kept, wide in COLD_KEPT.items():
        k = json.loads((RESULTS / kept).read_text(encoding="utf-8"))
        w = json.loads((RESULTS / wide).read_text(encoding="utf-8"))
        d = json.loads((RESULTS / wide.replace("_ks8_inits3", "_inits3")).read_text(encoding="utf-8"))
        assert k["seeds"] == w["seeds"] == d["seeds"] and d["overrides"] == {}
        assert k["overrides"] == {**w["overrides"], "cold_start_shortlist": 4}
        assert k["arms"]["fed-mechanism"]["curves"] == w["arms"]["fed-mechanism"]["curves"], kept
        assert k["arms"]["fedsel"]["curves"] != w["arms"]["fedsel"]["curves"], kept
        for arm in ("fed", "fedsel", "fedsel@1000", "fedsel@2000"):
            for mine, base in zip(k["arms"][arm]["curves"], d["arms"][arm]["curves"], strict=True):
                assert mine[:2] == base[:2], f"{kept} {arm}: the first batch is not the default run's"
            assert [c[2:] for c in k["arms"][arm]["curves"]] != [c[2:] for c in d["arms"][arm]["curves"]], arm


@pytest.mark.parametrize("tag", ["a05", "a01"])
def test_the_held_out_selection_gap_runs_of_both_widths_share_their_central_reference(tag: str) -> None:
    """On the held-out seeds FINDINGS reads 8 against a fixed 4 through one central reference."""
    import json

    wide = f"selection_gap_mnist1d_c50_{tag}_s180-189_ks8_inits3.json"
    narrow = wide.replace("_ks8_", "_ks4_")
    assert wide in HELD_OUT
    w, n = (json.loads((RESULTS / name).read_text(encoding="utf-8")) for name in (wide, narrow))
    assert w["seeds"] == n["seeds"] == sorted(_seeds_named_in(wide))
    assert (w["overrides"], n["overrides"]) == (_overrides_named_in(wide), _overrides_named_in(narrow))
    assert n["overrides"] == {"kcenter_shortlist": 4}
    for arm in ("central", "central@1000", "central@2000", "central-reseed"):
        assert w["arms"][arm]["curves"] == n["arms"][arm]["curves"], arm
    for arm in ("fed", "fedsel", "fed-mechanism"):
        assert w["arms"][arm]["curves"] != n["arms"][arm]["curves"], arm


@pytest.mark.parametrize("wide, default", sorted(WIDER.items()))
def test_a_wider_shortlist_selection_gap_shares_the_defaults_central_reference(wide: str, default: str) -> None:
    """FINDINGS compares shortlists through one central reference: the central arms are the same runs."""
    import json

    w = json.loads((RESULTS / wide).read_text(encoding="utf-8"))
    d = json.loads((RESULTS / default).read_text(encoding="utf-8"))
    assert w["seeds"] == d["seeds"] and d["overrides"] == {} and w["overrides"] == _overrides_named_in(wide)
    for arm in ("central", "central@1000", "central@2000", "central-reseed"):
        assert w["arms"][arm]["curves"] == d["arms"][arm]["curves"], arm
    assert w["arms"]["fedsel"]["curves"] != d["arms"]["fedsel"]["curves"]


def test_the_cold_start_rerun_reproduces_its_parents_first_batches() -> None:
    """Digits and MNIST-1D: random and every policy's cold-start batch are the parent's, exactly.

    Later rounds may differ (``auto``'s first-reward fix came after the parent), and so may the
    ``fedsel`` arms (label order) and rt-text (thread-independent features).
    """
    old = {(s["dataset"], s["alpha"]): s for s in cs.read_result(RESULTS / "cold_start_c10_s130-139.json")["settings"]}
    new = {(s["dataset"], s["alpha"]): s for s in cs.read_result(RESULTS / "cold_start_c10_s130-139_rerun.json")["settings"]}
    assert set(new) == set(old)
    checked = 0
    for key, setting in new.items():
        if key[0] == "rt-text":
            continue
        assert setting["seeds"] == old[key]["seeds"] and set(setting["arms"]) == set(old[key]["arms"])
        assert setting["arms"]["fed:random"]["curves"] == old[key]["arms"]["fed:random"]["curves"], key
        for name in (n for n in setting["arms"] if n.startswith("fed:auto@")):
            mine = [curve[:2] for curve in setting["arms"][name]["curves"]]
            assert mine == [curve[:2] for curve in old[key]["arms"][name]["curves"]], f"{key} {name}"
            checked += 1
    assert checked == 12


@pytest.mark.parametrize("path", COLD_START, ids=[p.name for p in COLD_START])
def test_each_stored_cold_start_result_reports_what_it_holds(path: Path) -> None:
    result = cs.read_result(path)
    for setting in result["settings"]:
        assert {"fed:random", "fedsel:random"} <= set(setting["arms"])
        assert set(setting["paired"]) == set(setting["policies"]) and setting["policies"]
    text = cs.report(result)
    assert all(f"| {p} |" in text for p in result["settings"][0]["policies"])


@pytest.mark.parametrize("path", AUTO_STUDY, ids=[p.name for p in AUTO_STUDY])
def test_each_stored_auto_study_compares_every_variant_with_the_arms(path: Path) -> None:
    result = auto_study.read_result(path)
    for setting in result["settings"]:
        cmp = setting["compare"]
        assert set(cmp) == set(setting["variants"]) and set(setting["arms"]) < set(cmp)
        for name, entry in cmp.items():
            assert ("worst" in entry) == (name not in setting["arms"]), f"{path.name}: {name}"
    text = auto_study.report(result)
    assert all(f"| {v} |" in text for v in result["settings"][0]["variants"])


@pytest.mark.parametrize("path", SELECTION_GAP, ids=[p.name for p in SELECTION_GAP])
def test_each_stored_selection_gap_result_recomputes_to_what_it_says(path: Path) -> None:
    import json

    stored = json.loads(path.read_text(encoding="utf-8"))["against_central"]
    result = sg.read_result(path)
    arms = set(sg.ARMS) - {"central"}
    assert arms - sg.CONTROL_ARMS <= set(result["against_central"]) <= arms  # older files lack the controls
    for name, row in result["against_central"].items():
        assert row["worst"] == pytest.approx(stored[name]["worst"]) and row["labels"] == stored[name]["labels"]
        mean = sg.mean_arm(result["arms"][name]["curves"])
        assert mean["labels"] == result["arms"][name]["labels"]
        assert mean["mean"] == pytest.approx(result["arms"][name]["mean"])
    for name, row in result.get("against_averaged", {}).items():
        assert row == pytest.approx(json.loads(path.read_text(encoding="utf-8"))["against_averaged"][name])
    assert "| fed-model |" in sg.report(result)


def test_selection_gap_report_prints_a_stored_file_and_names_a_bad_one(capsys, tmp_path) -> None:
    sg.main(["--report", str(SELECTION_GAP[0])])
    assert "| fed-mechanism |" in capsys.readouterr().out
    (tmp_path / "bad.json").write_text("[]")
    with pytest.raises(SystemExit, match="not a selection-gap result"):
        sg.main(["--report", str(tmp_path / "bad.json")])


@pytest.mark.parametrize("path", FED_TRAINING, ids=[p.name for p in FED_TRAINING])
def test_each_stored_fed_training_result_recomputes_to_what_it_says(path: Path) -> None:
    import json

    stored = json.loads(path.read_text(encoding="utf-8"))["against_central"]
    result = ft.read_result(path)
    assert ft.CENTRAL in result["arms"] and len(result["arms"]) > 1
    for name, row in result["against_central"].items():
        assert row["behind"] == pytest.approx(stored[name]["behind"]), f"{path.name}: {name}"
    assert f"| {ft.CENTRAL} |" in ft.report(result)
