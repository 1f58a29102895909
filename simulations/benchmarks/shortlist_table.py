"""The shortlist-width question in one table, read from the stored results (runs nothing).

Usage::

    python -m fedsift.simulations.benchmarks.shortlist_table --json runs/bench/shortlist_table.json \
        --update simulations/benchmarks/FINDINGS.md

The server's k-center policies keep ``kcenter_shortlist`` best-scored candidates per label
requested. It was a fixed 4; a wider shortlist (8) brings hybrid's federated selection inside
the 2-point line from 30 devices up, and costs ``auto`` on digits and on small text
federations. The default now follows the device count (4 below 30 devices, 8 from 30 up:
``CampaignConfig.shortlist_for``). FINDINGS measures the two widths one setting at a time
across many stops; this script pools every stored seed set run at each width and device count
(with the other defaults), prints the issue's bars side by side, and heads each bar with the
default's row, so the width decision can be read in one place:

- the selection gap: hybrid on MNIST-1D, ``fedsel`` − central, both averaged over three
  initializations (``selection_gap --inits 3``), worst label count (line: −2 points);
- ``auto`` − the best fixed arm and ``auto`` − random on MNIST-1D and text, paired by seed,
  worst label count (line: −1 point each);
- ``auto``'s share of random's labels on digits (the headline's line, 50%, holds at 10
  clients and α 0.5 only; elsewhere the share is shown for what the width costs).

Every figure comes from the library's own pooling (:func:`label_efficiency.merge_files`,
:func:`selection_gap.pool_results`), so the table is what ``--merge`` and ``--report`` print
for the same files. A test checks that FINDINGS carries this table as printed.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

#: The widths compared: the default and the alternative FINDINGS measures at every device count.
WIDTHS = (4, 8)
CLIENTS = (10, 25, 30, 35, 50)
ALPHAS = (0.5, 0.1)

#: Stored ``label_efficiency`` files with the other defaults, per (dataset, clients, width): width 8
#: ran ``--set kcenter_shortlist=8``, width 4 ran with no override while 4 was the fixed default. Each
#: cell pools its files (disjoint seeds, or the same seeds with other arms: a ``_fixed`` file adds the
#: fixed arms to an earlier ``auto``-only run). Files run before a later fix (the ``_rerun``/``_v2``
#: files replace them) and other ``--set`` runs are left out.
LABEL_EFFICIENCY: dict[tuple[str, int, int], tuple[str, ...]] = {
    ("mnist1d", 10, 4): ("le_mnist1d_c10_s140-149_rerun.json", "le_mnist1d_c10_s150-159.json",
                         "le_mnist1d_c10_s160-169.json"),
    ("mnist1d", 10, 8): ("le_mnist1d_c10_s140-149_ks8.json", "le_mnist1d_c10_s140-149_ks8_fixed.json",
                         "le_mnist1d_c10_s150-159_ks8.json", "le_mnist1d_c10_s160-169_ks8.json"),
    ("mnist1d", 25, 4): ("le_mnist1d_c25_s150-159.json", "le_mnist1d_c25_a05_s160-169.json",
                         "le_mnist1d_c25_a01_s160-169.json", "le_mnist1d_c25_a05_s170-179.json",
                         "le_mnist1d_c25_a01_s170-179.json"),
    ("mnist1d", 25, 8): ("le_mnist1d_c25_s150-159_ks8.json", "le_mnist1d_c25_a05_s160-169_ks8.json",
                         "le_mnist1d_c25_a01_s160-169_ks8.json", "le_mnist1d_c25_a05_s170-179_ks8.json",
                         "le_mnist1d_c25_a01_s170-179_ks8.json"),
    ("mnist1d", 30, 4): ("le_mnist1d_c30_s150-159.json", "le_mnist1d_c30_a05_s160-169.json",
                         "le_mnist1d_c30_a01_s160-169.json", "le_mnist1d_c30_a05_s170-179.json",
                         "le_mnist1d_c30_a01_s170-179.json"),
    ("mnist1d", 30, 8): ("le_mnist1d_c30_s150-159_ks8.json", "le_mnist1d_c30_a05_s160-169_ks8.json",
                         "le_mnist1d_c30_a01_s160-169_ks8.json", "le_mnist1d_c30_a05_s170-179_ks8.json",
                         "le_mnist1d_c30_a01_s170-179_ks8.json"),
    ("mnist1d", 35, 4): ("le_mnist1d_c35_s150-159.json", "le_mnist1d_c35_s160-169.json",
                         "le_mnist1d_c35_a05_s170-179.json", "le_mnist1d_c35_a01_s170-179.json"),
    ("mnist1d", 35, 8): ("le_mnist1d_c35_s150-159_ks8.json", "le_mnist1d_c35_s160-169_ks8.json",
                         "le_mnist1d_c35_a05_s170-179_ks8.json", "le_mnist1d_c35_a01_s170-179_ks8.json"),
    ("mnist1d", 50, 4): ("le_mnist1d_c50_s150-154_rerun.json", "le_mnist1d_c50_s155-159.json",
                         "le_mnist1d_c50_s160-169.json", "le_mnist1d_c50_a05_s170-179.json",
                         "le_mnist1d_c50_a01_s170-179.json"),
    ("mnist1d", 50, 8): ("le_mnist1d_c50_s150-159_ks8.json", "le_mnist1d_c50_s160-169_ks8.json",
                         "le_mnist1d_c50_a05_s170-179_ks8.json", "le_mnist1d_c50_a01_s170-179_ks8.json",
                         "le_mnist1d_c50_a05_s180-189_ks8.json", "le_mnist1d_c50_a01_s180-189_ks8.json"),
    ("rt-text", 10, 4): ("le_text_c10_s140-149_v2.json", "le_text_c10_s150-159.json", "le_text_c10_s160-169.json"),
    ("rt-text", 10, 8): ("le_text_c10_s140-149_ks8.json", "le_text_c10_s140-149_ks8_fixed.json",
                         "le_text_c10_s150-159_ks8.json", "le_text_c10_s160-169_ks8.json"),
    ("rt-text", 25, 4): ("le_text_c25_s150-159.json", "le_text_c25_s160-169.json",
                         "le_text_c25_a05_s170-179.json", "le_text_c25_a01_s170-179.json"),
    ("rt-text", 25, 8): ("le_text_c25_s150-159_ks8.json", "le_text_c25_s160-169_ks8.json",
                         "le_text_c25_a05_s170-179_ks8.json", "le_text_c25_a01_s170-179_ks8.json"),
    ("rt-text", 30, 4): ("le_text_c30_s150-159.json", "le_text_c30_a05_s160-169.json",
                         "le_text_c30_a01_s160-169.json", "le_text_c30_a05_s170-179.json",
                         "le_text_c30_a01_s170-179.json"),
    ("rt-text", 30, 8): ("le_text_c30_s150-159_ks8.json", "le_text_c30_a05_s160-169_ks8.json",
                         "le_text_c30_a01_s160-169_ks8.json", "le_text_c30_a05_s170-179_ks8.json",
                         "le_text_c30_a01_s170-179_ks8.json"),
    ("rt-text", 35, 4): ("le_text_c35_s150-159.json", "le_text_c35_s160-169.json",
                         "le_text_c35_a05_s170-179.json", "le_text_c35_a01_s170-179.json"),
    ("rt-text", 35, 8): ("le_text_c35_s150-159_ks8.json", "le_text_c35_s160-169_ks8.json",
                         "le_text_c35_a05_s170-179_ks8.json", "le_text_c35_a01_s170-179_ks8.json"),
    ("rt-text", 50, 4): ("le_text_c50_s150-154_v2.json", "le_text_c50_s155-159.json", "le_text_c50_s160-169.json",
                         "le_text_c50_a05_s170-179.json", "le_text_c50_a01_s170-179.json"),
    ("rt-text", 50, 8): ("le_text_c50_s150-159_ks8.json", "le_text_c50_s160-164_ks8.json",
                         "le_text_c50_s165-169_ks8.json", "le_text_c50_a05_s170-179_ks8.json",
                         "le_text_c50_a01_s170-179_ks8.json", "le_text_c50_a05_s180-189_ks8.json",
                         "le_text_c50_a01_s180-189_ks8.json"),
    ("digits", 10, 4): ("le_digits_c10_s140-149_rerun.json", "le_digits_c10_s150-159.json",
                        "le_digits_c10_a05_s160-169.json", "le_digits_c10_a01_s160-169.json"),
    ("digits", 10, 8): ("le_digits_c10_a05_s140-149_ks8.json", "le_digits_c10_a05_s150-159_ks8.json",
                        "le_digits_c10_a05_s160-169_ks8.json", "le_digits_c10_a01_s140-149_ks8.json",
                        "le_digits_c10_a01_s150-159_ks8.json", "le_digits_c10_a01_s160-169_ks8.json"),
    ("digits", 25, 4): ("le_digits_c25_s150-159.json", "le_digits_c25_s160-169.json"),
    ("digits", 25, 8): ("le_digits_c25_s150-159_ks8.json", "le_digits_c25_s160-169_ks8.json"),
    ("digits", 30, 4): ("le_digits_c30_s150-159.json", "le_digits_c30_s160-169.json"),
    ("digits", 30, 8): ("le_digits_c30_s150-159_ks8.json", "le_digits_c30_s160-169_ks8.json"),
    ("digits", 35, 4): ("le_digits_c35_s150-159.json", "le_digits_c35_s160-169.json"),
    ("digits", 35, 8): ("le_digits_c35_s150-159_ks8.json", "le_digits_c35_s160-169_ks8.json"),
    ("digits", 50, 4): ("le_digits_c50_s150-154_rerun.json", "le_digits_c50_s155-159.json",
                        "le_digits_c50_s160-169.json"),
    ("digits", 50, 8): ("le_digits_c50_s150-154_ks8.json", "le_digits_c50_s155-159_ks8.json",
                        "le_digits_c50_s160-169_ks8.json"),
}

#: Stored files of the same setting and seeds that a later run replaced (left out above, on purpose).
SUPERSEDED: dict[str, str] = {
    "le_digits_c10_s140-149.json": "le_digits_c10_s140-149_rerun.json",  # before the reply-order fix
}

#: Stored ``selection_gap --inits 3`` runs (hybrid, MNIST-1D) per (clients, width): the first seed of
#: each ten-seed set, stored as ``selection_gap_mnist1d_c<clients>_a<05|01>_s<lo>-<lo+9>[_ks8]_inits3.json``.
SELECTION_GAP: dict[tuple[int, int], tuple[int, ...]] = {
    (10, 4): (140, 150, 160), (10, 8): (140, 150, 160),
    (25, 4): (150, 160, 170), (25, 8): (150, 160, 170),
    (30, 4): (150, 160, 170), (30, 8): (150, 160, 170),
    (35, 4): (150, 160, 170), (35, 8): (150, 160, 170),
    (50, 4): (150, 160, 170), (50, 8): (150, 160, 170, 180),
}

#: The digits headline bar: at 10 clients and α 0.5, ``auto`` needs at most half of random's labels.
HEADLINE, HEADLINE_SHARE = (10, 0.5), 0.5

#: Each bar: its key, its label in the table, the line a figure must not fall below (None: no line).
BARS: tuple[tuple[str, str, float | None], ...] = (
    ("gap", "MNIST-1D: hybrid's selection gap", -2.0),
    ("mnist1d:best_fixed", "MNIST-1D: `auto` − best fixed", -1.0),
    ("mnist1d:random", "MNIST-1D: `auto` − random", -1.0),
    ("rt-text:best_fixed", "text: `auto` − best fixed", -1.0),
    ("rt-text:random", "text: `auto` − random", -1.0),
    ("digits:share", "digits: `auto`'s share of random's labels", None),
)


@dataclass(frozen=True)
class Figure:
    """One bar at one width, device count and alpha, over the pooled seeds."""

    bar: str
    width: int
    clients: int
    alpha: float
    value: float | None  # points (the gap, the paired differences) or a share of random's labels
    se: float | None
    labels: int | None  # the label count of the worst difference
    seeds: tuple[int, ...]
    files: tuple[str, ...]


def gap_files(clients: int, width: int, alpha: float) -> tuple[str, ...]:
    """The stored selection-gap files of one cell, in seed order."""
    tag = {0.5: "a05", 0.1: "a01"}[alpha]
    variant = "" if width == 4 else f"_ks{width}"
    return tuple(f"selection_gap_mnist1d_c{clients}_{tag}_s{lo}-{lo + 9}{variant}_inits3.json"
                 for lo in SELECTION_GAP.get((clients, width), ()))


def _gap_figures(results: Path, clients: int, width: int) -> list[Figure]:
    from . import selection_gap as sg

    out = []
    for alpha in ALPHAS:
        names = gap_files(clients, width, alpha)
        if not names:
            continue
        pooled = sg.pool_results([sg.read_result(results / name) for name in names])
        worst = pooled["against_averaged"]["fedsel"]
        out.append(Figure("gap", width, clients, alpha, worst["worst"], worst["se"], int(worst["labels"]),
                          tuple(pooled["seeds"]), names))
    return out


def _le_figures(results: Path, dataset: str, clients: int, width: int) -> list[Figure]:
    from . import label_efficiency as le

    names = LABEL_EFFICIENCY.get((dataset, clients, width))
    if not names:
        return []
    from fedsift.simulations.errors import SimulationError

    try:
        merged = le.merge_files([results / name for name in names])
    except SimulationError as exc:  # its "result i" counts the files in the order listed here
        raise SimulationError(f"{dataset}, {clients} clients, width {width} ({', '.join(names)}): {exc}") from exc
    out = []
    for setting in merged["settings"]:
        seeds, alpha = tuple(setting["seeds"]), setting["alpha"]
        if dataset == "digits":
            out.append(Figure("digits:share", width, clients, alpha, setting["arms"]["fed:auto"]["share_of_random"],
                              None, None, seeds, names))
            continue
        for against, key in (("best_fixed", "best_fixed"), ("random", "fed:random")):
            row = setting["auto_paired"].get(key)
            if row:  # a file of random and auto only has no best fixed arm
                out.append(Figure(f"{dataset}:{against}", width, clients, alpha, row["worst"], row["se"],
                                  int(row["labels"]), seeds, names))
    return out


def table(results: Path = RESULTS) -> list[Figure]:
    """Every figure of every bar, width and device count the stored results hold."""
    figures: list[Figure] = []
    for width in WIDTHS:
        for clients in CLIENTS:
            figures += _gap_figures(results, clients, width)
            for dataset in ("mnist1d", "rt-text", "digits"):
                figures += _le_figures(results, dataset, clients, width)
    return figures


def _points(f: Figure, line: float | None) -> str:
    # Two decimals where one would round a figure onto the other side of its line (-1.04 -> -1.0).
    assert f.value is not None
    near = line is not None and abs(f.value - line) < 0.1
    text = f"{f.value:+.2f}" if near else f"{f.value:+.1f}"
    text = text.replace("-", "−")
    if f.se is not None:
        text += f" ± {f.se:.2f}" if near else f" ± {f.se:.1f}"
    return f"**{text}**" if line is not None and f.value < line else text


def _cell(figures: Sequence[Figure], line: float | None) -> str:
    by_alpha = {f.alpha: f for f in figures}
    if not by_alpha:
        return "not run"
    parts = []
    for alpha in ALPHAS:
        f = by_alpha.get(alpha)
        if f is None:
            parts.append("not run")
        elif f.bar == "digits:share":
            text = "not reached" if f.value is None else f"{f.value:.0%}"
            held = (f.clients, f.alpha) == HEADLINE  # the one cell with a line on this bar
            parts.append(f"**{text}**" if held and (f.value is None or f.value > HEADLINE_SHARE) else text)
        else:
            parts.append(_points(f, line))
    counts = [len(by_alpha[alpha].seeds) for alpha in ALPHAS if alpha in by_alpha]  # in the cell's alpha order
    return " / ".join(parts) + f" ({'/'.join(map(str, counts)) if len(set(counts)) > 1 else counts[0]})"


def default_width(clients: int) -> int:
    """The width the campaign default (``kcenter_shortlist`` 0) takes with ``clients`` devices."""
    from fedsift.server import CampaignConfig

    return CampaignConfig().shortlist_for(clients)


def markdown(figures: Sequence[Figure]) -> str:
    """The table: a row per bar and width, a column per device count; α 0.5 / α 0.1 in each cell.

    Each bar's first row is the default's, the width it takes at each device count, in brackets.
    """
    lines = ["| bar (line) | width | " + " | ".join(f"{c} clients" for c in CLIENTS) + " |",
             "|---|---|" + "---|" * len(CLIENTS)]
    for bar, label, line in BARS:
        clients, alpha = HEADLINE
        shown = (f"{label} (line −{-line:.0f})" if line is not None
                 else f"{label} (line {HEADLINE_SHARE:.0%} at {clients} clients, α {alpha})")
        cells = [_cell([f for f in figures if (f.bar, f.width, f.clients) == (bar, default_width(c), c)], line)
                 + f" [{default_width(c)}]" for c in CLIENTS]
        lines.append(f"| {shown} | default | " + " | ".join(cells) + " |")
        for width in WIDTHS:
            cells = [_cell([f for f in figures if (f.bar, f.width, f.clients) == (bar, width, c)], line)
                     for c in CLIENTS]
            lines.append(f"| {shown} | {width} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def to_json(figures: Sequence[Figure]) -> dict[str, Any]:
    return {"bars": [{"bar": b, "label": label, "line": line} for b, label, line in BARS],
            "default_width": {str(c): default_width(c) for c in CLIENTS},
            "figures": [asdict(f) for f in figures]}


BEGIN, END = "<!-- shortlist_table: begin -->", "<!-- shortlist_table: end -->"


def update_page(path: Path, table_text: str) -> None:
    """Rewrite the table between ``BEGIN`` and ``END`` in the markdown page ``path``.

    Raises
    ------
    SimulationError
        The page cannot be read or lacks exactly one pair of the markers.
    """
    from fedsift.simulations.errors import SimulationError

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SimulationError(f"{path}: {exc}") from exc
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise SimulationError(f"{path}: needs one {BEGIN!r} line and, after it, one {END!r} line")
    head, rest = text.split(BEGIN)
    path.write_text(f"{head}{BEGIN}\n{table_text}\n{END}{rest.split(END)[1]}", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", type=Path, default=RESULTS, help="the folder of stored results")
    p.add_argument("--json", type=Path, default=None, help="also write every figure, its seeds and files here")
    p.add_argument("--update", type=Path, default=None, metavar="PAGE",
                   help=f"also rewrite the table between the {BEGIN} and {END} lines of this markdown page")
    args = p.parse_args(argv)
    from fedsift.simulations.errors import SimulationError

    try:
        figures = table(args.results)
        if args.update:
            update_page(args.update, markdown(figures))
    except SimulationError as exc:
        raise SystemExit(f"shortlist_table: {exc}") from exc
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_json(figures), indent=1), encoding="utf-8")
    print(markdown(figures))


if __name__ == "__main__":
    main()
