"""A seeded simulation gives the same labels in the same order in every process.

The labels' order feeds the ``fedsel:`` arms of the label-efficiency benchmark (the
central reference's MLP retrained on a federated run's picks, whose mini-batches follow
that order). It once followed Python's per-process string hashing, through a set of
message ids, so a rerun of the same seed gave different ``fedsel:`` curves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

RUN = """
import json
from fedsift.offline import apply_offline_environment
apply_offline_environment()
from fedsift.server import CampaignConfig
from fedsift.simulations import SimulationConfig, run_simulation
c = CampaignConfig(strategy="margin", budget=15, rounds=3, cold_start_rounds=1, seed=5, train_rounds=1,
                   warmup_train_rounds=1)
res = run_simulation(SimulationConfig(dataset="digits", clients=4, alpha=0.5, campaign=c))
print(json.dumps({"rows": res.labeled_rows, "accuracy": [r.accuracy for r in res.rounds]}))
"""


def _run(hash_seed: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    out = subprocess.run([sys.executable, "-c", RUN], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_labels_come_in_the_same_order_whatever_the_string_hashing() -> None:
    a, b = _run("1"), _run("2")
    assert len(a["rows"][-1]) == 45
    assert sorted(a["rows"][-1]) == sorted(b["rows"][-1])  # the same picks ...
    assert a["rows"] == b["rows"]  # ... in the same order, round by round
    assert a["accuracy"] == b["accuracy"]
