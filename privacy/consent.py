"""The device's consent store: who agreed to what, until when (SQLite, WAL).

Consent is granted per sample id or per source (a user, a folder, an app), for one
scope (``labeling``, ``training``, ``evaluation``), optionally until an expiry time,
and can be withdrawn. :meth:`ConsentStore.check` answers for one sample: a record for
the sample itself overrides its source's record either way (a sample-level withdrawal
beats a source grant; a sample-level grant beats a source withdrawal).

Times are POSIX seconds (float). The clock is injectable so tests need not sleep.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from .errors import ConsentError

logger = logging.getLogger(__name__)

MAX_ID_CHARS = 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS consent (
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('sample', 'source')),
    subject      TEXT NOT NULL,
    scope        TEXT NOT NULL,
    granted_at   REAL NOT NULL,
    expires_at   REAL,
    withdrawn_at REAL,
    PRIMARY KEY (subject_kind, subject, scope)
)
"""


class Scope(str, Enum):
    """What a consent covers."""

    LABELING = "labeling"
    TRAINING = "training"
    EVALUATION = "evaluation"


@dataclass(frozen=True)
class ConsentDecision:
    """The answer of :meth:`ConsentStore.check`.

    Attributes
    ----------
    granted : bool
    reason : str
        ``granted``, ``missing``, ``expired`` or ``withdrawn``.
    level : str
        ``sample``, ``source`` or ``none``: which record decided.
    """

    granted: bool
    reason: str
    level: str = "none"


def _scope(value: Scope | str) -> str:
    try:
        return Scope(value).value
    except ValueError:
        raise ConsentError(f"consent scope {value!r} is unknown; allowed: "
                           f"{', '.join(s.value for s in Scope)}") from None


def _id(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_CHARS:
        raise ConsentError(f"consent {name} {value!r:.80}: must be a str of 1 to {MAX_ID_CHARS} characters")
    return value


def _subject(sample_id: str | None, source: str | None) -> tuple[str, str]:
    sample_id, source = _id("sample_id", sample_id), _id("source", source)
    if (sample_id is None) == (source is None):
        raise ConsentError(f"consent subject: give exactly one of sample_id or source "
                           f"(got sample_id={sample_id!r}, source={source!r})")
    return ("sample", sample_id) if sample_id is not None else ("source", source)  # type: ignore[return-value]


class ConsentStore:
    """Consent records in one SQLite file (WAL, synchronous FULL: a withdrawal survives power loss).

    Parameters
    ----------
    path : str or Path
        Database file; ``":memory:"`` for tests.
    clock : callable, optional
        Returns the current POSIX time; defaults to :func:`time.time`.
    """

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time) -> None:
        self.path = str(path)
        self._clock = clock
        self._lock = threading.Lock()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ConsentError(f"consent store {self.path}: cannot open: {exc}") from exc

    def grant(self, *, scope: Scope | str, sample_id: str | None = None, source: str | None = None,
              expires_at: float | None = None, granted_at: float | None = None) -> None:
        """Record (or renew) a consent; a renewal clears an earlier withdrawal.

        Parameters
        ----------
        scope : Scope or str
        sample_id, source : str, optional
            Exactly one of them.
        expires_at : float, optional
            POSIX time after which the consent no longer holds; None = no expiry.
        granted_at : float, optional
            Defaults to the store's clock.
        """
        kind, subject = _subject(sample_id, source)
        scope_value = _scope(scope)
        at = self._clock() if granted_at is None else float(granted_at)
        if expires_at is not None and float(expires_at) <= at:
            raise ConsentError(f"consent expires_at {expires_at!r}: must be after granted_at {at!r}")
        with self._lock:
            self._db.execute(
                "INSERT INTO consent VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (subject_kind, subject, scope) "
                "DO UPDATE SET granted_at = excluded.granted_at, expires_at = excluded.expires_at, "
                "withdrawn_at = NULL",
                (kind, subject, scope_value, at, None if expires_at is None else float(expires_at)))
        logger.info("consent granted: %s scope=%s until=%s", kind, scope_value, expires_at)

    def withdraw(self, *, sample_id: str | None = None, source: str | None = None,
                 scope: Scope | str | None = None, at: float | None = None) -> int:
        """Withdraw consent for one scope, or every scope when ``scope`` is None.

        A withdrawal is itself a record: withdrawing a sample whose consent came from
        its source stores a sample-level withdrawal that overrides the source's grant.

        Returns
        -------
        int
            Number of scopes withdrawn.
        """
        kind, subject = _subject(sample_id, source)
        scopes = [s.value for s in Scope] if scope is None else [_scope(scope)]
        when = self._clock() if at is None else float(at)
        with self._lock:
            for s in scopes:
                self._db.execute(
                    "INSERT INTO consent VALUES (?, ?, ?, ?, NULL, ?) ON CONFLICT (subject_kind, subject, scope) "
                    "DO UPDATE SET withdrawn_at = excluded.withdrawn_at",
                    (kind, subject, s, when, when))
        logger.info("consent withdrawn: %s scopes=%s", kind, ",".join(scopes))
        return len(scopes)

    def check(self, sample_id: str, source: str | None, scope: Scope | str,
              now: float | None = None) -> ConsentDecision:
        """Whether ``sample_id`` (from ``source``) may be used for ``scope`` at ``now``.

        Parameters
        ----------
        sample_id : str
        source : str or None
            The sample's source, if it has one.
        scope : Scope or str
        now : float, optional
            Defaults to the store's clock.

        Returns
        -------
        ConsentDecision
            ``withdrawn`` when the deciding record was withdrawn at or before ``now``,
            ``expired`` when its expiry is at or before ``now``, ``missing`` when
            neither the sample nor its source has a record granted by ``now``.
        """
        scope_value = _scope(scope)
        when = self._clock() if now is None else float(now)
        subjects = [("sample", _id("sample_id", sample_id))]
        if source is not None:
            subjects.append(("source", _id("source", source)))
        with self._lock:
            for kind, subject in subjects:
                row = self._db.execute(
                    "SELECT granted_at, expires_at, withdrawn_at FROM consent "
                    "WHERE subject_kind = ? AND subject = ? AND scope = ?", (kind, subject, scope_value)).fetchone()
                if row is None:
                    continue
                granted_at, expires_at, withdrawn_at = row
                if withdrawn_at is not None and withdrawn_at <= when:
                    return ConsentDecision(False, "withdrawn", kind)
                if granted_at > when:
                    continue  # not yet granted at `now`: as if absent
                if expires_at is not None and expires_at <= when:
                    return ConsentDecision(False, "expired", kind)
                return ConsentDecision(True, "granted", kind)
        return ConsentDecision(False, "missing", "none")

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> ConsentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
