"""The server's state store (SQLite, WAL): what a restart needs to resume a campaign.

Written at each phase boundary of a round, in one transaction each:

- ``labels``: every label obtained, journaled *before* delivery with ``delivered = 0``
  and flipped to 1 when the device acknowledged it (2: the device did not know the id);
  a (device, candidate) pair is
  stored once, so a resumed delivery can neither lose nor duplicate a label;
- ``models``: every published model (weights, ONNX artifact, hash, signature);
- ``results``: every finished round's result;
- ``validation``: the random slice's features and labels, held by the labeling side;
- ``nodes``: which Flower node each device was last seen on;
- ``selections``: each round's selection (strategy, budget, reasons, counts) and its
  phase: ``selected`` (items are in the labeling queue), ``delivered`` (labels reached
  the devices) or ``done`` (trained, published, evaluated);
- ``requests``: every candidate asked for, with its score, why it was picked and what
  came of it (``released``, ``refused:<reason>`` or ``no-reply``);
- ``queue``: every released item (payload as the device sealed it) waiting for its
  label; a label, from the labeler or imported (:meth:`CampaignState.submit_label`), is
  journaled into ``labels`` in the same transaction;
- ``rewards``: the adaptive strategy's rewards, replayed on resume;
- ``meta``: the model's shape, pinned by the first run (a later run with another shape,
  or a label outside its classes, is refused), and FedAvgM's momentum with the model
  version it belongs to (restored on resume).

A campaign opened on an existing store continues where it stopped: a round whose
selection has no result yet is finished first (label what is ready, deliver, train).
"""

from __future__ import annotations

import base64
import io
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fedsift.privacy.transactions import SchemaMismatch, ensure_schema, transaction

from .errors import StateError
from .labeling import LabeledSample, ReleasedSample
from .registry import ModelVersion

_SCHEMA = """
CREATE TABLE IF NOT EXISTS models (version INTEGER PRIMARY KEY, weights BLOB NOT NULL, onnx BLOB NOT NULL,
    sha256 TEXT NOT NULL, signature BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS results (round INTEGER PRIMARY KEY, result TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS labels (round INTEGER NOT NULL, device_id TEXT NOT NULL, candidate_id TEXT NOT NULL,
    label INTEGER NOT NULL, annotator TEXT NOT NULL, validation INTEGER NOT NULL, delivered INTEGER NOT NULL,
    PRIMARY KEY (device_id, candidate_id));
CREATE TABLE IF NOT EXISTS validation (id INTEGER PRIMARY KEY, x BLOB NOT NULL, y INTEGER NOT NULL,
    item TEXT UNIQUE);
CREATE TABLE IF NOT EXISTS selections (round INTEGER PRIMARY KEY, phase TEXT NOT NULL, selection TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS queue (round INTEGER NOT NULL, device_id TEXT NOT NULL, candidate_id TEXT NOT NULL,
    payload BLOB NOT NULL, content_type TEXT NOT NULL, random_slice INTEGER NOT NULL, labeled INTEGER NOT NULL,
    PRIMARY KEY (device_id, candidate_id));
CREATE TABLE IF NOT EXISTS requests (round INTEGER NOT NULL, device_id TEXT NOT NULL, candidate_id TEXT NOT NULL,
    score REAL NOT NULL, reason TEXT NOT NULL, outcome TEXT NOT NULL, PRIMARY KEY (round, device_id, candidate_id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rewards (id INTEGER PRIMARY KEY, strategy TEXT NOT NULL, gain REAL NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (device_id TEXT PRIMARY KEY, node_id TEXT NOT NULL);  -- uint64: not an SQLite INTEGER
"""


SCHEMA_VERSION = 1
"""``PRAGMA user_version`` of a fedsift state store."""


def _open_schema(db: sqlite3.Connection, path: Path, schema: str, version: int, what: str) -> None:
    """Create the schema in a new file, accept our own, refuse any other database."""
    try:
        ensure_schema(db, schema, version)
    except SchemaMismatch as exc:
        if exc.found == 0:
            raise StateError(f"{path}: an SQLite database that is not a fedsift {what} "
                             f"(tables {exc.tables[:5]})") from None
        raise StateError(f"{path}: {what} schema version {exc.found}; this fedsift reads version {version}") from None


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
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            _open_schema(self.db, self.path, _SCHEMA, SCHEMA_VERSION, "state store")
        except (OSError, sqlite3.DatabaseError) as exc:
            raise StateError(f"state store {self.path}: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> CampaignState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- models
    def save_model(self, mv: ModelVersion) -> None:
        with transaction(self.db):
            self.db.execute("INSERT OR IGNORE INTO models VALUES (?, ?, ?, ?, ?)",
                            (mv.version, _layers_to_bytes(mv.layers), mv.onnx, mv.sha256, mv.signature))

    def load_models(self) -> list[ModelVersion]:
        rows = self.db.execute("SELECT version, weights, onnx, sha256, signature FROM models ORDER BY version")
        return [ModelVersion(v, _layers_from_bytes(w), bytes(o), s, bytes(sig)) for v, w, o, s, sig in rows]

    # --------------------------------------------------------------- results
    def save_result(self, round_: int, result: dict[str, object]) -> None:
        """Store a finished round's result and close its selection, in one transaction."""
        with transaction(self.db):
            self.db.execute("INSERT OR REPLACE INTO results VALUES (?, ?)", (round_, json.dumps(result)))
            self.db.execute("UPDATE selections SET phase = 'done' WHERE round = ?", (round_,))

    def load_results(self) -> list[dict[str, object]]:
        return [json.loads(r) for (r,) in self.db.execute("SELECT result FROM results ORDER BY round")]

    # ---------------------------------------------------------------- labels
    def journal_labels(self, round_: int, labeled: Sequence[LabeledSample]) -> int:
        """Store labels before delivery; returns how many were new (a pair is kept once)."""
        with transaction(self.db):
            before = self.db.total_changes
            self.db.executemany(
                "INSERT OR IGNORE INTO labels VALUES (?, ?, ?, ?, ?, ?, 0)",
                [(round_, s.device_id, s.candidate_id, s.label, s.annotator, int(s.random_slice)) for s in labeled])
            return self.db.total_changes - before

    def undelivered(self) -> list[tuple[int, LabeledSample]]:
        rows = self.db.execute("SELECT round, device_id, candidate_id, label, annotator, validation FROM labels "
                               "WHERE delivered = 0 ORDER BY round, device_id, candidate_id")
        return [(r, LabeledSample(d, c, y, a, bool(v))) for r, d, c, y, a, v in rows]

    def mark_unknown(self, device_id: str, candidate_ids: Sequence[str]) -> None:
        """The device does not know these ids (its pool changed): never deliver them again."""
        with transaction(self.db):
            self.db.executemany("UPDATE labels SET delivered = 2 WHERE device_id = ? AND candidate_id = ? "
                                "AND delivered = 0", [(device_id, c) for c in candidate_ids])

    def mark_delivered(self, device_id: str, candidate_ids: Sequence[str]) -> None:
        with transaction(self.db):
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
        with transaction(self.db):
            self.db.executemany("INSERT OR REPLACE INTO nodes VALUES (?, ?)",
                                [(d, str(n)) for d, n in sorted(node_of.items())])

    def load_nodes(self) -> dict[str, int]:
        return {d: int(n) for d, n in self.db.execute("SELECT device_id, node_id FROM nodes")}

    # ------------------------------------------------------------ validation
    def save_validation(self, x: np.ndarray, y: int, item: str | None = None) -> None:
        """Keep one validation item (``item`` names it, so saving it twice keeps one)."""
        with transaction(self.db):
            self.db.execute("INSERT OR IGNORE INTO validation (x, y, item) VALUES (?, ?, ?)",
                            (np.asarray(x, np.float32).tobytes(), int(y), item))

    def load_validation(self) -> list[tuple[np.ndarray, int, str | None]]:
        return [(np.frombuffer(x, dtype=np.float32).copy(), int(y), item)
                for x, y, item in self.db.execute("SELECT x, y, item FROM validation ORDER BY id")]

    # ------------------------------------------------------------ selections
    def save_selection(self, round_: int, selection: dict[str, object], phase: str = "selected") -> None:
        with transaction(self.db):
            self.db.execute("INSERT OR REPLACE INTO selections VALUES (?, ?, ?)",
                            (round_, phase, json.dumps(selection, sort_keys=True)))

    def set_phase(self, round_: int, phase: str) -> None:
        with transaction(self.db):
            self.db.execute("UPDATE selections SET phase = ? WHERE round = ?", (phase, round_))

    def open_selection(self) -> tuple[int, str, dict[str, object]] | None:
        """The newest round selected but not done: (round, phase, selection), or None."""
        row = self.db.execute("SELECT round, phase, selection FROM selections WHERE phase != 'done' "
                              "ORDER BY round DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1]), json.loads(row[2])) if row else None

    def selections(self) -> list[tuple[int, str, dict[str, object]]]:
        return [(int(r), str(p), json.loads(s))
                for r, p, s in self.db.execute("SELECT round, phase, selection FROM selections ORDER BY round")]

    # ------------------------------------------------------------------ meta
    def pin_model_shape(self, shape: dict[str, object]) -> None:
        """Keep the model's shape (features, classes, hidden widths) at the first run; refuse another later.

        Raises
        ------
        StateError
            When a later run of the campaign asks for a different shape.
        """
        with transaction(self.db):
            row = self.db.execute("SELECT value FROM meta WHERE key = 'model_shape'").fetchone()
            if row is None:
                self.db.execute("INSERT INTO meta VALUES ('model_shape', ?)", (json.dumps(shape, sort_keys=True),))
                return
        stored = json.loads(row[0])
        if stored != json.loads(json.dumps(shape, sort_keys=True)):
            raise StateError(f"{self.path}: this campaign's model is {stored}; the run asks for {shape}")

    def save_momentum(self, version: int, vector: Sequence[np.ndarray]) -> None:
        """FedAvgM's momentum after the training that produced model ``version``.

        Flower's FedAvgM keeps it in memory only; every phase run is a new ServerApp, so
        without this each run would start the momentum from zero again.
        """
        buf = io.BytesIO()
        np.savez(buf, *vector)
        value = json.dumps({"version": int(version), "npz": base64.b64encode(buf.getvalue()).decode("ascii")})
        with transaction(self.db):
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('momentum', ?)", (value,))

    def load_momentum(self, version: int) -> list[np.ndarray] | None:
        """The momentum saved with model ``version``, or None (none saved, or for another model)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'momentum'").fetchone()
        if row is None:
            return None
        saved = json.loads(row[0])
        if saved.get("version") != version:
            return None
        with np.load(io.BytesIO(base64.b64decode(saved["npz"])), allow_pickle=False) as z:
            return [z[f"arr_{i}"] for i in range(len(z.files))]

    def num_classes(self) -> int | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'model_shape'").fetchone()
        return int(json.loads(row[0])["num_classes"]) if row else None

    # -------------------------------------------------------------- requests
    def save_requests(self, round_: int, rows: Sequence[tuple[str, str, float, str, str]]) -> None:
        """Record a round's label requests: (device, candidate, score, reason, outcome) each."""
        with transaction(self.db):
            self.db.executemany("INSERT OR REPLACE INTO requests VALUES (?, ?, ?, ?, ?, ?)",
                                [(round_, d, c, float(score), reason, outcome) for d, c, score, reason, outcome in rows])

    def request_outcomes(self, round_: int) -> dict[str, int]:
        """How a round's requests ended: outcome -> count."""
        return {str(o): int(n) for o, n in self.db.execute(
            "SELECT outcome, COUNT(*) FROM requests WHERE round = ? GROUP BY outcome", (round_,))}

    # ----------------------------------------------------------------- queue
    def enqueue(self, released: Sequence[ReleasedSample]) -> int:
        """Put released items into the labeling queue (an item is queued once); how many were new."""
        with transaction(self.db):
            before = self.db.total_changes
            self.db.executemany("INSERT OR IGNORE INTO queue VALUES (?, ?, ?, ?, ?, ?, 0)",
                                [(r.round, r.device_id, r.candidate_id, r.payload, r.content_type,
                                  int(r.random_slice)) for r in released])
            return self.db.total_changes - before

    def _released(self, where: str, args: tuple[object, ...] = ()) -> list[ReleasedSample]:
        rows = self.db.execute("SELECT round, device_id, candidate_id, payload, content_type, random_slice FROM queue "
                               f"WHERE {where} ORDER BY round, device_id, candidate_id", args)
        return [ReleasedSample(r, d, c, bytes(p), t, bool(v)) for r, d, c, p, t, v in rows]

    def pending(self) -> list[ReleasedSample]:
        """Released items still waiting for a label."""
        return self._released("labeled = 0")

    def released_in(self, round_: int) -> list[ReleasedSample]:
        return self._released("round = ?", (round_,))

    def submit_labels(self, labeled: Sequence[LabeledSample]) -> int:
        """Label queued items: journal each label (undelivered) and take the item off the queue.

        Raises
        ------
        StateError
            For an item that is not in the queue (nothing is stored then).
        """
        classes = self.num_classes()
        with transaction(self.db):
            rows = []
            for s in labeled:
                if classes is not None and not 0 <= int(s.label) < classes:
                    raise StateError(f"label {s.label!r} for device {s.device_id!r} candidate {s.candidate_id!r}: "
                                     f"not a class of this campaign (0..{classes - 1})")
                row = self.db.execute("SELECT round, random_slice FROM queue WHERE device_id = ? AND candidate_id = ?",
                                      (s.device_id, s.candidate_id)).fetchone()
                if row is None:
                    raise StateError(f"label for device {s.device_id!r} candidate {s.candidate_id!r}: "
                                     "no such item in the labeling queue")
                rows.append((int(row[0]), s.device_id, s.candidate_id, int(s.label), s.annotator, int(row[1])))
            before = self.db.total_changes
            self.db.executemany("INSERT OR IGNORE INTO labels VALUES (?, ?, ?, ?, ?, ?, 0)", rows)
            added = self.db.total_changes - before
            self.db.executemany("UPDATE queue SET labeled = 1 WHERE device_id = ? AND candidate_id = ?",
                                [(d, c) for _, d, c, *_ in rows])
        return added

    def random_slice(self) -> tuple[list[ReleasedSample], list[LabeledSample]]:
        """Every released random-slice item and every label of one, whatever its round."""
        rows = self.db.execute("SELECT device_id, candidate_id, label, annotator, validation FROM labels "
                               "WHERE validation = 1 ORDER BY round, device_id, candidate_id")
        return self._released("random_slice = 1"), [LabeledSample(d, c, y, a, bool(v)) for d, c, y, a, v in rows]

    def labels_of(self, round_: int) -> list[LabeledSample]:
        rows = self.db.execute("SELECT device_id, candidate_id, label, annotator, validation FROM labels "
                               "WHERE round = ? ORDER BY device_id, candidate_id", (round_,))
        return [LabeledSample(d, c, y, a, bool(v)) for d, c, y, a, v in rows]

    def queue_counts(self) -> dict[int, dict[str, int]]:
        """Per round: items released, waiting for a label, labeled, delivered."""
        out: dict[int, dict[str, int]] = {}
        for r, n, labeled in self.db.execute("SELECT round, COUNT(*), SUM(labeled) FROM queue GROUP BY round"):
            out[int(r)] = {"released": int(n), "waiting": int(n) - int(labeled or 0), "labeled": int(labeled or 0),
                           "delivered": 0}
        for r, n in self.db.execute("SELECT round, COUNT(*) FROM labels WHERE delivered = 1 GROUP BY round"):
            out.setdefault(int(r), {"released": 0, "waiting": 0, "labeled": 0, "delivered": 0})["delivered"] = int(n)
        return out

    # --------------------------------------------------------------- rewards
    def save_reward(self, strategy: str, gain: float) -> None:
        with transaction(self.db):
            self.db.execute("INSERT INTO rewards (strategy, gain) VALUES (?, ?)", (strategy, float(gain)))

    def load_rewards(self) -> list[tuple[str, float]]:
        return [(str(s), float(g)) for s, g in self.db.execute("SELECT strategy, gain FROM rewards ORDER BY id")]
