"""``fedsift audit``: verify, report, export, prove and checkpoint through typer's CliRunner."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from fedsift import audit_cli
from fedsift.audit_cli import audit_app
from fedsift.privacy import audit
from fedsift.privacy import provenance as pv
from fedsift.privacy.checkpoint import generate_signer
from fedsift.privacy.provenance import ProvenanceLog, load_events

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setattr(audit_cli, "console", Console(width=300, color_system=None))


def _sample(cid: str, device: str, rnd: int, consent: str | None = "granted", release: bool = True,
            label: bool = True) -> list[tuple[str, dict]]:
    ev = [(pv.LABEL_REQUEST, {"candidate_id": cid, "device_id": device, "round": rnd})]
    if consent:
        ev.append((pv.CONSENT_DECISION, {"candidate_id": cid, "device_id": device, "decision": consent,
                                         "scope": "label"}))
    ev.append((pv.MASKING_REPORT, {"candidate_id": cid, "device_id": device, "entities": {"PERSON": 2},
                                   "masker": "presidio"}))
    if release:
        ev.append((pv.RELEASE, {"candidate_id": cid, "device_id": device, "round": rnd}))
    if label:
        ev.append((pv.LABEL_RECEIVED, {"candidate_id": cid, "label": "cat"}))
    return ev


@pytest.fixture
def scenario(tmp_path) -> tuple[Path, Path]:
    """A round with a clean sample, a release without consent, a label without release, and
    a sample whose consent is withdrawn before training."""
    log_path, key_path = tmp_path / "prov.db", tmp_path / "log.key"
    signer = generate_signer(key_path, pv.DEFAULT_ORIGIN)
    with ProvenanceLog(log_path) as plog:
        plog.append(pv.ROUND_STARTED, {"round": 1})
        plog.append_many(_sample("c-good", "dev-a", 1))
        plog.append_many(_sample("c-noconsent", "dev-a", 1, consent=None))
        plog.append_many(_sample("c-norelease", "dev-b", 1, release=False))
        plog.append_many(_sample("c-withdrawn", "dev-b", 1))
        plog.append(pv.LABELS_DELIVERED, {"device_id": "dev-a", "round": 1,
                                          "candidate_ids": ["c-good", "c-noconsent"]})
        plog.append(pv.LABELS_DELIVERED, {"device_id": "dev-b", "round": 1, "candidate_ids": ["c-withdrawn"]})
        plog.append(pv.CONSENT_DECISION, {"candidate_id": "c-withdrawn", "device_id": "dev-b",
                                          "decision": "withdrawn", "scope": "train"})
        plog.append(pv.TRAINING_AGGREGATED, {"round": 1, "model_version": "v2"})
        plog.append_many(_sample("c-late", "dev-a", 2))
        plog.checkpoint(signer)
    return log_path, key_path


def _invoke(*args: str):
    return runner.invoke(audit_app, [str(a) for a in args])


def test_verify_intact_log_exits_zero(scenario):
    log_path, key_path = scenario
    result = _invoke("verify", "--log", log_path, "--pubkey", f"{key_path}.pub")
    assert result.exit_code == 0, result.output
    assert "intact" in result.output and "NOT" not in result.output


def test_verify_tampered_log_exits_one_naming_the_entry(scenario):
    log_path, key_path = scenario
    con = sqlite3.connect(log_path)
    con.execute("DROP TRIGGER entries_no_update")
    con.execute("UPDATE entries SET entry = replace(entry, 'dev-a', 'dev-z') WHERE idx = 3")
    con.commit()
    con.close()
    result = _invoke("verify", "--log", log_path, "--pubkey", f"{key_path}.vkey")
    assert result.exit_code == 1
    assert "NOT intact" in result.output and "first bad entry: 3" in result.output


def test_verify_with_trusted_catches_rollback(tmp_path, scenario):
    log_path, key_path = scenario
    older = log_path.read_bytes()
    with ProvenanceLog(log_path) as plog:
        plog.append(pv.EVALUATION, {"model_version": "v2", "accuracy_ppm": 912000})
    trusted = tmp_path / "trusted.note"
    signed = _invoke("checkpoint", "--log", log_path, "--key", key_path, "--out", trusted)
    assert signed.exit_code == 0, signed.output
    ok = _invoke("verify", "--log", log_path, "--pubkey", f"{key_path}.pub", "--trusted", trusted)
    assert ok.exit_code == 0, ok.output
    log_path.write_bytes(older)  # roll back to the older, validly signed file
    assert _invoke("verify", "--log", log_path, "--pubkey", f"{key_path}.pub").exit_code == 0
    rolled = _invoke("verify", "--log", log_path, "--pubkey", f"{key_path}.pub", "--trusted", trusted)
    assert rolled.exit_code == 1 and "rolled back" in rolled.output


def test_verify_bad_key_file_exits_two(tmp_path, scenario):
    log_path, _ = scenario
    bad = tmp_path / "bad.pub"
    bad.write_text("not a key")
    result = _invoke("verify", "--log", log_path, "--pubkey", bad)
    assert result.exit_code == 2 and "error" in result.output


def test_report_shows_trails_and_flags_policy_breaches(scenario):
    log_path, _ = scenario
    result = _invoke("report", "--log", log_path)
    assert result.exit_code == 0, result.output
    assert "c-good" in result.output and "granted:label" in result.output and "PERSON×2" in result.output
    for rule in (audit.RELEASE_WITHOUT_CONSENT, audit.LABEL_WITHOUT_RELEASE, audit.TRAINED_AFTER_WITHDRAWAL):
        assert rule in result.output
    assert _invoke("report", "--log", log_path, "--strict").exit_code == 1


def test_report_filters_by_round_and_device(scenario):
    log_path, _ = scenario
    by_round = _invoke("report", "--log", log_path, "--round", "2")
    assert "c-late" in by_round.output and "c-good" not in by_round.output
    assert "no findings" in by_round.output
    by_device = _invoke("report", "--log", log_path, "--device", "dev-b")
    assert "c-withdrawn" in by_device.output and "c-good" not in by_device.output
    assert audit.RELEASE_WITHOUT_CONSENT not in by_device.output


def test_policy_findings_name_sample_and_entry(scenario):
    log_path, _ = scenario
    findings = audit.check_policy(load_events(log_path))
    assert [(f.rule, f.candidate_id) for f in findings] == [
        (audit.RELEASE_WITHOUT_CONSENT, "c-noconsent"),
        (audit.LABEL_WITHOUT_RELEASE, "c-norelease"),
        (audit.TRAINED_AFTER_WITHDRAWAL, "c-withdrawn"),
    ]
    trails = {t.candidate_id: t for t in audit.build_trails(load_events(log_path))}
    assert trails["c-good"].model_versions == ["v2"] and trails["c-late"].model_versions == []
    assert trails["c-norelease"].released_at is None


def test_refused_or_expired_consent_is_flagged():
    def entry(i, kind, payload, time="2026-01-02T00:00:00.000000Z"):
        return pv.Entry(i, kind, payload, time, b"")

    events = [
        entry(0, pv.CONSENT_DECISION, {"candidate_id": "a", "decision": "refused"}),
        entry(1, pv.RELEASE, {"candidate_id": "a"}),
        entry(2, pv.CONSENT_DECISION, {"candidate_id": "b", "decision": "granted",
                                       "expires": "2026-01-01T00:00:00Z"}),
        entry(3, pv.RELEASE, {"candidate_id": "b"}),
    ]
    messages = [f.message for f in audit.check_policy(events)]
    assert "latest consent is 'refused'" in messages[0] and "consent expired" in messages[1]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "html"])
def test_export_formats(tmp_path, scenario, fmt):
    log_path, _ = scenario
    out = tmp_path / f"events.{fmt}"
    result = _invoke("export", "--log", log_path, "--format", fmt, "--out", out)
    assert result.exit_code == 0, result.output
    events = load_events(log_path)
    text = out.read_bytes()
    if fmt == "jsonl":
        assert text.splitlines() == [e.data for e in events]
    elif fmt == "csv":
        lines = text.decode().splitlines()
        assert lines[0] == "index,time,kind,round,device_id,candidate_id,payload" and len(lines) == len(events) + 1
    else:
        assert text.startswith(b"<!DOCTYPE html>") and text.count(b"<tr>") == len(events) + 1


def test_export_unknown_format_fails(tmp_path, scenario):
    result = _invoke("export", "--log", scenario[0], "--format", "xml", "--out", tmp_path / "x")
    assert result.exit_code == 2 and "xml" in result.output


def test_prove_writes_a_bundle_that_verifies(tmp_path, scenario):
    log_path, key_path = scenario
    out = tmp_path / "proof.json"
    result = _invoke("prove", "--log", log_path, "--entry", "4", "--out", out)
    assert result.exit_code == 0, result.output
    bundle = json.loads(out.read_text())
    assert {"entry", "index", "tree_size", "inclusion_path", "checkpoint"} <= set(bundle)
    ok = _invoke("verify", "--bundle", out, "--pubkey", f"{key_path}.pub")
    assert ok.exit_code == 0, ok.output
    bundle["index"] = 5
    out.write_text(json.dumps(bundle))
    bad = _invoke("verify", "--bundle", out, "--pubkey", f"{key_path}.pub")
    assert bad.exit_code == 1 and "NOT intact" in bad.output


def test_prove_to_stdout_is_plain_json(scenario):
    result = _invoke("prove", "--log", scenario[0], "--entry", "0")
    assert result.exit_code == 0
    assert json.loads(result.output)["index"] == 0


def test_checkpoint_signs_and_stores_a_note(scenario):
    log_path, key_path = scenario
    with ProvenanceLog(log_path) as plog:
        plog.append(pv.EVALUATION, {"model_version": "v2", "accuracy_ppm": 900000})
    result = _invoke("checkpoint", "--log", log_path, "--key", key_path)
    assert result.exit_code == 0, result.output
    lines = result.output.split("\n")
    assert lines[0] == pv.DEFAULT_ORIGIN and lines[1] == str(len(load_events(log_path)))
    assert lines[4].startswith("\u2014 ")
    with ProvenanceLog(log_path) as plog:
        assert plog.latest_checkpoint() == result.output
