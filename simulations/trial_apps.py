"""A trial deployment: the real ServerApp and ClientApp under SuperLink/SuperNodes,
with the simulated oracle standing in for human annotators.

Point a Flower app's ``pyproject.toml`` at them::

    [tool.flwr.app.components]
    serverapp = "fedsift.simulations.trial_apps:server_app"
    clientapp = "fedsift.simulations.trial_apps:client_app"

Run config (``flwr run . NAME --run-config "..."``): ``dataset``, ``clients``,
``alpha``, ``seed``, ``num-rounds``, ``budget``, ``strategy``, ``train-rounds``,
``results-path`` (JSON lines, one per round), ``provenance-dir``, ``state-path`` (SQLite
state store: a run on an existing store resumes the campaign), ``phase`` and
``model-key`` (Ed25519 PEM to sign models with; created when missing, ``.pub`` beside
it); see :func:`fedsift.server.app.run_from_context`. Node config of each
SuperNode: ``partition-id`` and ``num-partitions`` (and optionally ``device-id``,
``model-pubkey``, the PEM public key the device pins, and ``store-path``, the device's
SQLite label store, which a campaign run in phases needs).
"""

from __future__ import annotations

import logging

from flwr.app import Context
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

from fedsift.client import build_client_app
from fedsift.client.app import PinnedModelKey

from .pools import SimulatedPoolLoader

logger = logging.getLogger(__name__)

server_app = ServerApp()

TRIAL_KEYS = frozenset({"dataset", "clients", "alpha"})
"""Run config keys of the trial apps beyond the deployment app's."""


@server_app.main()
def _main(grid: Grid, context: Context) -> None:
    # Server-side imports stay here: a SuperNode's ClientApp process imports this module
    # too, and must not pay for torch (the model registry's ONNX export) on every message.
    from fedsift.server.app import run_from_context
    from fedsift.server.evaluation import TestSetEvaluator

    from .datasets import load_dataset
    from .oracle import SimulatedOracle

    rc = context.run_config
    data = load_dataset(str(rc.get("dataset", "digits")))
    seed = int(rc.get("seed", 0))
    run_from_context(grid, context, SimulatedOracle(data.x_train, data.y_train, seed=seed),
                     TestSetEvaluator(data.x_test, data.y_test),
                     overrides={"num_features": data.num_features, "num_classes": data.num_classes,
                                "min_nodes": int(rc.get("clients", 2))}, ignore=TRIAL_KEYS)


class _NodePoolLoader:
    """The SuperNode's partition of the trial dataset, from its node config."""

    def __call__(self, context: Context):  # type: ignore[no-untyped-def]
        nc = context.node_config
        loader = SimulatedPoolLoader(str(nc.get("dataset", "digits")), int(nc["num-partitions"]),
                                     float(nc.get("alpha", 0.5)), int(nc.get("seed", 0)))
        return loader(context)


client_app: ClientApp = build_client_app(_NodePoolLoader(), model_verifier=PinnedModelKey())
