"""Run the apps on Flower's simulation engine (Ray), kept on loopback.

Ray is started with no dashboard, usage stats off, its node bound to 127.0.0.1 and a
HOME holding ``ray_bootstrap_config.yaml`` (so nothing probes a cloud metadata address);
see ``fedsift.offline``.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from collections.abc import Iterator

from flwr.clientapp import ClientApp
from flwr.serverapp import ServerApp

from fedsift.offline import apply_offline_environment, ray_home

logger = logging.getLogger(__name__)


@contextmanager
def _ray_environment() -> Iterator[None]:
    apply_offline_environment()
    saved = {k: os.environ.get(k) for k in ("HOME", "RAY_TMPDIR")}
    home = ray_home()
    os.environ["HOME"] = str(home)
    os.environ.setdefault("RAY_TMPDIR", str(home / "tmp"))
    (home / "tmp").mkdir(exist_ok=True)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_on_ray(server_app: ServerApp, client_app: ClientApp, num_nodes: int, cpus: int | None = None) -> None:
    """Run ``server_app`` with ``num_nodes`` virtual SuperNodes on Flower's Ray engine.

    Parameters
    ----------
    server_app, client_app : ServerApp, ClientApp
        The same apps the in-process backend runs.
    num_nodes : int
        Virtual SuperNodes.
    cpus : int, optional
        CPUs Ray may use (default: all); each virtual client gets one.
    """
    from flwr.simulation import run_simulation

    import ray

    backend_config = {
        "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
        "init_args": {
            "include_dashboard": False,
            "_node_ip_address": "127.0.0.1",
            "num_cpus": cpus or os.cpu_count() or 1,
            "num_gpus": 0,
            "logging_level": logging.ERROR,
            "log_to_driver": True,
        },
    }
    with _ray_environment():
        try:
            run_simulation(server_app=server_app, client_app=client_app, num_supernodes=num_nodes,
                           backend_config=backend_config)
        finally:
            if ray.is_initialized():
                ray.shutdown()
