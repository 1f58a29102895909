"""Learning-curve outputs: the printed table rows, results.json and the PNG."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def write_results(out: Path, config: dict[str, Any], rounds: Sequence[dict[str, Any]],
                  extra: dict[str, Any] | None = None) -> Path:
    """Write ``results.json``: the config and per-round ``{round, labels, accuracy, ...}``."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.json"
    payload = {"config": config, "rounds": list(rounds)}
    if extra:
        payload.update(extra)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True), encoding="utf-8")
    return path


def plot_curves(path: Path, curves: dict[str, Sequence[dict[str, Any]]], title: str) -> Path:
    """Accuracy against labels, one line per run (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    for name, rows in curves.items():
        ax.plot([r["labels"] for r in rows], [r["accuracy"] for r in rows], marker="o", ms=3, label=name)
    ax.set_xlabel("labels")
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
