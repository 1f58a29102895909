"""The device's label store, the newest round it has seen, and its verified models.

Two backends behind the same functions:

- Flower's per-node ``context.state`` (simulations): it survives between the messages
  of one run, in simulation and deployment, unlike module globals;
- a SQLite file on the device (:class:`DeviceStore`), used when the node config names
  one as ``store-path`` (``fedsift client run`` always does). A real device needs it:
  every ``flwr run`` gets a fresh ``context``, and every message in deployment runs in a
  fresh process, so a campaign whose phases run as separate runs (select now, deliver
  when the annotators are done) must not forget the labels it was given, nor the last
  good model when the server sends a bad one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from flwr.app import ConfigRecord, Context

from fedsift.privacy.transactions import SchemaMismatch, ensure_schema, transaction

from .errors import ClientError

_KEY = "fedsift.labels"
_ROUND_KEY = "fedsift.rounds"
STORE_KEY = "store-path"
"""Node config key naming the device's SQLite store."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS labels (local_id TEXT PRIMARY KEY, label INTEGER NOT NULL,
    validation INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS rounds (kind TEXT PRIMARY KEY, newest INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS models (version INTEGER PRIMARY KEY, onnx BLOB NOT NULL);
"""
KEEP_MODELS = 3
"""Verified models the device keeps (the newest is the last good one; QBC's committee uses all)."""


STORE_VERSION = 1


class DeviceStoreError(ClientError):
    """The device's store file cannot be opened or is not a fedsift store."""


class DeviceStore:
    """Labels and the newest round seen, in one SQLite file (WAL), one transaction per write."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            self.db.execute("PRAGMA journal_mode=WAL")
            try:
                ensure_schema(self.db, _SCHEMA, STORE_VERSION)
            except SchemaMismatch as exc:
                raise DeviceStoreError(f"device store {self.path}: not a fedsift device store ({exc})") from None
        except (OSError, sqlite3.DatabaseError) as exc:
            raise DeviceStoreError(f"device store {self.path}: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> DeviceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def labels(self) -> dict[str, int]:
        return {i: int(y) for i, y in self.db.execute("SELECT local_id, label FROM labels")}

    def validation(self) -> set[str]:
        return {i for (i,) in self.db.execute("SELECT local_id FROM labels WHERE validation = 1")}

    def store(self, new: dict[str, int], validation: Iterable[str] = ()) -> int:
        """Insert or update labels; returns how many ids were not stored before."""
        flags = set(validation)
        with transaction(self.db):
            known = {i for (i,) in self.db.execute("SELECT local_id FROM labels")}
            self.db.executemany(
                "INSERT INTO labels VALUES (?, ?, ?) ON CONFLICT(local_id) DO UPDATE SET label = excluded.label, "
                "validation = MAX(validation, excluded.validation)",
                [(i, int(y), int(i in flags)) for i, y in sorted(new.items())])
        return sum(1 for i in new if i not in known)

    def save_model(self, version: int, onnx: bytes) -> None:
        """Keep a verified model; only the newest :data:`KEEP_MODELS` stay."""
        with transaction(self.db):
            self.db.execute("INSERT OR REPLACE INTO models VALUES (?, ?)", (int(version), onnx))
            self.db.execute("DELETE FROM models WHERE version NOT IN (SELECT version FROM models "
                            "ORDER BY version DESC LIMIT ?)", (KEEP_MODELS,))

    def models(self) -> list[tuple[int, bytes]]:
        """Kept models, oldest first."""
        return [(int(v), bytes(m)) for v, m in self.db.execute("SELECT version, onnx FROM models ORDER BY version")]

    def newest_round(self, kind: str) -> int:
        row = self.db.execute("SELECT newest FROM rounds WHERE kind = ?", (kind,)).fetchone()
        return int(row[0]) if row else 0

    def set_newest_round(self, kind: str, rnd: int) -> None:
        with transaction(self.db):
            self.db.execute("INSERT INTO rounds VALUES (?, ?) ON CONFLICT(kind) DO UPDATE SET "
                            "newest = MAX(newest, excluded.newest)", (kind, int(rnd)))


def device_store(context: Context) -> DeviceStore | None:
    """The device's SQLite store when the node config names one, else None (use ``context.state``)."""
    path = context.node_config.get(STORE_KEY)
    return DeviceStore(str(path)) if path else None


def load_labels(context: Context) -> dict[str, int]:
    """Local sample id -> label for every label received so far."""
    store = device_store(context)
    if store is not None:
        with store:
            return store.labels()
    if _KEY not in context.state:
        return {}
    rec = context.state[_KEY]
    return dict(zip(rec["ids"], (int(v) for v in rec["labels"])))


def load_validation(context: Context) -> set[str]:
    """Local ids of labeled items that belong to the random (validation) slice."""
    store = device_store(context)
    if store is not None:
        with store:
            return store.validation()
    if _KEY not in context.state or "validation" not in context.state[_KEY]:
        return set()
    rec = context.state[_KEY]
    return {i for i, flag in zip(rec["ids"], rec["validation"]) if flag}


def store_labels(context: Context, new: dict[str, int], validation: set[str] = frozenset()) -> int:  # type: ignore[assignment]
    """Merge ``new`` into the store (idempotent); returns how many were not there before."""
    store = device_store(context)
    if store is not None:
        with store:
            return store.store(new, validation)
    labels = load_labels(context)
    flags = load_validation(context) | set(validation)
    added = sum(1 for k in new if k not in labels)
    labels.update(new)
    ids = sorted(labels)
    context.state[_KEY] = ConfigRecord({"ids": ids, "labels": [labels[i] for i in ids],
                                        "validation": [i in flags for i in ids]})
    return added


def newest_round(context: Context, kind: str = "query") -> int:
    """The newest round of ``kind`` this device has seen (0 before any)."""
    store = device_store(context)
    if store is not None:
        with store:
            return store.newest_round(kind)
    seen = dict(context.state[_ROUND_KEY]) if _ROUND_KEY in context.state else {}
    return int(seen.get(kind, 0))


def remember_round(context: Context, kind: str, rnd: int) -> None:
    """Record ``rnd`` as seen for ``kind`` (never moves backwards)."""
    store = device_store(context)
    if store is not None:
        with store:
            store.set_newest_round(kind, rnd)
        return
    seen = dict(context.state[_ROUND_KEY]) if _ROUND_KEY in context.state else {}
    seen[kind] = max(int(seen.get(kind, 0)), int(rnd))
    context.state[_ROUND_KEY] = ConfigRecord(seen)
