"""``fedsift audit``: the privacy officer's commands, a thin face over fedsift.privacy.

verify (standalone verifier), report (per-sample trails and policy findings), export,
prove (a proof bundle for one entry) and checkpoint (sign the log's head now). Mounted by
``fedsift/cli.py`` as ``app.add_typer(audit_app, name="audit")``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from fedsift.privacy import audit
from fedsift.privacy.checkpoint import load_signer
from fedsift.privacy.errors import PrivacyError
from fedsift.privacy.provenance import ProvenanceLog, load_events
from fedsift.privacy.verifier import VerifyError, load_verifier_key, verify_bundle, verify_log

audit_app = typer.Typer(help="Audit the provenance log: verify, report, export, prove, checkpoint.",
                        no_args_is_help=True, add_completion=False)
console = Console()

_LOG = typer.Option(..., "--log", help="provenance log (SQLite file)", exists=True, dir_okay=False)


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _read(path: Optional[Path]) -> Optional[str]:
    return path.read_text(encoding="utf-8") if path is not None else None


@audit_app.command()
def verify(
    log: Optional[Path] = typer.Option(None, "--log", help="provenance log (SQLite file)", exists=True,
                                       dir_okay=False),
    pubkey: Path = typer.Option(..., "--pubkey", help="log public key: PEM, raw 32 bytes or vkey", exists=True),
    trusted: Optional[Path] = typer.Option(None, "--trusted", help="an older checkpoint you kept", exists=True),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="checkpoint to check [default: latest "
                                              "stored in the log]", exists=True),
    bundle: Optional[Path] = typer.Option(None, "--bundle", help="verify this proof bundle instead", exists=True),
) -> None:
    """Recompute the whole tree and check entries, signature and consistency. Exit 1 if not intact."""
    if (log is None) == (bundle is None):
        raise _fail("give exactly one of --log (verify the whole log) or --bundle (verify one proof)")
    try:
        key = load_verifier_key(pubkey)
        if bundle is not None:
            result = verify_bundle(json.loads(bundle.read_text(encoding="utf-8")), key, trusted=_read(trusted))
        else:
            result = verify_log(log, key, checkpoint=_read(checkpoint), trusted=_read(trusted))
    except (VerifyError, ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    if result.ok:
        cp = result.checkpoint
        console.print(f"[bold green]intact[/]: {result.size} entries, root {result.root_hash.hex()}", soft_wrap=True)
        if cp is not None:
            console.print(f"signed checkpoint {cp.origin} at size {cp.size} verifies")
            if cp.size < result.size:
                console.print(f"[yellow]{result.size - cp.size} newer entries are not covered by a checkpoint yet[/]")
        return
    console.print("[bold red]NOT intact[/]")
    if result.first_bad_entry is not None:
        console.print(f"first bad entry: [bold]{result.first_bad_entry}[/]")
    for problem in result.problems:
        console.print(f"  - {problem}")
    raise typer.Exit(1)


@audit_app.command()
def report(
    log: Path = _LOG,
    round: Optional[int] = typer.Option(None, "--round", help="only samples of this round"),
    device: Optional[str] = typer.Option(None, "--device", help="only samples of this device"),
    strict: bool = typer.Option(False, "--strict", help="exit 1 when a policy finding is reported"),
) -> None:
    """Trail per sample (request → consent → masking → release → label → model) and policy findings."""
    try:
        entries = load_events(log)
    except PrivacyError as exc:
        raise _fail(str(exc)) from None
    trails = audit.build_trails(entries, round=round, device=device)
    table = Table(title=f"provenance trail ({len(trails)} samples)", caption="numbers are entry indices",
                  box=box.SIMPLE_HEAD)
    table.add_column("candidate", overflow="fold")
    for col in ("device", "round", "request", "consent", "masking", "release", "label", "model"):
        table.add_column(col)
    dash = lambda v: "-" if v is None else str(v)  # noqa: E731
    for t in trails:
        table.add_row(t.candidate_id, dash(t.device_id), dash(t.round), dash(t.requested_at),
                      "-" if t.consent is None else f"{t.consent} {t.consent_at}", dash(t.masking),
                      dash(t.released_at), dash(t.labeled_at), ", ".join(t.model_versions) or "-")
    console.print(table)
    keep = {t.candidate_id for t in trails}
    findings = [f for f in audit.check_policy(entries)
                if (round is None and device is None) or f.candidate_id in keep]
    if not findings:
        console.print("[bold green]policy: no findings[/]")
        return
    ftable = Table(title=f"policy findings ({len(findings)})", style="red")
    for col in ("rule", "candidate", "entry", "detail"):
        ftable.add_column(col)
    for f in findings:
        ftable.add_row(f.rule, f.candidate_id, str(f.entry), f.message)
    console.print(ftable)
    if strict:
        raise typer.Exit(1)


@audit_app.command()
def export(
    log: Path = _LOG,
    format: str = typer.Option(..., "--format", help="csv, jsonl (exact stored bytes) or html"),
    out: Path = typer.Option(..., "--out", help="file to write", dir_okay=False),
) -> None:
    """Export every event as CSV, JSON lines or an HTML table."""
    try:
        data = audit.export_events(load_events(log), format)
    except PrivacyError as exc:
        raise _fail(str(exc)) from None
    out.write_bytes(data)
    console.print(f"wrote {out} ({format}, {len(data)} bytes)")


@audit_app.command()
def prove(
    log: Path = _LOG,
    entry: int = typer.Option(..., "--entry", help="entry index to prove"),
    out: Optional[Path] = typer.Option(None, "--out", help="write the bundle here [default: stdout]"),
    from_size: Optional[int] = typer.Option(None, "--from-size", help="add a consistency proof from this size"),
) -> None:
    """A JSON proof bundle: entry bytes, inclusion path and the signed checkpoint covering it."""
    try:
        with ProvenanceLog(log) as plog:
            bundle = plog.proof_bundle(entry, from_size=from_size)
    except PrivacyError as exc:
        raise _fail(str(exc)) from None
    text = json.dumps(bundle, indent=2, sort_keys=True) + "\n"
    if out is None:
        typer.echo(text, nl=False)  # raw, so it can be piped into a file unchanged
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote proof of entry {entry} in a tree of {bundle['tree_size']} to {out}")


@audit_app.command()
def checkpoint(
    log: Path = _LOG,
    key: Path = typer.Option(..., "--key", help="signing key: PEM, raw 32-byte seed or PRIVATE+KEY", exists=True),
    name: Optional[str] = typer.Option(None, "--name", help="key name [default: the log's origin]"),
    out: Optional[Path] = typer.Option(None, "--out", help="also write the signed note here"),
) -> None:
    """Sign a checkpoint of the log as it is now; it is stored in the log and printed."""
    try:
        with ProvenanceLog(log) as plog:
            note = plog.checkpoint(load_signer(key, name or plog.origin))
    except (PrivacyError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if out is not None:
        out.write_text(note, encoding="utf-8")
    typer.echo(note, nl=False)  # raw: rich would wrap the long signature line
