"""The fedsift ServerApp.

``build_server_app(config, labeler, evaluator, on_round)`` returns a Flower
``ServerApp`` whose main runs a :class:`Campaign`; the same object runs on the
in-process backend, Flower's Ray simulation engine and a SuperLink.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from flwr.app import Context
from flwr.serverapp import Grid, ServerApp

from .campaign import Campaign, RoundResult
from .config import CampaignConfig
from .errors import ConfigError
from .evaluation import TestSetEvaluator
from .flwr_app import campaign_config
from .labeling import Labeler, QueueLabeler
from .signing import ModelSigner
from .state import CampaignState
from .trail import CampaignTrail

logger = logging.getLogger(__name__)


def build_server_app(
    config: CampaignConfig,
    labeler: Labeler,
    evaluator: TestSetEvaluator | None = None,
    on_round: Callable[[RoundResult], None] | None = None,
    on_done: Callable[[Campaign], None] | None = None,
    trail: CampaignTrail | None = None,
    model_signer: ModelSigner | None = None,
    state_path: str | None = None,
) -> ServerApp:
    """A ServerApp running one campaign with these settings.

    Parameters
    ----------
    config : CampaignConfig
        Campaign settings.
    labeler : Labeler
        Turns released samples into labels (simulated oracle or labeling service).
    evaluator : TestSetEvaluator, optional
        Held-out evaluation of every published model.
    on_round : callable, optional
        Receives each :class:`RoundResult` as it completes.
    on_done : callable, optional
        Receives the finished :class:`Campaign`.
    trail : CampaignTrail, optional
        Provenance log writer.
    model_signer : ModelSigner, optional
        Signs every published model.
    state_path : str, optional
        SQLite state store; a run on an existing store resumes the campaign.

    Returns
    -------
    flwr.serverapp.ServerApp
    """
    config.validate()
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        state = CampaignState(state_path) if state_path else None
        try:
            campaign = Campaign(grid, config, labeler, evaluator, on_round, trail, model_signer, state)
            campaign.run()
        finally:
            if state is not None:
                state.close()
        if on_done is not None:
            on_done(campaign)

    return app


def run_from_context(grid: Grid, context: Context, labeler: Labeler, evaluator: TestSetEvaluator | None = None,
                     overrides: dict[str, object] | None = None, ignore: frozenset[str] = frozenset()
                     ) -> list[RoundResult]:
    """Run the campaign (or the one phase) that a deployment run's config describes.

    Run config: the :class:`CampaignConfig` fields (``num-rounds``, ``budget``,
    ``strategy``, ``num-features``, ...) and :data:`~fedsift.server.flwr_app.RUN_SETTINGS`:
    ``state-path`` (SQLite state store, needed for anything but ``phase = "all"``),
    ``phase``, ``model-key`` (Ed25519 PEM to sign models with; created with ``.pub``
    beside it when missing), ``provenance-dir`` and ``results-path`` (JSON lines, one
    per finished round).

    Parameters
    ----------
    grid, context : flwr
        What the ServerApp's main receives.
    labeler : Labeler
        Labels released items (the queue labeler in deployment, the oracle in trials).
    evaluator : TestSetEvaluator, optional
        Held-out test set, where one exists.
    overrides : dict, optional
        Campaign fields the caller knows better (e.g. the data's width).
    ignore : frozenset of str
        Run config keys that belong to the caller.
    """
    from pathlib import Path

    rc = dict(context.run_config)
    cfg = campaign_config(rc, ignore)
    for key, value in (overrides or {}).items():
        setattr(cfg, key, value)
    cfg.validate()
    out = Path(str(rc["results-path"])) if rc.get("results-path") else None

    def on_round(r: RoundResult) -> None:
        if out is not None:
            with out.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(r.to_dict()) + "\n")

    trail = CampaignTrail.open(Path(str(rc["provenance-dir"]))) if rc.get("provenance-dir") else None
    signer = ModelSigner.load_or_create(str(rc["model-key"])) if rc.get("model-key") else None
    state = CampaignState(str(rc["state-path"])) if rc.get("state-path") else None
    try:
        return Campaign(grid, cfg, labeler, evaluator, on_round, trail, signer, state,
                        phase=str(rc.get("phase", "all"))).run()
    finally:
        if state is not None:
            state.close()


app = ServerApp()


@app.main()
def _deployment_main(grid: Grid, context: Context) -> None:
    # Labels come from the labeling queue in the state store (imported with
    # `fedsift labels import`, or written by a labeling service): a run selects, and a
    # later run delivers and trains what has been labeled by then.
    if not context.run_config.get("state-path"):
        raise ConfigError("state-path", "", "deployment runs keep the labeling queue in a state store: "
                          "set run config state-path (fedsift round run does)")
    run_from_context(grid, context, QueueLabeler())
