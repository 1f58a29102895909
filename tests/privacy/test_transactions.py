"""Schema creation is one transaction: a concurrent reader never sees half a store."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from fedsift.client.labels import DeviceStore, DeviceStoreError
from fedsift.privacy.errors import ProvenanceError
from fedsift.privacy.provenance import ProvenanceLog
from fedsift.privacy.transactions import SchemaMismatch, ensure_schema, sql_statements
from fedsift.server.errors import StateError
from fedsift.server.state import CampaignState

_SCRIPT = """
CREATE TABLE IF NOT EXISTS a (x INTEGER);  -- a comment after the statement
CREATE TABLE IF NOT EXISTS b (y TEXT);
CREATE TRIGGER IF NOT EXISTS a_no_delete BEFORE DELETE ON a
    BEGIN SELECT RAISE(ABORT, 'no; never'); END;
-- a closing comment
"""


def test_sql_statements_splits_on_whole_statements_only() -> None:
    statements = sql_statements(_SCRIPT)
    assert [s.split()[1] for s in statements] == ["TABLE", "TABLE", "TRIGGER"]
    assert statements[2].endswith("END;")
    with pytest.raises(ValueError, match="ends inside a statement"):
        sql_statements("CREATE TABLE a (x INTEGER);\nCREATE TABLE b (y")


def test_ensure_schema_stamps_the_version_with_the_tables(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    ensure_schema(db, _SCRIPT, 7)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 7
    ensure_schema(db, _SCRIPT, 7)  # reopening our own store is a no-op
    with pytest.raises(SchemaMismatch) as info:
        ensure_schema(db, _SCRIPT, 8)
    assert info.value.found == 7 and info.value.tables == ["a", "b"]
    foreign = sqlite3.connect(tmp_path / "f.db", isolation_level=None)
    foreign.execute("CREATE TABLE samples (id TEXT)")
    with pytest.raises(SchemaMismatch) as info:
        ensure_schema(foreign, _SCRIPT, 7)
    assert (info.value.found, info.value.tables) == (0, ["samples"])


@pytest.mark.parametrize("opener, error", [
    (CampaignState, StateError),
    (DeviceStore, DeviceStoreError),
    (ProvenanceLog, ProvenanceError),
])
def test_a_reader_racing_the_creator_never_sees_half_a_store(tmp_path: Path, opener, error) -> None:
    """The failure CI once hit: a reader saw the tables before the version stamp and refused the file."""
    failures: list[BaseException] = []
    for attempt in range(30):  # bounded: 30 fresh files, each created while a reader polls it
        path = tmp_path / f"store{attempt}.db"
        start, stop = threading.Event(), threading.Event()

        def read() -> None:
            start.wait()
            while not stop.is_set():
                if not path.exists():
                    continue
                try:
                    opener(path).__exit__(None, None, None)
                except (error, sqlite3.OperationalError) as exc:
                    if "locked" not in str(exc):  # a busy file under load is not what this test is about
                        failures.append(exc)
                        return

        reader = threading.Thread(target=read)
        reader.start()
        start.set()
        try:
            for _ in range(50):  # bounded: under load the first open can meet SQLITE_BUSY, as the reader can
                try:
                    opener(path).__exit__(None, None, None)
                    break
                except (error, sqlite3.OperationalError) as exc:
                    if "locked" not in str(exc):
                        raise
            else:
                pytest.fail(f"{path}: still locked after 50 tries")
        finally:
            stop.set()
            reader.join(timeout=30)
        assert not reader.is_alive()
    assert failures == []


def test_a_provenance_log_held_by_another_writer_is_reported_as_locked_not_foreign(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    ProvenanceLog(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(ProvenanceError, match="locked by another writer"):
            ProvenanceLog(path)  # waits out sqlite3's default 5 s busy timeout, then names the cause
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    ProvenanceLog(path).close()  # and the log itself is fine
