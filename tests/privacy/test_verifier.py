"""The standalone verifier: intact logs pass; every kind of tampering is caught and named."""

from __future__ import annotations

import ast
import base64
import json
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import fedsift.privacy.verifier as verifier
from fedsift.privacy import provenance as pv
from fedsift.privacy.audit import require_intact
from fedsift.privacy.checkpoint import (
    CheckpointSigner,
    checkpoint_text,
    generate_signer,
    load_signer,
    sign_note,
    vkey,
)
from fedsift.privacy.errors import ProvenanceError, TamperError
from fedsift.privacy.provenance import ProvenanceLog
from fedsift.privacy.verifier import (
    VerifierKey,
    VerifyError,
    key_id,
    load_verifier_key,
    open_checkpoint,
    open_note,
    verify_bundle,
    verify_log,
)

# The signed-note example of golang.org/x/mod/sumdb/note (note.go package doc and
# note_test.go), also quoted by the C2SP signed-note implementations: key pair, text and
# the published note. Ed25519 is deterministic, so our signer must reproduce it exactly.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + ("\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
                     "KvqfqdngotpRZb6KE6RyyBwJnAM=\n")


@pytest.fixture
def signer(tmp_path) -> CheckpointSigner:
    return generate_signer(tmp_path / "log.key", pv.DEFAULT_ORIGIN)


@pytest.fixture
def key(signer) -> VerifierKey:
    return signer.verifier_key


def _fill(plog: ProvenanceLog, start: int, n: int) -> None:
    plog.append_many([(pv.LABEL_REQUEST, {"candidate_id": f"c{i}", "device_id": "dev-1", "round": i // 5})
                      for i in range(start, start + n)])


@pytest.fixture
def logged(tmp_path, signer) -> Path:
    """A log of 20 events with a signed checkpoint at size 20."""
    path = tmp_path / "prov.db"
    with ProvenanceLog(path) as plog:
        _fill(plog, 0, 20)
        plog.checkpoint(signer)
    return path


def _tamper(path: Path, *sql: tuple) -> None:
    """What an attacker with file access does: drop the append-only triggers, then edit."""
    con = sqlite3.connect(path)
    con.execute("DROP TRIGGER entries_no_update")
    con.execute("DROP TRIGGER entries_no_delete")
    for statement in sql:
        con.execute(*statement)
    con.commit()
    con.close()


def _entry(path: Path, i: int) -> bytes:
    con = sqlite3.connect(path)
    (data,) = con.execute("SELECT entry FROM entries WHERE idx = ?", (i,)).fetchone()
    con.close()
    return data


# --- the module stands alone ---------------------------------------------------------


def test_verifier_imports_only_stdlib_and_cryptography():
    tree = ast.parse(Path(verifier.__file__).read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import in the standalone verifier"
            roots.add(node.module.split(".")[0])
    allowed = set(sys.stdlib_module_names) | {"cryptography", "__future__"}
    assert roots <= allowed, roots - allowed


def test_verifier_stays_small():
    assert len(Path(verifier.__file__).read_text().splitlines()) <= 400


# --- signed notes and keys -----------------------------------------------------------


def test_signer_reproduces_the_published_go_note(tmp_path):
    (tmp_path / "skey").write_text(GO_SKEY)
    signer = load_signer(tmp_path / "skey")
    assert signer.name == "PeterNeumann"
    assert key_id("PeterNeumann", signer.public_key).hex() == "c74f20a3"
    assert vkey("PeterNeumann", signer.public_key) == GO_VKEY
    assert sign_note(GO_TEXT, signer) == GO_NOTE


def test_published_go_note_opens_with_its_vkey(tmp_path):
    (tmp_path / "vkey").write_text(GO_VKEY + "\n")
    key = load_verifier_key(tmp_path / "vkey")
    assert open_note(GO_NOTE, key) == GO_TEXT
    with pytest.raises(VerifyError, match="does not verify"):
        open_note(GO_NOTE.replace("cryptography", "cryptographY"), key)


def test_signatures_by_unknown_keys_are_ignored(signer, key):
    other = CheckpointSigner("someone.else/witness", Ed25519PrivateKey.generate())
    note = sign_note(checkpoint_text(pv.DEFAULT_ORIGIN, 0, verifier._SHA(b"").digest()), signer)
    cosigned = note + sign_note(note.split("\n\n")[0] + "\n", other).split("\n\n")[1]
    assert open_checkpoint(cosigned, key).size == 0
    with pytest.raises(VerifyError, match="no signature by the given key"):
        open_checkpoint(cosigned, other.verifier_key.__class__(pv.DEFAULT_ORIGIN, other.public_key))


def test_key_files_pem_raw_and_vkey_load_the_same_key(tmp_path, signer):
    raw = tmp_path / "raw.pub"
    raw.write_bytes(signer.public_key.public_bytes_raw())
    base = tmp_path / "log.key"
    keys = [load_verifier_key(p) for p in (Path(f"{base}.pub"), raw, Path(f"{base}.vkey"))]
    assert {k.public_key.public_bytes_raw() for k in keys} == {signer.public_key.public_bytes_raw()}
    assert keys[2].name == pv.DEFAULT_ORIGIN
    assert (base.stat().st_mode & 0o777) == 0o600
    with pytest.raises(ProvenanceError, match="exists"):
        generate_signer(base, "x")


# --- intact logs ---------------------------------------------------------------------


def test_intact_log_verifies(logged, key):
    result = verify_log(logged, key)
    assert result.ok, result.problems
    assert result.size == 20 and result.checkpoint.size == 20 and result.first_bad_entry is None


def test_log_grown_past_its_checkpoint_verifies_the_signed_prefix(logged, key):
    with ProvenanceLog(logged) as plog:
        _fill(plog, 20, 7)
    result = verify_log(logged, key)
    assert result.ok and result.size == 27 and result.checkpoint.size == 20


def test_log_without_checkpoint_is_not_called_intact(tmp_path, key):
    with ProvenanceLog(tmp_path / "p.db") as plog:
        _fill(plog, 0, 3)
    result = verify_log(tmp_path / "p.db", key)
    assert not result.ok and "no signed checkpoint" in result.problems[0]


def test_parallel_path_verifies_and_names_bad_entries(logged, key, monkeypatch):
    monkeypatch.setattr(verifier, "_PARALLEL_FROM", 4)
    assert verify_log(logged, key).ok
    data = _entry(logged, 3).replace(b'"round":0', b'"round": 0')
    _tamper(logged, ("UPDATE entries SET entry = ?, leaf_hash = ? WHERE idx = 3",
                     (data, verifier._SHA(b"\x00" + data).digest())))
    result = verify_log(logged, key)
    assert not result.ok and result.first_bad_entry == 3
    assert "not canonical" in result.problems[0]


# --- tampering -----------------------------------------------------------------------


def test_edited_row_bytes_are_caught_and_named(logged, key):
    data = _entry(logged, 7).replace(b'"dev-1"', b'"dev-9"')
    _tamper(logged, ("UPDATE entries SET entry = ? WHERE idx = 7", (data,)))
    result = verify_log(logged, key)
    assert not result.ok and result.first_bad_entry == 7
    assert any("does not match the entries" in p for p in result.problems)


def test_edited_row_with_its_leaf_hash_rewritten_still_breaks_the_root(logged, key):
    data = _entry(logged, 7).replace(b'"dev-1"', b'"dev-9"')
    _tamper(logged, ("UPDATE entries SET entry = ?, leaf_hash = ? WHERE idx = 7",
                     (data, verifier._SHA(b"\x00" + data).digest())))
    result = verify_log(logged, key)
    assert not result.ok
    assert "checkpoint root at size 20 does not match the entries" in result.problems[0]


def test_deleted_row_is_caught_and_named(logged, key):
    _tamper(logged, ("DELETE FROM entries WHERE idx = 5",))
    result = verify_log(logged, key)
    assert not result.ok and result.first_bad_entry == 5
    assert "breaks the sequence" in result.problems[0]


def test_reordered_rows_are_caught_and_named(logged, key):
    a, b = _entry(logged, 4), _entry(logged, 9)
    ha, hb = verifier._SHA(b"\x00" + a).digest(), verifier._SHA(b"\x00" + b).digest()
    _tamper(logged, ("UPDATE entries SET entry = ?, leaf_hash = ? WHERE idx = 4", (b, hb)),
            ("UPDATE entries SET entry = ?, leaf_hash = ? WHERE idx = 9", (a, ha)))
    result = verify_log(logged, key)
    assert not result.ok and result.first_bad_entry == 4
    assert "index 4" in result.problems[0]


def test_non_canonical_row_is_caught_and_named(logged, key):
    data = _entry(logged, 2).replace(b'"round":0', b'"round":0.0')
    _tamper(logged, ("UPDATE entries SET entry = ?, leaf_hash = ? WHERE idx = 2",
                     (data, verifier._SHA(b"\x00" + data).digest())))
    result = verify_log(logged, key)
    assert not result.ok and result.first_bad_entry == 2


def test_truncated_log_is_caught_with_trusted_checkpoint(logged, key):
    trusted = _latest_note(logged)
    with ProvenanceLog(logged) as plog:
        plog.append(pv.RELEASE, {"candidate_id": "c0", "device_id": "dev-1", "round": 0})
    _tamper(logged, ("DELETE FROM entries WHERE idx >= 15",), ("DELETE FROM checkpoints",))
    with ProvenanceLog(logged) as plog:
        plog.checkpoint(CheckpointSigner(pv.DEFAULT_ORIGIN, _private(logged)))
    assert verify_log(logged, key).ok  # re-signed by the log key: only history shows the cut
    result = verify_log(logged, key, trusted=trusted)
    assert not result.ok
    assert "trusted checkpoint covers 20 entries but the log holds 15" in result.problems[0]


def test_rollback_to_an_older_signed_state_is_caught_with_trusted(tmp_path, logged, signer, key):
    old_copy = tmp_path / "old.db"
    shutil.copy(logged, old_copy)
    with ProvenanceLog(logged) as plog:
        _fill(plog, 20, 5)
        newer = plog.checkpoint(signer)
    shutil.copy(old_copy, logged)  # the attacker restores the older, validly signed file
    for suffix in ("-wal", "-shm"):
        Path(f"{logged}{suffix}").unlink(missing_ok=True)
    assert verify_log(logged, key).ok
    result = verify_log(logged, key, trusted=newer)
    assert not result.ok and "truncated or rolled back" in result.problems[0]
    older = _latest_note(logged)
    assert not verify_log(logged, key, checkpoint=older, trusted=newer).ok


def test_trusted_checkpoint_from_a_forked_history_is_caught(tmp_path, logged, signer, key):
    fork = tmp_path / "fork.db"
    with ProvenanceLog(fork) as plog:
        _fill(plog, 100, 10)
        forked = plog.checkpoint(signer)
    result = verify_log(logged, key, trusted=forked)
    assert not result.ok and "trusted checkpoint root at size 10 does not match" in result.problems[0]


def test_checkpoint_signed_by_the_wrong_key_is_rejected(logged):
    wrong = CheckpointSigner(pv.DEFAULT_ORIGIN, Ed25519PrivateKey.generate())
    result = verify_log(logged, wrong.verifier_key)
    assert not result.ok and "no signature by the given key" in result.problems[0]


def test_checkpoint_with_altered_root_is_rejected(logged, key):
    note = _latest_note(logged)
    root = note.split("\n")[2]
    forged = note.replace(root, base64.b64encode(b"\x00" * 32).decode())
    result = verify_log(logged, key, checkpoint=forged)
    assert not result.ok and "does not verify" in result.problems[0]


def test_checkpoint_with_altered_size_is_rejected(logged, key):
    forged = _latest_note(logged).replace("\n20\n", "\n19\n", 1)
    result = verify_log(logged, key, checkpoint=forged)
    assert not result.ok and "does not verify" in result.problems[0]


def test_checkpoint_signed_by_the_attacker_for_an_altered_log_is_rejected(logged, key):
    attacker = CheckpointSigner(pv.DEFAULT_ORIGIN, Ed25519PrivateKey.generate())
    data = _entry(logged, 0).replace(b'"c0"', b'"cX"')
    _tamper(logged, ("UPDATE entries SET entry = ?, leaf_hash = ? WHERE idx = 0",
                     (data, verifier._SHA(b"\x00" + data).digest())), ("DELETE FROM checkpoints",))
    with ProvenanceLog(logged) as plog:
        plog.checkpoint(attacker)
    result = verify_log(logged, key)
    assert not result.ok and "no signature by the given key" in result.problems[0]


# --- proof bundles -------------------------------------------------------------------


@pytest.fixture
def bundle(logged) -> dict:
    with ProvenanceLog(logged) as plog:
        return plog.proof_bundle(11)


def test_proof_bundle_verifies(bundle, key):
    result = verify_bundle(bundle, key)
    assert result.ok, result.problems


def test_proof_bundle_with_consistency_verifies_against_trusted(tmp_path, logged, signer, key):
    trusted = _latest_note(logged)
    with ProvenanceLog(logged) as plog:
        _fill(plog, 20, 9)
        plog.checkpoint(signer)
        good = plog.proof_bundle(25, from_size=20)
        without = plog.proof_bundle(25)
    assert verify_bundle(good, key, trusted=trusted).ok
    assert not verify_bundle(without, key, trusted=trusted).ok


@pytest.mark.parametrize("mutate", ["entry", "path", "index", "size", "checkpoint", "missing"])
def test_modified_proof_bundle_is_rejected(bundle, key, mutate):
    b = json.loads(json.dumps(bundle))
    if mutate == "entry":
        b["entry"] = base64.b64encode(base64.b64decode(b["entry"]).replace(b"c11", b"c12")).decode()
    elif mutate == "path":
        raw = bytearray(base64.b64decode(b["inclusion_path"][1]))
        raw[0] ^= 1
        b["inclusion_path"][1] = base64.b64encode(bytes(raw)).decode()
    elif mutate == "index":
        b["index"] = 10
    elif mutate == "size":
        b["tree_size"] = 21
    elif mutate == "checkpoint":
        b["checkpoint"] = b["checkpoint"].replace("\n20\n", "\n21\n")
    else:
        del b["inclusion_path"]
    result = verify_bundle(b, key)
    assert not result.ok and result.problems


def _latest_note(path: Path) -> str:
    con = sqlite3.connect(path)
    (note,) = con.execute("SELECT note FROM checkpoints ORDER BY rowid DESC LIMIT 1").fetchone()
    con.close()
    return note


def _private(logged: Path) -> Ed25519PrivateKey:
    return load_signer(logged.parent / "log.key", pv.DEFAULT_ORIGIN).private_key


def test_a_file_that_is_not_a_log_is_a_clear_error(tmp_path, key):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(VerifyError, match="not a readable provenance log"):
        verify_log(junk, key)


def test_forged_trusted_checkpoint_is_reported_as_such(logged, key):
    forged = _latest_note(logged).replace("\n20\n", "\n19\n", 1)
    result = verify_log(logged, key, trusted=forged)
    assert not result.ok and result.problems[0].startswith("trusted checkpoint:")
    assert result.checkpoint is not None and result.checkpoint.size == 20


def test_require_intact_raises_tamper_error_naming_the_entry(logged, key):
    assert require_intact(logged, key).ok
    _tamper(logged, ("DELETE FROM entries WHERE idx = 12",))
    with pytest.raises(TamperError, match="first bad entry: 12"):
        require_intact(logged, key)
