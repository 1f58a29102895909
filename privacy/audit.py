"""The privacy officer's reading of a provenance log: per-sample trails, policy findings, exports.

A trail follows one released sample: label_request → consent_decision → masking_report →
release → label_received → labels_delivered → training_aggregated (model version). The
policy checks flag a release without a granted, unexpired consent, a label without a
release, and training on a label whose consent was withdrawn before the training event.
Payload fields are those documented in :mod:`fedsift.privacy.provenance`. Candidate ids
are pseudonymous and unique across devices, so events are matched on ``candidate_id``.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from pathlib import Path

from fedsift.privacy import provenance as pv
from fedsift.privacy.errors import ProvenanceError, TamperError
from fedsift.privacy.provenance import Entry
from fedsift.privacy.verifier import VerifierKey, VerifyResult, verify_log

RELEASE_WITHOUT_CONSENT = "release_without_consent"
LABEL_WITHOUT_RELEASE = "label_without_release"
TRAINED_AFTER_WITHDRAWAL = "trained_after_withdrawal"
EXPORT_FORMATS = ("csv", "jsonl", "html")


@dataclass
class SampleTrail:
    """What happened to one candidate sample; ``*_at`` fields are event indices."""

    candidate_id: str
    device_id: str | None = None
    round: int | None = None
    requested_at: int | None = None
    consent: str | None = None
    consent_at: int | None = None
    masking: str | None = None
    released_at: int | None = None
    labeled_at: int | None = None
    delivered_at: int | None = None
    model_versions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PolicyFinding:
    """A broken rule: which, for which sample, at which event, and why."""

    rule: str
    candidate_id: str
    entry: int
    message: str


def _cid(e: Entry) -> str | None:
    cid = e.payload.get(pv.CANDIDATE_ID)
    return cid if isinstance(cid, str) else None


def build_trails(entries: Sequence[Entry], round: int | None = None,
                 device: str | None = None) -> list[SampleTrail]:
    """One trail per candidate that was requested or released, in order of first mention.

    Parameters
    ----------
    entries : sequence of Entry
        The log's events in index order.
    round : int, optional
        Keep only samples requested or released in this round.
    device : str, optional
        Keep only samples of this device.

    Returns
    -------
    list[SampleTrail]
        The trails.
    """
    trails: dict[str, SampleTrail] = {}
    delivered: list[str] = []
    per_sample = (pv.LABEL_REQUEST, pv.CONSENT_DECISION, pv.MASKING_REPORT, pv.RELEASE, pv.LABEL_RECEIVED)
    for e in entries:
        p, cid = e.payload, _cid(e)
        if e.kind in per_sample and cid is not None:
            t = trails.setdefault(cid, SampleTrail(cid))
            t.device_id = p.get(pv.DEVICE_ID, t.device_id)
            if e.kind == pv.LABEL_REQUEST:
                t.requested_at, t.round = e.index, p.get(pv.ROUND, t.round)
            elif e.kind == pv.CONSENT_DECISION:
                t.consent, t.consent_at = f"{p.get(pv.DECISION)}:{p.get(pv.SCOPE, 'label')}", e.index
            elif e.kind == pv.MASKING_REPORT:
                ents = p.get("entities") or {}
                t.masking = ", ".join(f"{k}×{v}" for k, v in sorted(ents.items())) or "nothing found"
            elif e.kind == pv.RELEASE:
                t.released_at, t.round = e.index, p.get(pv.ROUND, t.round)
            else:
                t.labeled_at = e.index
        elif e.kind == pv.LABELS_DELIVERED:
            for c in p.get(pv.CANDIDATE_IDS, []):
                if c in trails:
                    trails[c].delivered_at = e.index
                    delivered.append(c)
        elif e.kind == pv.TRAINING_AGGREGATED:
            version = str(p.get(pv.MODEL_VERSION))
            for c in p.get(pv.CANDIDATE_IDS, delivered):
                if c in trails and version not in trails[c].model_versions:
                    trails[c].model_versions.append(version)
    out = [t for t in trails.values() if t.requested_at is not None or t.released_at is not None]
    if round is not None:
        out = [t for t in out if t.round == round]
    if device is not None:
        out = [t for t in out if t.device_id == device]
    return out


def check_policy(entries: Sequence[Entry]) -> list[PolicyFinding]:
    """Flag releases without consent, labels without release, training after withdrawal.

    Parameters
    ----------
    entries : sequence of Entry
        The log's events in index order.

    Returns
    -------
    list[PolicyFinding]
        Findings in event order; empty when the log keeps every rule.
    """
    consent: dict[str, Entry] = {}  # latest consent decision per candidate
    withdrawn: dict[str, int] = {}
    released: set[str] = set()
    delivered: list[str] = []
    findings: list[PolicyFinding] = []
    for e in entries:
        p, cid = e.payload, _cid(e)
        if e.kind == pv.CONSENT_DECISION and cid is not None:
            consent[cid] = e
            if p.get(pv.DECISION) == pv.WITHDRAWN:
                withdrawn.setdefault(cid, e.index)
        elif e.kind == pv.RELEASE and cid is not None:
            c = consent.get(cid)
            expires = c.payload.get("expires") if c else None
            if c is None or c.payload.get(pv.DECISION) != pv.GRANTED:
                why = "no consent decision" if c is None else f"latest consent is {c.payload.get(pv.DECISION)!r}"
                findings.append(PolicyFinding(RELEASE_WITHOUT_CONSENT, cid, e.index,
                                              f"release of {cid} at entry {e.index}: {why}"))
            elif isinstance(expires, str) and expires < e.time:
                findings.append(PolicyFinding(RELEASE_WITHOUT_CONSENT, cid, e.index,
                                              f"release of {cid} at entry {e.index}: consent expired {expires}"))
            released.add(cid)
        elif e.kind == pv.LABEL_RECEIVED and cid is not None and cid not in released:
            findings.append(PolicyFinding(LABEL_WITHOUT_RELEASE, cid, e.index,
                                          f"label for {cid} at entry {e.index} but the sample was never released"))
        elif e.kind == pv.LABELS_DELIVERED:
            delivered.extend(c for c in p.get(pv.CANDIDATE_IDS, []) if isinstance(c, str))
        elif e.kind == pv.TRAINING_AGGREGATED:
            for c in dict.fromkeys(p.get(pv.CANDIDATE_IDS, delivered)):
                if c in withdrawn:
                    findings.append(PolicyFinding(
                        TRAINED_AFTER_WITHDRAWAL, c, e.index,
                        f"model {p.get(pv.MODEL_VERSION)} trained at entry {e.index} on the label of {c}, "
                        f"whose consent was withdrawn at entry {withdrawn[c]}"))
    return findings


def require_intact(path: str | Path, key: VerifierKey, trusted: str | None = None) -> VerifyResult:
    """Verify a log file with the standalone verifier; raise unless it is intact.

    Parameters
    ----------
    path : str or Path
        The provenance log.
    key : VerifierKey
        The log's checkpoint key.
    trusted : str, optional
        An older signed checkpoint the log must still extend.

    Returns
    -------
    VerifyResult
        The (successful) result.

    Raises
    ------
    TamperError
        Naming the first bad entry, when known, and every problem found.
    """
    result = verify_log(path, key, trusted=trusted)
    if not result.ok:
        where = "" if result.first_bad_entry is None else f" (first bad entry: {result.first_bad_entry})"
        raise TamperError(f"{path}: provenance log does not verify{where}: {'; '.join(result.problems)}")
    return result


def _flat(e: Entry) -> dict[str, object]:
    p = e.payload
    return {"index": e.index, "time": e.time, "kind": e.kind, "round": p.get(pv.ROUND, ""),
            "device_id": p.get(pv.DEVICE_ID, ""), "candidate_id": p.get(pv.CANDIDATE_ID, ""),
            "payload": json.dumps(p, sort_keys=True, separators=(",", ":"), ensure_ascii=False)}


def export_events(entries: Sequence[Entry], fmt: str) -> bytes:
    """Render events as CSV, JSON lines (the exact stored bytes) or a standalone HTML table.

    Parameters
    ----------
    entries : sequence of Entry
        Events to export.
    fmt : str
        ``csv``, ``jsonl`` or ``html``.

    Returns
    -------
    bytes
        The file content (UTF-8).
    """
    if fmt == "jsonl":
        return b"".join(e.data + b"\n" for e in entries)
    rows = [_flat(e) for e in entries]
    cols = ["index", "time", "kind", "round", "device_id", "candidate_id", "payload"]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue().encode("utf-8")
    if fmt == "html":
        head = "".join(f"<th>{c}</th>" for c in cols)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r[c]))}</td>" for c in cols) + "</tr>\n"
                       for r in rows)
        return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>fedsift provenance</title>"
                f"</head><body><table>\n<tr>{head}</tr>\n{body}</table></body></html>\n").encode("utf-8")
    raise ProvenanceError(f"export format {fmt!r} is unknown (allowed: {', '.join(EXPORT_FORMATS)})")
