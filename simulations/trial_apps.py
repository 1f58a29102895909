"""A trial deployment: the real ServerApp and ClientApp under SuperLink/SuperNodes,
with the simulated oracle standing in for human annotators.

Point a Flower app's ``pyproject.toml`` at them::

    [tool.flwr.app.components]
    serverapp = "fedsift.simulations.trial_apps:server_app"
    clientapp = "fedsift.simulations.trial_apps:client_app"

Run config (``flwr run . NAME --run-config "..."``): ``dataset``, ``clients``,
``alpha``, ``seed``, ``num-rounds``, ``budget``, ``strategy``, ``train-rounds``,
``results-path`` (JSON lines, one per round), ``provenance-dir``, ``state-path`` (SQLite
state store: a run on an existing store resumes the campaign) and ``model-key`` (Ed25519
PEM to sign models with; created when missing, ``.pub`` beside it). Node config of each
SuperNode: ``partition-id`` and ``num-partitions`` (and optionally ``device-id`` and
``model-pubkey``, the PEM public key the device pins).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from flwr.app import Context
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

from fedsift.client import build_client_app
from fedsift.server import CampaignConfig, RoundResult, TestSetEvaluator
from fedsift.server.campaign import Campaign
from fedsift.server.signing import ModelSigner
from fedsift.server.state import CampaignState

from .datasets import load_dataset
from .oracle import SimulatedOracle
from .pools import SimulatedPoolLoader

logger = logging.getLogger(__name__)

server_app = ServerApp()


def _campaign_config(run_config: dict, num_features: int, num_classes: int) -> CampaignConfig:
    return CampaignConfig(
        num_features=num_features, num_classes=num_classes,
        rounds=int(run_config.get("num-rounds", 2)), budget=int(run_config.get("budget", 20)),
        strategy=str(run_config.get("strategy", "margin")), seed=int(run_config.get("seed", 0)),
        train_rounds=int(run_config.get("train-rounds", 2)), min_nodes=int(run_config.get("clients", 2)),
        node_wait_s=float(run_config.get("node-wait-s", 120.0)),
        reply_timeout_s=float(run_config.get("reply-timeout-s", 120.0)))


@server_app.main()
def _main(grid: Grid, context: Context) -> None:
    rc = dict(context.run_config)
    data = load_dataset(str(rc.get("dataset", "digits")))
    cfg = _campaign_config(rc, data.num_features, data.num_classes)
    out = Path(str(rc["results-path"])) if rc.get("results-path") else None
    trail = None
    if rc.get("provenance-dir"):
        from .runner import _open_trail

        trail = _open_trail(Path(str(rc["provenance-dir"])))

    def on_round(r: RoundResult) -> None:
        if out is not None:
            with out.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(r.to_dict()) + "\n")

    signer = ModelSigner.load_or_create(str(rc["model-key"])) if rc.get("model-key") else None
    state = CampaignState(str(rc["state-path"])) if rc.get("state-path") else None
    try:
        Campaign(grid, cfg, SimulatedOracle(data.x_train, data.y_train, seed=cfg.seed),
                 TestSetEvaluator(data.x_test, data.y_test), on_round, trail, signer, state).run()
    finally:
        if state is not None:
            state.close()


class _NodePoolLoader:
    """The SuperNode's partition of the trial dataset, from its node config."""

    def __call__(self, context: Context):  # type: ignore[no-untyped-def]
        nc = context.node_config
        loader = SimulatedPoolLoader(str(nc.get("dataset", "digits")), int(nc["num-partitions"]),
                                     float(nc.get("alpha", 0.5)), int(nc.get("seed", 0)))
        return loader(context)


class _PinnedVerifier:
    """Model verifier from the SuperNode's ``model-pubkey`` node config (none = accept unsigned)."""

    def __call__(self, context: Context):  # type: ignore[no-untyped-def]
        from fedsift.client.model_cache import ModelVerifier

        path = context.node_config.get("model-pubkey")
        return ModelVerifier.from_pem(str(path)) if path else None


client_app: ClientApp = build_client_app(_NodePoolLoader(), model_verifier=_PinnedVerifier())
