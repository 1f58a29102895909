"""Suite-wide set-up: loopback-only network guard and quiet, offline third parties."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

_GUARD_DIR = Path(__file__).parent / "netguard"
_LOG = Path(tempfile.mkdtemp(prefix="fedsift-netguard-")) / "violations.log"
_LOG.touch()
atexit.register(shutil.rmtree, _LOG.parent, True)

# Every subprocess (SuperLink, SuperNodes, Ray workers, the CLI) imports the guard as
# `sitecustomize` through PYTHONPATH and reports to the same file.
os.environ["FEDSIFT_NETGUARD_LOG"] = str(_LOG)
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(_GUARD_DIR), os.environ.get("PYTHONPATH", "")) if p
)
sys.path.insert(0, str(_GUARD_DIR))
import sitecustomize as _netguard  # noqa: E402  (the guard module above)

_netguard.install()

from fedsift.offline import apply_offline_environment  # noqa: E402

apply_offline_environment()


@pytest.fixture(autouse=True)
def _no_traffic_off_loopback():
    """Fail any test during which this process or a child tried to leave 127.0.0.1."""
    before = _LOG.stat().st_size
    yield
    with _LOG.open("rb") as fh:
        fh.seek(before)
        new = fh.read().decode("utf-8", "replace").strip()
    if new:
        pytest.fail(f"non-loopback network traffic attempted:\n{new}", pytrace=False)
