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


BLOCK = """
import importlib.abc, sys
class _Absent(importlib.abc.MetaPathFinder):
    # A device without the server's packages: importing any of them fails as if not installed.
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'torch', 'sklearn', 'presidio_analyzer', 'presidio_anonymizer', 'ray', 'onnx',
                                  'matplotlib'}:
            raise ModuleNotFoundError(f'No module named {name!r} (blocked: not on a device)')
sys.meta_path.insert(0, _Absent())
"""


def test_a_device_runs_the_client_command_without_the_server_packages(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    (tmp_path / "pool.jsonl").write_text("".join(json.dumps({"id": f"s{i}", "x": [i, 1.0]}) + "\n" for i in range(5)))
    (tmp_path / "device.toml").write_text("""
[device]
id = "edge-1"
data_path = "pool.jsonl"
privacy_dir = "privacy"
require_signed_models = false
[superlink]
insecure = true
""")
    code = BLOCK + ("from fedsift.cli import main\nsys.argv = ['fedsift', 'client', 'run', '--config', "
                    f"{str(tmp_path / 'device.toml')!r}, '--check']\nmain()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "device edge-1: 5 samples x 2 features" in out.stdout and "flower-supernode" in out.stdout
    # and the device's message handlers import without them too
    out = subprocess.run([sys.executable, "-c", BLOCK + "import fedsift.client.app, fedsift.client.device_privacy"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
