"""``fedsift mask``: mask PII in text on stdin with the device's policy, JSONL on stdout.

Mounted by ``fedsift/cli.py`` as ``app.command("mask")(mask_command)``. Each input line
(plain text, or with ``--jsonl`` a JSON object with a ``text`` field) gives one output
line ``{"masked": ..., "entities": {TYPE: count}}``; a line that cannot be processed
gives ``{"line": N, "error": ...}`` and the next line is processed. Exit status 1 when
any line failed, 2 for a bad policy or key file.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any, Optional

import typer

from fedsift.offline import apply_offline_environment


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _load_policy(path: Optional[Path]) -> Any:
    from fedsift.privacy.masking import MaskingPolicy

    if path is None:
        return MaskingPolicy()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    table = data.get("masking", data)
    if not isinstance(table, dict):
        raise ValueError(f"policy {path}: [masking] must be a table")
    return MaskingPolicy.from_dict(table)


def _out(record: dict[str, Any]) -> None:
    # ensure_ascii: lone surrogates from odd input stay valid JSON.
    sys.stdout.write(json.dumps(record, ensure_ascii=True) + "\n")


def mask_command(
    jsonl: bool = typer.Option(False, "--jsonl", help="input lines are JSON objects with a text field"),
    field: str = typer.Option("text", "--field", help="JSONL field holding the text"),
    policy: Optional[Path] = typer.Option(None, "--policy", exists=True, dir_okay=False,
                                          help="TOML file with a [masking] table (MaskingPolicy fields)"),
    key_file: Optional[Path] = typer.Option(None, "--key-file", dir_okay=False,
                                            help="device pseudonym key (needed by the 'hash' action)"),
) -> None:
    """Mask PII in each line of stdin; write {"masked", "entities"} JSONL to stdout."""
    apply_offline_environment()
    from fedsift.privacy.errors import PrivacyError
    from fedsift.privacy.masking import Masker
    from fedsift.privacy.pseudonym import Pseudonymizer

    try:
        pol = _load_policy(policy)
        hash_key = Pseudonymizer(key_file, create=False).derive_key("masking-hash") if key_file else None
        masker = Masker(pol, hash_key=hash_key)
    except (PrivacyError, ValueError, OSError, tomllib.TOMLDecodeError) as exc:
        raise _fail(str(exc)) from None

    failed = 0
    stdin = getattr(sys.stdin, "buffer", sys.stdin)  # bytes when available (odd encodings)
    for number, raw in enumerate(stdin, start=1):
        # Undecodable bytes become U+FFFD: the line is still masked, never echoed raw.
        line = (raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw).rstrip("\r\n")
        try:
            if jsonl:
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as exc:
                    raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
                if not isinstance(obj, dict) or not isinstance(obj.get(field), str):
                    raise ValueError(f"expected a JSON object with a string {field!r} field")
                text = obj[field]
            else:
                text = line
            masked, counts = masker.mask_text(text, field_name=field if jsonl else "text")
            _out({"masked": masked, "entities": counts})
        except (ValueError, PrivacyError) as exc:
            failed += 1
            _out({"line": number, "error": f"line {number}: {exc}"})
    sys.stdout.flush()
    if failed:
        typer.echo(f"{failed} line(s) failed", err=True)
        raise typer.Exit(1)
