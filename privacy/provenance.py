"""The provenance log: an append-only, tamper-evident record of every step touching data or consent.

Events are stored in SQLite (WAL) as canonical JSON bytes, exactly as hashed into an RFC 9162
Merkle tree and never re-serialised; signed checkpoints (:mod:`.checkpoint`) commit to the
tree, and :mod:`.verifier` lets an officer check it all without trusting this module.

Entry bytes are the canonical JSON (sorted keys, no whitespace, UTF-8, integers only: no
floats) of ``{"index": int, "kind": str, "payload": dict, "time": "YYYY-MM-DDTHH:MM:SS.ffffffZ"}``.

Payload fields the audit report relies on (writers: server and client):

- every event of a round: ``round`` (int); device events: ``device_id`` (str).
- ``label_request``: ``candidate_id``, ``device_id``, ``round``; optional ``reason``.
- ``consent_decision``: ``candidate_id``, ``device_id``, ``decision`` (``granted``,
  ``refused`` or ``withdrawn``), ``scope`` (``label`` or ``train``; a withdrawal covers all),
  optional ``expires`` (ISO-8601 string).
- ``masking_report``: ``candidate_id``, ``device_id``, ``entities`` ({type: count}),
  ``masker`` (name and version).
- ``release``: ``candidate_id``, ``device_id``, ``round``; optional ``sealed_to``.
- ``label_received``: ``candidate_id``, ``label``; optional ``annotator``.
- ``labels_delivered``: ``device_id``, ``candidate_ids`` (list), ``round``.
- ``training_aggregated``: ``round``, ``model_version``; ``candidate_ids`` (list) of the
  labels trained on, if absent every label delivered before it counts.
- ``device_checkpoint`` (server log): ``device_id``, ``round``, ``checkpoint`` (the signed
  checkpoint text of the device's own log, received with its release).
- ``evaluation`` / ``promotion_decision``: ``model_version``, ``decision``; metrics as
  integers (e.g. ``accuracy_ppm``) or strings, since floats are not canonical.
"""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from fedsift.privacy import merkle
from fedsift.privacy.checkpoint import CheckpointSigner, checkpoint_text, sign_note
from fedsift.privacy.errors import NonCanonicalEventError, ProvenanceError
from fedsift.privacy.transactions import sql_statements, transaction

logger = logging.getLogger(__name__)

ROUND_STARTED = "round_started"
MODEL_PUBLISHED = "model_published"
QUERY_SENT = "query_sent"
SUMMARY_RECEIVED = "summary_received"
SELECTION_DECISION = "selection_decision"
LABEL_REQUEST = "label_request"
CONSENT_DECISION = "consent_decision"
MASKING_REPORT = "masking_report"
RELEASE = "release"
LABEL_RECEIVED = "label_received"
LABELS_DELIVERED = "labels_delivered"
TRAINING_AGGREGATED = "training_aggregated"
EVALUATION = "evaluation"
PROMOTION_DECISION = "promotion_decision"
DEVICE_CHECKPOINT = "device_checkpoint"
EVENT_KINDS = frozenset({
    DEVICE_CHECKPOINT,
    ROUND_STARTED, MODEL_PUBLISHED, QUERY_SENT, SUMMARY_RECEIVED, SELECTION_DECISION, LABEL_REQUEST,
    CONSENT_DECISION, MASKING_REPORT, RELEASE, LABEL_RECEIVED, LABELS_DELIVERED, TRAINING_AGGREGATED,
    EVALUATION, PROMOTION_DECISION,
})

CANDIDATE_ID = "candidate_id"
CANDIDATE_IDS = "candidate_ids"
DEVICE_ID = "device_id"
ROUND = "round"
DECISION = "decision"
SCOPE = "scope"
MODEL_VERSION = "model_version"
GRANTED, REFUSED, WITHDRAWN = "granted", "refused", "withdrawn"

DEFAULT_ORIGIN = "fedsift.local/provenance"
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, entry BLOB NOT NULL, leaf_hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER NOT NULL, note TEXT NOT NULL, created TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
    BEGIN SELECT RAISE(ABORT, 'provenance log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries
    BEGIN SELECT RAISE(ABORT, 'provenance log is append-only'); END;
"""


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_json(value: object, where: str) -> None:
    """Raise NonCanonicalEventError unless ``value`` is float-free JSON (ints, strings, ...)."""
    if value is None or isinstance(value, (str, int)):  # bool is an int
        return
    if isinstance(value, float):
        raise NonCanonicalEventError(
            f"{where}: float {value!r} is not allowed in provenance events (limit: integers or "
            "strings only; scale it, e.g. accuracy_ppm, or write it as a string)")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise NonCanonicalEventError(f"{where}: key {k!r} is {type(k).__name__}, keys must be strings")
            _check_json(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_json(v, f"{where}[{i}]")
    else:
        raise NonCanonicalEventError(
            f"{where}: {type(value).__name__} {value!r} is not JSON (allowed: int, str, bool, None, list, dict)")


def encode_payload(kind: str, payload: dict) -> bytes:
    """Validate an event and return its payload as canonical JSON bytes.

    Parameters
    ----------
    kind : str
        One of ``EVENT_KINDS``.
    payload : dict
        Float-free JSON object (string keys; int, str, bool, None, list, dict values).

    Returns
    -------
    bytes
        Canonical JSON of ``payload``.

    Raises
    ------
    ProvenanceError
        If ``kind`` is unknown.
    NonCanonicalEventError
        If the payload holds a float, a non-string key or a non-JSON value.
    """
    if kind not in EVENT_KINDS:
        raise ProvenanceError(f"event kind {kind!r} is unknown (allowed: {', '.join(sorted(EVENT_KINDS))})")
    if not isinstance(payload, dict):
        raise NonCanonicalEventError(f"payload of {kind}: {type(payload).__name__}, expected dict")
    _check_json(payload, "payload")
    try:
        return _ENCODER.encode(payload).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NonCanonicalEventError(f"payload of {kind}: string is not valid Unicode ({exc})") from None


@dataclass(frozen=True)
class Entry:
    """One stored event: its index, kind, payload, time and the exact bytes hashed."""

    index: int
    kind: str
    payload: dict
    time: str
    data: bytes


class ProvenanceLog:
    """Append-only provenance log in SQLite (WAL), with RFC 9162 proofs and signed checkpoints.

    Parameters
    ----------
    path : str or Path
        The SQLite file; created with its schema when missing.
    origin : str, optional
        Log identity written into checkpoints (a schema-less URL by convention). Stored in the
        file on creation; default: the stored one, else ``fedsift.local/provenance``.
    clock : callable, optional
        Returns the event time string; defaults to UTC now with microseconds.
    synchronous : str
        SQLite ``synchronous`` pragma: ``FULL`` (default, every commit durable) or ``NORMAL``.
    """

    def __init__(self, path: str | Path, origin: str | None = None,
                 clock: Callable[[], str] | None = None, synchronous: str = "FULL") -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ProvenanceError(f"synchronous={synchronous!r}: expected FULL or NORMAL")
        self.path, self._clock = Path(path), clock or _utc_now
        self._lock = threading.Lock()
        self._con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute(f"PRAGMA synchronous={synchronous}")
            with transaction(self._con):  # a concurrent reader sees no log or a whole one, origin included
                for statement in sql_statements(_SCHEMA):
                    self._con.execute(statement)
                self._con.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('origin', ?)",
                                  (origin or DEFAULT_ORIGIN,))
            self.origin: str = self._con.execute("SELECT value FROM meta WHERE key = 'origin'").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            self._con.close()
            # held by another connection: the log is fine, the caller may retry later
            if getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
                raise ProvenanceError(f"{path}: provenance log is locked by another writer ({exc})") from None
            raise ProvenanceError(f"{path}: not a provenance log ({exc})") from None
        if origin is not None and origin != self.origin:
            self._con.close()
            raise ProvenanceError(f"{path}: log origin is {self.origin!r}, not {origin!r}")

    def __enter__(self) -> ProvenanceLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        self._con.close()

    def append(self, kind: str, payload: dict) -> int:
        """Append one event in its own transaction and return its index.

        Parameters
        ----------
        kind : str
            Event kind, one of ``EVENT_KINDS``.
        payload : dict
            Float-free JSON object; see the module docstring for the fields by kind.

        Returns
        -------
        int
            The event's zero-based index.
        """
        return self.append_many([(kind, payload)])[0]

    def append_many(self, events: Iterable[tuple[str, dict]]) -> list[int]:
        """Append events in one transaction (all or none) and return their indices.

        Parameters
        ----------
        events : iterable of (kind, payload)
            Events in order.

        Returns
        -------
        list[int]
            Their indices, consecutive.

        Raises
        ------
        NonCanonicalEventError
            If any payload is not float-free JSON; nothing is written then.
        """
        encoded = [(_ENCODER.encode(kind), encode_payload(kind, payload)) for kind, payload in events]
        if not encoded:
            return []
        time = _ENCODER.encode(self._clock())
        with self._lock:
            con = self._con
            con.execute("BEGIN IMMEDIATE")
            try:
                start = con.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries").fetchone()[0]
                rows = []
                for i, (kind_json, body) in enumerate(encoded, start):
                    # Keys in sorted order around pre-encoded canonical parts: canonical as a whole.
                    data = b'{"index":%d,"kind":%s,"payload":%s,"time":%s}' % (
                        i, kind_json.encode(), body, time.encode())
                    rows.append((i, data, merkle.leaf_hash(data)))
                con.executemany("INSERT INTO entries (idx, entry, leaf_hash) VALUES (?, ?, ?)", rows)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return list(range(start, start + len(rows)))

    def size(self) -> int:
        """Number of events in the log."""
        with self._lock:
            return self._con.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries").fetchone()[0]

    def entries(self, start: int = 0, end: int | None = None) -> list[Entry]:
        """Events with ``start <= index < end`` (``end`` None: to the end), parsed."""
        end = self.size() if end is None else end
        with self._lock:
            rows = self._con.execute(
                "SELECT idx, entry FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx", (start, end)
            ).fetchall()
        out = []
        for idx, data in rows:
            obj = json.loads(data)
            out.append(Entry(idx, obj["kind"], obj["payload"], obj["time"], bytes(data)))
        return out

    def leaf_hashes(self, size: int | None = None) -> list[bytes]:
        """Recorded leaf hashes of the first ``size`` events (default: all)."""
        n = self.size() if size is None else size
        if not 0 <= n <= self.size():
            raise ProvenanceError(f"tree size {n} is outside 0..{self.size()}")
        with self._lock:
            rows = self._con.execute("SELECT leaf_hash FROM entries WHERE idx < ? ORDER BY idx", (n,))
            return [r[0] for r in rows]

    def root(self, size: int | None = None) -> bytes:
        """RFC 9162 root hash of the first ``size`` events (default: all)."""
        return merkle.root_hash(self.leaf_hashes(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Audit path proving event ``index`` is in the tree of ``size`` events."""
        return merkle.inclusion_proof(index, self.leaf_hashes(size))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Proof that the tree of ``old_size`` events is a prefix of that of ``new_size``."""
        return merkle.consistency_proof(old_size, self.leaf_hashes(new_size))

    def checkpoint(self, signer: CheckpointSigner) -> str:
        """Sign a checkpoint of the log as it is now, store it, and return the signed note.

        Parameters
        ----------
        signer : CheckpointSigner
            Key to sign with; its name should be the log's origin.

        Returns
        -------
        str
            The C2SP signed note.
        """
        with self._lock:
            rows = self._con.execute("SELECT leaf_hash FROM entries ORDER BY idx").fetchall()
        leaves = [r[0] for r in rows]
        note = sign_note(checkpoint_text(self.origin, len(leaves), merkle.root_hash(leaves)), signer)
        with self._lock:
            self._con.execute("INSERT INTO checkpoints (size, note, created) VALUES (?, ?, ?)",
                              (len(leaves), note, _utc_now()))
        logger.info("signed checkpoint of %s at size %d", self.origin, len(leaves))
        return note

    def latest_checkpoint(self, min_size: int = 0) -> str | None:
        """The most recent stored signed checkpoint covering at least ``min_size`` events."""
        with self._lock:
            row = self._con.execute(
                "SELECT note FROM checkpoints WHERE size >= ? ORDER BY size DESC, rowid DESC LIMIT 1",
                (min_size,)).fetchone()
        return row[0] if row else None

    def proof_bundle(self, index: int, checkpoint: str | None = None,
                     from_size: int | None = None) -> dict:
        """A self-contained proof that event ``index`` is in a signed checkpoint.

        Parameters
        ----------
        index : int
            The event.
        checkpoint : str, optional
            Signed note to prove against; default: the latest stored one covering ``index``.
        from_size : int, optional
            Also prove the checkpoint consistent with an older tree of this size.

        Returns
        -------
        dict
            ``format``, ``index``, ``tree_size``, ``entry`` (base64), ``inclusion_path``
            (base64 hashes, leaf first), ``checkpoint`` and optionally ``consistency``.
        """
        note = checkpoint or self.latest_checkpoint(min_size=index + 1)
        if note is None:
            raise ProvenanceError(f"no signed checkpoint covers entry {index}: sign one first")
        size = int(note.split("\n")[1])
        if not 0 <= index < size:
            raise ProvenanceError(f"entry {index} is outside the checkpoint's tree of size {size}")
        leaves = self.leaf_hashes(size)
        (entry,) = self.entries(index, index + 1)
        b64 = lambda h: base64.b64encode(h).decode()  # noqa: E731
        bundle = {
            "format": "fedsift-provenance-proof/v1", "index": index, "tree_size": size,
            "entry": b64(entry.data), "inclusion_path": [b64(h) for h in merkle.inclusion_proof(index, leaves)],
            "checkpoint": note,
        }
        if from_size is not None:
            path = merkle.consistency_proof(from_size, leaves)
            bundle["consistency"] = {"from_size": from_size, "path": [b64(h) for h in path]}
        return bundle


def load_events(path: str | Path) -> list[Entry]:
    """Read every event of a log file (read-only), for reports and exports."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    con = sqlite3.connect(uri, uri=True)
    try:
        rows = con.execute("SELECT idx, entry FROM entries ORDER BY idx").fetchall()
    except sqlite3.DatabaseError as exc:
        raise ProvenanceError(f"{path}: not a provenance log ({exc})") from None
    finally:
        con.close()
    out = []
    for idx, data in rows:
        obj = json.loads(data)
        out.append(Entry(idx, obj.get("kind", ""), obj.get("payload", {}), obj.get("time", ""), bytes(data)))
    return out
