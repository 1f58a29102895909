"""The edge path runs with numpy and onnxruntime alone: importing it must not import torch."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    return set(out.split())


def test_edge_runtime_and_client_do_not_import_torch() -> None:
    mods = _modules_after("import fedsift.edge_runtime, fedsift.client")
    assert "fedsift.client.app" in mods  # the import really happened
    assert "torch" not in mods
    assert "sklearn" not in mods


def test_the_check_itself_sees_torch_when_imported() -> None:
    assert "torch" in _modules_after("import fedsift.server.model as m; m.to_torch(m.init_weights([2, 3, 2], 0))")
