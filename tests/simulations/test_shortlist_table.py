"""The shortlist-width table: its cells on made-up figures, its file list against the stored results."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from fedsift.simulations.benchmarks import shortlist_table as st

FINDINGS = st.RESULTS.parent / "FINDINGS.md"


def _fig(value: float | None, se: float | None = 0.2, clients: int = 25, alpha: float = 0.5,
         bar: str = "gap", seeds: int = 10) -> st.Figure:
    return st.Figure(bar, 4, clients, alpha, value, se, 900, tuple(range(seeds)), ("made-up.json",))


def test_a_figure_past_its_line_is_bold_and_one_near_it_keeps_two_decimals() -> None:
    assert st._cell([_fig(-2.3), _fig(-1.5, alpha=0.1)], -2.0) == "**−2.3 ± 0.2** / −1.5 ± 0.2 (10)"
    # -2.04 would print as -2.0, on the line: two decimals show which side it is on.
    assert st._cell([_fig(-2.04, 0.237), _fig(-1.96, alpha=0.1)], -2.0) == "**−2.04 ± 0.24** / −1.96 ± 0.20 (10)"
    assert st._cell([_fig(0.42, 0.5), _fig(-0.91, 0.3, alpha=0.1)], -1.0) == "+0.4 ± 0.5 / −0.91 ± 0.30 (10)"


def test_a_cell_without_runs_or_an_alpha_says_not_run_and_uneven_seed_counts_show_both() -> None:
    assert st._cell([], -2.0) == "not run"
    assert st._cell([_fig(-1.0, alpha=0.1)], -2.0) == "not run / −1.0 ± 0.2 (10)"
    uneven = [_fig(-1.0, seeds=30), _fig(-1.2, alpha=0.1, seeds=20)]
    assert st._cell(uneven, -2.0) == "−1.0 ± 0.2 / −1.2 ± 0.2 (30/20)"
    assert st._cell(uneven[::-1], -2.0) == "−1.0 ± 0.2 / −1.2 ± 0.2 (30/20)"  # counts follow the alphas' order
    fewer_first = [_fig(-1.0, seeds=10), _fig(-1.2, alpha=0.1, seeds=20)]
    assert st._cell(fewer_first, -2.0) == "−1.0 ± 0.2 / −1.2 ± 0.2 (10/20)"


def test_the_digits_share_is_held_to_its_line_only_in_the_headline_cell() -> None:
    def share(value: float | None, clients: int, alpha: float) -> st.Figure:
        return _fig(value, None, clients, alpha, bar="digits:share")

    assert st._cell([share(0.56, 10, 0.5), share(0.75, 10, 0.1)], None) == "**56%** / 75% (10)"
    assert st._cell([share(0.5, 10, 0.5)], None) == "50% / not run (10)"
    assert st._cell([share(None, 10, 0.5), share(None, 25, 0.1)], None) == "**not reached** / not reached (10)"
    assert st._cell([share(0.81, 35, 0.5)], None) == "81% / not run (10)"


def test_each_bar_is_headed_by_the_defaults_row_at_the_width_it_takes_there() -> None:
    """4 below 30 devices, 8 from 30 up: the default's cell is that width's cell, marked with it."""
    figures = [st.Figure("gap", width, clients, 0.5, -1.0 - width / 10 - clients / 1000, 0.2, 900, (1,), ("x",))
               for width in st.WIDTHS for clients in st.CLIENTS]
    rows = {line.split(" | ")[1]: line.split(" | ")[2:] for line in st.markdown(figures).splitlines()
            if line.startswith("| MNIST-1D: hybrid's selection gap")}
    assert list(rows) == ["default", "4", "8"]
    assert [st.default_width(c) for c in st.CLIENTS] == [4, 4, 8, 8, 8]
    for i, clients in enumerate(st.CLIENTS):
        width = st.default_width(clients)
        assert rows["default"][i].rstrip(" |") == rows[str(width)][i].rstrip(" |") + f" [{width}]"


def test_the_table_lists_every_stored_run_of_the_current_defaults() -> None:
    """A new ten-seed set stored without a line in the script would silently stay out of the table."""
    listed = {name for names in st.LABEL_EFFICIENCY.values() for name in names}
    gaps = {name for clients, width in st.SELECTION_GAP for alpha in st.ALPHAS
            for name in st.gap_files(clients, width, alpha)}
    plain_le = re.compile(r"le_(mnist1d|text|digits)_c\d+(_a0[15])?_s\d+-\d+(_ks8|_ks8_fixed|_rerun|_v2)?\.json")
    plain_gap = re.compile(r"selection_gap_mnist1d_c\d+_a0[15]_s\d+-\d+(_ks8)?_inits3\.json")
    stored = {p.name for p in st.RESULTS.glob("*.json")}
    assert listed | gaps <= stored, sorted((listed | gaps) - stored)
    assert {n for n in stored if plain_le.fullmatch(n)} - listed == set(st.SUPERSEDED)
    assert {n for n in stored if plain_gap.fullmatch(n)} == gaps
    assert set(st.SUPERSEDED.values()) <= listed and not set(st.SUPERSEDED) & listed


@pytest.mark.parametrize("key", sorted(st.LABEL_EFFICIENCY), ids=lambda k: "-".join(map(str, k)))
def test_each_listed_label_efficiency_file_ran_its_cells_setting(key: tuple[str, int, int]) -> None:
    dataset, clients, width = key
    for name in st.LABEL_EFFICIENCY[key]:
        settings = json.loads((st.RESULTS / name).read_text(encoding="utf-8"))["settings"]
        assert settings, name
        for s in settings:
            assert (s["dataset"], s["clients"]) == (dataset, clients), name
            # No ``overrides`` (or files from before ``--set``): they ran the defaults of their day, when
            # the width was a fixed 4; the default has followed the device count since (4 below 30 devices).
            assert s.get("overrides", {}) == ({} if width == 4 else {"kcenter_shortlist": width}), name


@pytest.mark.parametrize("key", sorted(st.SELECTION_GAP), ids=lambda k: "-".join(map(str, k)))
def test_each_listed_selection_gap_file_ran_its_cells_setting(key: tuple[int, int]) -> None:
    clients, width = key
    for alpha in st.ALPHAS:
        for name in st.gap_files(clients, width, alpha):
            result = json.loads((st.RESULTS / name).read_text(encoding="utf-8"))
            assert (result["dataset"], result["clients"], result["alpha"], result["strategy"]) == \
                ("mnist1d", clients, alpha, "hybrid"), name
            assert result["overrides"] == ({} if width == 4 else {"kcenter_shortlist": width}), name
            assert len(result["inits"]) == 3, name


def test_findings_carries_the_table_as_the_stored_results_print_it() -> None:
    text = FINDINGS.read_text(encoding="utf-8")
    match = re.search(r"<!-- shortlist_table: begin -->\n(.*?)\n<!-- shortlist_table: end -->", text, re.S)
    assert match, "FINDINGS lost the shortlist table's markers"
    assert match.group(1) == st.markdown(st.table()), (
        "FINDINGS' shortlist table is stale: paste `python -m fedsift.simulations.benchmarks.shortlist_table`")


def test_the_table_holds_each_bar_at_each_width_it_was_run() -> None:
    figures = st.table()
    # Guards the FINDINGS check above against a table gone empty with it.
    assert {f.bar for f in figures} == {bar for bar, *_ in st.BARS}
    assert {(f.clients, f.width) for f in figures if f.bar == "gap"} == set(st.SELECTION_GAP)
    assert all(len(f.seeds) >= 10 and f.files for f in figures)


def test_the_script_prints_the_table_and_writes_every_figure(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    st.main(["--json", str(tmp_path / "out" / "table.json")])
    figures = st.table()
    assert capsys.readouterr().out == st.markdown(figures) + "\n"
    written = json.loads((tmp_path / "out" / "table.json").read_text(encoding="utf-8"))
    assert len(written["figures"]) == len(figures) and [b["bar"] for b in written["bars"]] == [b for b, *_ in st.BARS]
    first = written["figures"][0]
    assert first["seeds"] == list(figures[0].seeds) and first["files"] == list(figures[0].files)


def test_a_results_folder_that_lacks_a_file_ends_the_script_naming_it(tmp_path: Path) -> None:
    first = st.gap_files(10, 4, 0.5)[0]
    with pytest.raises(SystemExit, match=rf"shortlist_table: .*{re.escape(first)}: not a selection-gap result"):
        st.main(["--results", str(tmp_path)])


def test_a_damaged_results_file_ends_the_script_naming_it(tmp_path: Path) -> None:
    for alpha in st.ALPHAS:  # the 10-client gap files are read first; the first label-efficiency file next
        for name in st.gap_files(10, 4, alpha):
            shutil.copy(st.RESULTS / name, tmp_path / name)
    damaged, *rest = st.LABEL_EFFICIENCY[("mnist1d", 10, 4)]
    for name in rest:
        shutil.copy(st.RESULTS / name, tmp_path / name)
    (tmp_path / damaged).write_text('{"settings": [{"dataset": "mnist1d"', encoding="utf-8")
    cell = r"shortlist_table: mnist1d, 10 clients, width 4"
    with pytest.raises(SystemExit, match=rf"{cell} \(.*\): .*{re.escape(damaged)}"):
        st.main(["--results", str(tmp_path)])
    (tmp_path / damaged).write_text(json.dumps({"settings": "all of them"}), encoding="utf-8")
    with pytest.raises(SystemExit, match=rf"{cell} \({re.escape(damaged)}, .*\): result 0: not a label-efficiency"):
        st.main(["--results", str(tmp_path)])


def test_update_rewrites_only_the_table_between_the_markers(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(f"# notes\n\nbefore\n\n{st.BEGIN}\n| stale |\n{st.END}\n\nafter\n", encoding="utf-8")
    st.update_page(page, "| fresh |\n|---|")
    assert page.read_text(encoding="utf-8") == f"# notes\n\nbefore\n\n{st.BEGIN}\n| fresh |\n|---|\n{st.END}\n\nafter\n"


@pytest.mark.parametrize("text", ["no markers at all\n", f"{st.BEGIN}\nonly the first\n",
                                  f"{st.END}\n| table |\n{st.BEGIN}\n",
                                  f"{st.BEGIN}\n{st.END}\n{st.BEGIN}\n{st.END}\n"])
def test_update_refuses_a_page_without_one_pair_of_markers_and_leaves_it_alone(tmp_path: Path, text: str) -> None:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit, match=r"shortlist_table: .*page\.md: needs one '<!-- shortlist_table: begin -->'"):
        st.main(["--update", str(page)])
    assert page.read_text(encoding="utf-8") == text
    with pytest.raises(SystemExit, match=r"shortlist_table: .*missing\.md: "):
        st.main(["--update", str(tmp_path / "missing.md")])
