"""The loopback guard blocks and records non-loopback traffic, here and in subprocesses."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import sitecustomize as netguard


@pytest.mark.parametrize("addr,ok", [
    (("127.0.0.1", 80), True), (("127.8.9.1", 80), True), (("::1", 80, 0, 0), True),
    (("localhost", 80), True), (("::ffff:127.0.0.1", 80, 0, 0), True), ("/tmp/sock", True),
    (("10.0.0.1", 80), False), (("169.254.169.254", 80), False), (("8.8.8.8", 53), False),
    (("example.com", 443), False), (("::ffff:10.0.0.1", 80, 0, 0), False),
])
def test_loopback_classification(addr: object, ok: bool) -> None:
    assert netguard._is_loopback(addr) is ok


def test_in_process_connect_is_blocked_and_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log"
    monkeypatch.setenv("FEDSIFT_NETGUARD_LOG", str(log))
    with socket.socket() as s, pytest.raises(PermissionError):
        s.connect(("169.254.169.254", 80))
    assert "169.254.169.254" in log.read_text()


def test_subprocess_connect_is_blocked_and_recorded(tmp_path: Path) -> None:
    log = tmp_path / "log"
    env = dict(os.environ, FEDSIFT_NETGUARD_LOG=str(log))
    code = "import socket\ntry:\n socket.create_connection(('10.1.2.3', 80), timeout=1)\nexcept PermissionError:\n print('blocked')"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "blocked"
    assert "10.1.2.3" in log.read_text()


def test_loopback_connect_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
