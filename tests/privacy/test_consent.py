"""Consent store: grants per sample or source and scope, expiry, withdrawal, overrides."""

from __future__ import annotations

import sqlite3

import pytest

from fedsift.privacy.consent import ConsentDecision, ConsentStore, Scope
from fedsift.privacy.errors import ConsentError


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def store(tmp_path, clock) -> ConsentStore:
    with ConsentStore(tmp_path / "consent.db", clock=clock) as s:
        yield s


def test_missing_then_granted_per_scope(store):
    assert store.check("s1", "alice", "labeling") == ConsentDecision(False, "missing", "none")
    store.grant(sample_id="s1", scope=Scope.LABELING)
    assert store.check("s1", "alice", "labeling") == ConsentDecision(True, "granted", "sample")
    assert store.check("s1", "alice", "training").reason == "missing"


def test_source_grant_covers_its_samples(store):
    store.grant(source="alice", scope="training")
    assert store.check("s1", "alice", "training") == ConsentDecision(True, "granted", "source")
    assert store.check("s1", "bob", "training").reason == "missing"
    assert store.check("s1", None, "training").reason == "missing"


def test_expiry_with_injected_clock(store, clock):
    store.grant(sample_id="s1", scope="labeling", expires_at=2000.0)
    assert store.check("s1", None, "labeling").granted
    clock.now = 2000.0
    assert store.check("s1", None, "labeling") == ConsentDecision(False, "expired", "sample")
    assert store.check("s1", None, "labeling", now=1999.0).granted


def test_withdrawal(store, clock):
    store.grant(source="alice", scope="labeling")
    clock.now = 1500.0
    assert store.withdraw(source="alice") == 3
    assert store.check("s1", "alice", "labeling").reason == "withdrawn"
    assert store.check("s1", "alice", "labeling", now=1200.0).granted  # before the withdrawal
    store.grant(source="alice", scope="labeling")  # renewed
    assert store.check("s1", "alice", "labeling").granted


def test_sample_level_overrides_source_level_both_ways(store):
    store.grant(source="alice", scope="labeling")
    store.withdraw(sample_id="s1", scope="labeling")
    assert store.check("s1", "alice", "labeling") == ConsentDecision(False, "withdrawn", "sample")
    assert store.check("s2", "alice", "labeling").granted
    store.withdraw(source="bob", scope="labeling")
    store.grant(sample_id="s9", scope="labeling")
    assert store.check("s9", "bob", "labeling") == ConsentDecision(True, "granted", "sample")
    assert store.check("s8", "bob", "labeling").reason == "withdrawn"


def test_expired_sample_grant_is_not_rescued_by_source(store, clock):
    store.grant(source="alice", scope="labeling")
    store.grant(sample_id="s1", scope="labeling", expires_at=1100.0)
    clock.now = 1200.0
    assert store.check("s1", "alice", "labeling") == ConsentDecision(False, "expired", "sample")


def test_persisted_in_wal_mode(tmp_path, clock):
    path = tmp_path / "consent.db"
    with ConsentStore(path, clock=clock) as s:
        s.grant(sample_id="s1", scope="evaluation")
    with ConsentStore(path, clock=clock) as s:
        assert s.check("s1", None, "evaluation").granted
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_errors_name_the_bad_value(store):
    with pytest.raises(ConsentError, match="'marketing'"):
        store.grant(sample_id="s1", scope="marketing")
    with pytest.raises(ConsentError, match="exactly one"):
        store.grant(sample_id="s1", source="alice", scope="labeling")
    with pytest.raises(ConsentError, match="expires_at 10"):
        store.grant(sample_id="s1", scope="labeling", expires_at=10)
    with pytest.raises(ConsentError, match="sample_id"):
        store.check("", None, "labeling")
