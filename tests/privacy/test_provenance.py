"""The provenance log: canonical events, append-only storage, roots, proofs, checkpoints."""

from __future__ import annotations

import json
import sqlite3
import threading
from decimal import Decimal

import pytest
from pymerkle import InmemoryTree

from fedsift.privacy import merkle
from fedsift.privacy import provenance as pv
from fedsift.privacy.checkpoint import CheckpointSigner, generate_signer
from fedsift.privacy.errors import NonCanonicalEventError, PrivacyError, ProvenanceError
from fedsift.privacy.provenance import ProvenanceLog
from fedsift.privacy.verifier import (
    canonical_json,
    open_checkpoint,
    root_from_inclusion,
    verify_consistency,
)

CLOCK = "2026-01-01T00:00:00.000000Z"


@pytest.fixture
def log(tmp_path):
    with ProvenanceLog(tmp_path / "prov.db", clock=lambda: CLOCK) as plog:
        yield plog


@pytest.fixture
def signer(tmp_path) -> CheckpointSigner:
    return generate_signer(tmp_path / "log.key", pv.DEFAULT_ORIGIN)


def _request(i: int) -> tuple[str, dict]:
    return pv.LABEL_REQUEST, {"candidate_id": f"c{i}", "device_id": "dev-1", "round": 1}


def test_event_kinds_are_the_fourteen_of_the_round_plus_device_checkpoints():
    assert len(pv.EVENT_KINDS) == 15 and pv.DEVICE_CHECKPOINT in pv.EVENT_KINDS
    assert {pv.CONSENT_DECISION, pv.RELEASE, pv.TRAINING_AGGREGATED, pv.PROMOTION_DECISION} <= pv.EVENT_KINDS


def test_append_returns_consecutive_indices(log):
    assert log.append(*_request(0)) == 0
    assert log.append_many([_request(i) for i in range(1, 4)]) == [1, 2, 3]
    assert log.append_many([]) == []
    assert log.size() == 4


def test_entry_bytes_are_canonical_json_with_index_kind_payload_time(log):
    log.append(pv.CONSENT_DECISION, {"scope": "label", "decision": "granted", "candidate_id": "c1",
                                     "note": "naïve ✓", "nested": {"b": [1, True, None], "a": "x"}})
    (entry,) = log.entries()
    assert entry.data == canonical_json(json.loads(entry.data))
    assert entry.data.startswith(b'{"index":0,"kind":"consent_decision","payload":{"candidate_id":"c1"')
    assert "naïve ✓".encode() in entry.data  # UTF-8, not \\u escapes
    assert b" " not in entry.data.replace("naïve ✓".encode(), b"")
    assert (entry.index, entry.kind, entry.time) == (0, pv.CONSENT_DECISION, CLOCK)
    assert entry.payload["nested"] == {"a": "x", "b": [1, True, None]}


@pytest.mark.parametrize("bad,where", [
    ({"score": 0.5}, "payload.score: float 0.5"),
    ({"a": {"b": [1, 2.0]}}, "payload.a.b[1]: float 2.0"),
    ({"x": float("nan")}, "payload.x: float nan"),
])
def test_floats_are_rejected_naming_the_field(log, bad, where):
    with pytest.raises(NonCanonicalEventError, match=where.replace("[", r"\[").replace("]", r"\]")):
        log.append(pv.EVALUATION, bad)
    assert log.size() == 0


@pytest.mark.parametrize("bad", [{1: "x"}, {"x": Decimal("1")}, {"x": b"raw"}, {"x": {1, 2}}])
def test_non_json_values_are_rejected(log, bad):
    with pytest.raises(NonCanonicalEventError):
        log.append(pv.EVALUATION, bad)


def test_unknown_kind_is_rejected(log):
    with pytest.raises(ProvenanceError, match="'labelled'"):
        log.append("labelled", {})
    assert issubclass(ProvenanceError, PrivacyError)


def test_append_many_is_all_or_nothing(log):
    log.append(*_request(0))
    with pytest.raises(NonCanonicalEventError):
        log.append_many([_request(1), (pv.EVALUATION, {"acc": 0.9}), _request(2)])
    assert log.size() == 1


def test_log_is_append_only_in_sqlite(log):
    log.append(*_request(0))
    con = sqlite3.connect(log.path)
    for sql in ("UPDATE entries SET entry = x'00'", "DELETE FROM entries"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute(sql)
    con.close()


def test_root_matches_merkle_module_and_pymerkle(log):
    log.append_many([_request(i) for i in range(21)])
    data = [e.data for e in log.entries()]
    tree = InmemoryTree(algorithm="sha256")
    for d in data:
        tree.append_entry(d)
    assert log.root() == merkle.root_hash(map(merkle.leaf_hash, data)) == tree.get_root()
    assert log.root(7) == tree.get_root(7)
    assert log.leaf_hashes() == [merkle.leaf_hash(d) for d in data]


def test_proofs_from_the_log_verify(log):
    log.append_many([_request(i) for i in range(13)])
    leaves = log.leaf_hashes()
    for i in (0, 6, 12):
        assert root_from_inclusion(i, 13, leaves[i], log.inclusion_proof(i)) == log.root()
    assert root_from_inclusion(3, 9, leaves[3], log.inclusion_proof(3, 9)) == log.root(9)
    assert verify_consistency(5, 13, log.consistency_proof(5), log.root(5), log.root())
    with pytest.raises(ProvenanceError):
        log.inclusion_proof(0, 14)


def test_entries_range(log):
    log.append_many([_request(i) for i in range(5)])
    assert [e.index for e in log.entries(1, 3)] == [1, 2]
    assert [e.payload["candidate_id"] for e in log.entries(3)] == ["c3", "c4"]


def test_checkpoint_is_a_signed_c2sp_note_stored_in_the_log(log, signer):
    log.append_many([_request(i) for i in range(3)])
    note = log.checkpoint(signer)
    lines = note.split("\n")
    assert lines[:2] == [pv.DEFAULT_ORIGIN, "3"]
    assert lines[3] == "" and lines[4].startswith(f"\u2014 {pv.DEFAULT_ORIGIN} ")
    cp = open_checkpoint(note, signer.verifier_key)
    assert (cp.size, cp.root_hash) == (3, log.root())
    assert log.latest_checkpoint() == note
    assert log.latest_checkpoint(min_size=4) is None


def test_reopen_keeps_entries_and_origin(tmp_path):
    path = tmp_path / "p.db"
    with ProvenanceLog(path, origin="example.org/log") as plog:
        plog.append(*_request(0))
        root = plog.root()
    with ProvenanceLog(path) as plog:
        assert (plog.size(), plog.root(), plog.origin) == (1, root, "example.org/log")
        assert plog.append(*_request(1)) == 1
    with pytest.raises(ProvenanceError, match="origin"):
        ProvenanceLog(path, origin="other.org/log")


def test_concurrent_appends_keep_indices_contiguous(log):
    def worker(k: int) -> None:
        for j in range(20):
            log.append_many([_request(k * 100 + j), _request(k * 100 + j + 50)])

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = log.entries()
    assert [e.index for e in entries] == list(range(160))
    assert all(json.loads(e.data)["index"] == e.index for e in entries)


def test_proof_bundle_needs_a_covering_checkpoint(log, signer):
    log.append_many([_request(i) for i in range(4)])
    with pytest.raises(ProvenanceError, match="no signed checkpoint covers entry 2"):
        log.proof_bundle(2)
    log.checkpoint(signer)
    bundle = log.proof_bundle(2, from_size=1)
    assert bundle["index"] == 2 and bundle["tree_size"] == 4
    assert bundle["consistency"]["from_size"] == 1


def test_a_file_that_is_not_a_log_is_refused(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(ProvenanceError, match="not a provenance log"):
        ProvenanceLog(junk)
