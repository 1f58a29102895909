"""The server's state store (SQLite, WAL): what a restart needs to resume a campaign.

Written at each phase boundary of a round, in one transaction each:

- ``labels``: every label obtained, journaled *before* delivery with ``delivered = 0``
  and flipped to 1 when the device acknowledged it; a (device, candidate) pair is
  stored once, so a resumed delivery can neither lose nor duplicate a label;
- ``models``: every published model (weights, ONNX artifact, hash, signature);
- ``results``: every finished round's result;
- ``validation``: the random slice's features and labels, held by the labeling side;
- ``nodes``: which Flower node each device was last seen on.

A campaign opened on an existing store continues after the last finished round, first
delivering and training on labels a crash left undelivered.
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .labeling import LabeledSample
from .registry import ModelVersion

_SCHEMA = """
CREATE TABLE IF NOT EXISTS models (version INTEGER PRIMARY KEY, weights BLOB NOT NULL, onnx BLOB NOT NULL,
    sha256 TEXT NOT NULL, signature BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS results (round INTEGER PRIMARY KEY, result TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS labels (round INTEGER NOT NULL, device_id TEXT NOT NULL, candidate_id TEXT NOT NULL,
    label INTEGER NOT NULL, annotator TEXT NOT NULL, validation INTEGER NOT NULL, delivered INTEGER NOT NULL,
    PRIMARY KEY (device_id, candidate_id));
CREATE TABLE IF NOT EXISTS validation (id INTEGER PRIMARY KEY, x BLOB NOT NULL, y INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (device_id TEXT PRIMARY KEY, node_id INTEGER NOT NULL);
"""


def _layers_to_bytes(layers: Sequence[tuple[np.ndarray, np.ndarray]]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, *[a for pair in layers for a in pair])
    return buf.getvalue()


def _layers_from_bytes(data: bytes) -> list[tuple[np.ndarray, np.ndarray]]:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        arrays = [z[f"arr_{i}"] for i in range(len(z.files))]
    return [(arrays[i], arrays[i + 1]) for i in range(0, len(arrays), 2)]


class CampaignState:
    """SQLite-backed campaign state; see the module docstring."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    # ---------------------------------------------------------------- models
    def save_model(self, mv: ModelVersion) -> None:
        with self.db:
            self.db.execute("INSERT OR IGNORE INTO models VALUES (?, ?, ?, ?, ?)",
                            (mv.version, _layers_to_bytes(mv.layers), mv.onnx, mv.sha256, mv.signature))

    def load_models(self) -> list[ModelVersion]:
        rows = self.db.execute("SELECT version, weights, onnx, sha256, signature FROM models ORDER BY version")
        return [ModelVersion(v, _layers_from_bytes(w), bytes(o), s, bytes(sig)) for v, w, o, s, sig in rows]

    # --------------------------------------------------------------- results
    def save_result(self, round_: int, result: dict[str, object]) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO results VALUES (?, ?)", (round_, json.dumps(result)))

    def load_results(self) -> list[dict[str, object]]:
        return [json.loads(r) for (r,) in self.db.execute("SELECT result FROM results ORDER BY round")]

    # ---------------------------------------------------------------- labels
    def journal_labels(self, round_: int, labeled: Sequence[LabeledSample]) -> int:
        """Store labels before delivery; returns how many were new (a pair is kept once)."""
        with self.db:
            before = self.db.total_changes
            self.db.executemany(
                "INSERT OR IGNORE INTO labels VALUES (?, ?, ?, ?, ?, ?, 0)",
                [(round_, s.device_id, s.candidate_id, s.label, s.annotator, int(s.random_slice)) for s in labeled])
            return self.db.total_changes - before

    def undelivered(self) -> list[tuple[int, LabeledSample]]:
        rows = self.db.execute("SELECT round, device_id, candidate_id, label, annotator, validation FROM labels "
                               "WHERE delivered = 0 ORDER BY round, device_id, candidate_id")
        return [(r, LabeledSample(d, c, y, a, bool(v))) for r, d, c, y, a, v in rows]

    def mark_delivered(self, device_id: str, candidate_ids: Sequence[str]) -> None:
        with self.db:
            self.db.executemany("UPDATE labels SET delivered = 1 WHERE device_id = ? AND candidate_id = ?",
                                [(device_id, c) for c in candidate_ids])

    def delivered_counts(self) -> dict[str, tuple[int, int]]:
        """Per device: (labels delivered, of which random-slice items)."""
        rows = self.db.execute("SELECT device_id, COUNT(*), SUM(validation) FROM labels WHERE delivered = 1 "
                               "GROUP BY device_id")
        return {d: (int(n), int(v or 0)) for d, n, v in rows}

    def label_pairs(self) -> list[tuple[str, str]]:
        return [(d, c) for d, c in self.db.execute("SELECT device_id, candidate_id FROM labels")]

    # ----------------------------------------------------------------- nodes
    def save_nodes(self, node_of: dict[str, int]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO nodes VALUES (?, ?)", sorted(node_of.items()))

    def load_nodes(self) -> dict[str, int]:
        return {d: int(n) for d, n in self.db.execute("SELECT device_id, node_id FROM nodes")}

    # ------------------------------------------------------------ validation
    def save_validation(self, x: np.ndarray, y: int) -> None:
        with self.db:
            self.db.execute("INSERT INTO validation (x, y) VALUES (?, ?)",
                            (np.asarray(x, np.float32).tobytes(), int(y)))

    def load_validation(self) -> list[tuple[np.ndarray, int]]:
        return [(np.frombuffer(x, dtype=np.float32).copy(), int(y))
                for x, y in self.db.execute("SELECT x, y FROM validation ORDER BY id")]
