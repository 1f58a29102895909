"""``fedsift mask`` (mask_command) through typer's CliRunner."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from fedsift.mask_cli import mask_command

app = typer.Typer()
app.command("mask")(mask_command)
app.command("noop")(lambda: None)  # two commands: typer keeps "mask" as a subcommand
runner = CliRunner()


def _lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_text_lines():
    result = runner.invoke(app, ["mask"], input="mail me@x.com\nborn October 03, 1953\n\n")
    assert result.exit_code == 0, result.output
    out = _lines(result)
    assert out[0] == {"masked": "mail <EMAIL_ADDRESS>", "entities": {"EMAIL_ADDRESS": 1}}
    assert out[1] == {"masked": "born <DATE_TIME>", "entities": {"DATE_TIME": 1}}
    assert out[2] == {"masked": "", "entities": {}}


def test_jsonl_with_malformed_lines_continues():
    stdin = '{"text": "card 2221 0000 0000 0009"}\n{not json\n[1, 2]\n\n{"text": "ip 10.0.0.1"}\n'
    result = runner.invoke(app, ["mask", "--jsonl"], input=stdin)
    assert result.exit_code == 1
    out = _lines(result)
    assert out[0] == {"masked": "card <CREDIT_CARD>", "entities": {"CREDIT_CARD": 1}}
    assert out[1]["line"] == 2 and "line 2: not valid JSON" in out[1]["error"]
    assert out[2]["line"] == 3 and "'text'" in out[2]["error"]
    assert out[3] == {"masked": "ip <IP_ADDRESS>", "entities": {"IP_ADDRESS": 1}}


def test_policy_file_and_non_utf8_input(tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text('[masking]\nrecognizers = ["email"]\nmax_text_chars = 50\n')
    stdin = b"mail me@x.com on October 03, 1953\n\xff\xfe bad me@y.org\n" + b"a" * 60 + b"\n"
    result = runner.invoke(app, ["mask", "--policy", str(policy)], input=stdin)
    out = _lines(result)
    assert out[0]["masked"] == "mail <EMAIL_ADDRESS> on October 03, 1953"  # only the email recognizer
    assert out[1]["masked"] == "\ufffd\ufffd bad <EMAIL_ADDRESS>"
    assert out[2]["line"] == 3 and "limit is 50" in out[2]["error"]
    assert result.exit_code == 1


def test_bad_policy_exits_2(tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text('[masking]\nfields = { owner = "encrypt" }\n')
    result = runner.invoke(app, ["mask", "--policy", str(policy)], input="x\n")
    assert result.exit_code == 2
    assert "'encrypt'" in result.stderr
