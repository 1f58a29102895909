"""The same ServerApp and ClientApp on both backends: labels grow by the budget, same results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fedsift.server import CampaignConfig
from fedsift.simulations import SimulationConfig, run_simulation


def small(backend: str, seed: int = 0) -> SimulationConfig:
    return SimulationConfig(dataset="digits", clients=4, alpha=0.5, backend=backend,
                            campaign=CampaignConfig(rounds=2, budget=12, strategy="margin", seed=seed,
                                                    cold_start_rounds=1, train_rounds=2, warmup_train_rounds=0))


@pytest.fixture(scope="module")
def inprocess_rows() -> list[dict]:
    return run_simulation(small("inprocess")).rows()


def test_inprocess_labels_grow_by_the_budget_and_accuracy_is_recorded(inprocess_rows: list[dict]) -> None:
    assert [r["labels"] for r in inprocess_rows] == [0, 12, 24]
    assert all(0.0 <= r["accuracy"] <= 1.0 for r in inprocess_rows)
    assert inprocess_rows[-1]["accuracy"] > inprocess_rows[0]["accuracy"]
    assert [r["model_version"] for r in inprocess_rows] == [0, 1, 2]
    assert all(r["rejected"] == [] for r in inprocess_rows)


def test_inprocess_is_deterministic_and_seed_sensitive(inprocess_rows: list[dict]) -> None:
    again = run_simulation(small("inprocess")).rows()
    assert [r["accuracy"] for r in again] == [r["accuracy"] for r in inprocess_rows]
    other = run_simulation(small("inprocess", seed=1)).rows()
    assert [r["accuracy"] for r in other] != [r["accuracy"] for r in inprocess_rows]


@pytest.mark.e2e
def test_ray_backend_gives_the_same_result(inprocess_rows: list[dict]) -> None:
    ray_rows = run_simulation(small("ray")).rows()
    assert [r["labels"] for r in ray_rows] == [0, 12, 24]
    assert [r["accuracy"] for r in ray_rows] == [r["accuracy"] for r in inprocess_rows]


@pytest.mark.e2e
def test_cli_simulate_writes_results_and_plot(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "fedsift.cli", "simulate", "--clients", "4", "--rounds", "2",
                           "--budget", "10", "--strategy", "random", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((out / "results.json").read_text())
    assert data["config"]["campaign"]["strategy"] == "random"
    assert [r["labels"] for r in data["rounds"]] == [0, 10, 20]
    assert (out / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "labels" in proc.stdout and "acc (random)" in proc.stdout


def test_cli_rejects_bad_config_clearly(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('clients = 4\n[campaign]\nbudjet = 3\n')
    proc = subprocess.run([sys.executable, "-m", "fedsift.cli", "simulate", "--config", str(cfg),
                           "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "campaign.budjet: unknown key" in proc.stderr + proc.stdout
