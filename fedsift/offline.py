"""Keep every process fedsift starts on loopback.

Flower posts telemetry and checks for updates, SuperLink may run ``uv sync``, Ray's
usage stats and dashboard probe a cloud metadata address, and Presidio's tldextract
fetches the public suffix list. Every entry point (CLI, simulations, benchmarks, tests)
calls :func:`apply_offline_environment` before it imports or starts any of them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

OFFLINE_ENV: dict[str, str] = {
    "FLWR_TELEMETRY_ENABLED": "0",
    "FLWR_DISABLE_UPDATE_CHECK": "1",
    "FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION": "1",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_DEDUP_LOGS": "0",
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    "HF_HUB_OFFLINE": "1",
}


def apply_offline_environment(flwr_home: str | Path | None = None) -> Path:
    """Set the variables above (overriding any other value) and ``FLWR_HOME``.

    Parameters
    ----------
    flwr_home : str or Path, optional
        Folder for Flower's own files. Defaults to an existing ``FLWR_HOME`` or a
        folder under the system temp dir.

    Returns
    -------
    Path
        The ``FLWR_HOME`` in force.
    """
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
    if flwr_home is None:
        flwr_home = os.environ.get("FLWR_HOME") or Path(tempfile.gettempdir()) / "fedsift-flwr-home"
    home = Path(flwr_home)
    home.mkdir(parents=True, exist_ok=True)
    os.environ["FLWR_HOME"] = str(home)
    return home


def ray_home() -> Path:
    """A HOME for Ray's processes holding ``ray_bootstrap_config.yaml``.

    With that file present Ray takes the cluster as a local one and never probes the
    cloud metadata address (169.254.169.254).
    """
    home = Path(tempfile.gettempdir()) / "fedsift-ray-home"
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "ray_bootstrap_config.yaml"
    if not cfg.exists():
        cfg.write_text("provider:\n  type: local\n", encoding="utf-8")
    return home
