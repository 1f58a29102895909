"""The fedsift ServerApp.

``build_server_app(config, labeler, evaluator, on_round)`` returns a Flower
``ServerApp`` whose main runs a :class:`Campaign`; the same object runs on the
in-process backend, Flower's Ray simulation engine and a SuperLink.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flwr.app import Context
from flwr.serverapp import Grid, ServerApp

from .campaign import Campaign, RoundResult
from .config import CampaignConfig
from .errors import ConfigError
from .evaluation import TestSetEvaluator
from .labeling import Labeler
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


app = ServerApp()


@app.main()
def _deployment_main(grid: Grid, context: Context) -> None:
    # Deployment needs a labeling service (human annotators, a persistent queue); the
    # walking skeleton has only the simulated oracle, which `fedsift simulate` wires in.
    raise ConfigError("labeler", None, "deployment runs need a labeling service, which is not part of "
                      "this release yet; use `fedsift simulate` for the simulated oracle")
