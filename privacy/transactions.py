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
