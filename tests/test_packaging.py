"""Every package folder must end up in a wheel built from the checkout.

Editable installs resolve folders directly and hide a missing entry in the
``package-dir`` mapping; a real wheel does not.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = {".venv", ".git", "build", "dist", "runs", "tests", ".pytest_cache"}


def _package_folders() -> dict[str, Path]:
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    mapping = cfg["tool"]["setuptools"]["package-dir"]
    found = {}
    for pkg, folder in mapping.items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            if any(part in SKIP or part.startswith(".") for part in init.relative_to(ROOT).parts):
                continue
            rel = init.parent.relative_to(base)
            name = ".".join([pkg, *rel.parts]) if rel.parts else pkg
            found[name] = init.parent
    return found


def test_every_package_folder_is_in_the_wheel(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(*SKIP, "*.egg-info", "__pycache__"))
    out = tmp_path / "wheel"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out), str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = out.glob("fedsift-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = _package_folders()
    assert {"fedsift", "fedsift.server", "fedsift.client", "fedsift.edge_runtime", "fedsift.protocols",
            "fedsift.privacy", "fedsift.simulations"} <= set(packages)
    missing = [pkg for pkg in packages if pkg.replace(".", "/") + "/__init__.py" not in names]
    assert not missing, f"package folders missing from the wheel: {missing}"
    assert not any(n.startswith(("server/", "client/", "protocols/")) for n in names), "top-level name leaked"
