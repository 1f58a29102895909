"""One SQLite transaction on an autocommit connection, for every store of fedsift.

The stores open their connections with ``isolation_level=None`` (autocommit), under
which ``with connection:`` commits statement by statement; a write of several rows must
name its transaction. Standard library only: the device, the server and the provenance
log all use it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` when the block raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class SchemaMismatch(Exception):
    """The file holds an SQLite database, but not this store's schema version."""

    def __init__(self, found: int, tables: list[str]) -> None:
        super().__init__(f"schema version {found}, tables {tables[:5]}")
        self.found, self.tables = found, tables


def sql_statements(script: str) -> list[str]:
    """Split a schema script into its statements (``sqlite3.complete_statement`` decides)."""
    statements, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            statements.append(buf.strip())
            buf = ""
    rest = "\n".join(line for line in buf.splitlines() if not line.strip().startswith("--")).strip()
    if rest:
        raise ValueError(f"schema script ends inside a statement: {rest[:80]!r}")
    return statements


def ensure_schema(db: sqlite3.Connection, script: str, version: int) -> None:
    """Create ``script``'s tables and stamp ``PRAGMA user_version`` in one transaction.

    ``executescript`` commits statement by statement, so a process opening a store while
    another one creates it could see tables without the version stamp and refuse a file
    that is in fact ours. Here a reader sees either nothing or the whole stamped schema.
    A database with another version, or with tables but no stamp, raises
    :class:`SchemaMismatch`.
    """
    with transaction(db):
        found = int(db.execute("PRAGMA user_version").fetchone()[0])
        tables = sorted(t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
        if found != version and (found != 0 or tables):
            raise SchemaMismatch(found, tables)
        for statement in sql_statements(script):
            db.execute(statement)
        if found != version:
            db.execute(f"PRAGMA user_version = {int(version)}")
