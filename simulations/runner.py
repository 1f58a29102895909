"""Run one simulated campaign end to end and write its results.

The same ServerApp and ClientApp run on either backend:

- ``inprocess`` (default): :class:`InProcessGrid`, deterministic, a fraction of a second
  per round for tens of devices;
- ``ray``: Flower's simulation engine, for many clients.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedsift.client import build_client_app
from fedsift.client.model_cache import ModelVerifier
from fedsift.server.signing import ModelSigner
from fedsift.server.trail import CampaignTrail
from fedsift.server import CampaignConfig, RoundResult, TestSetEvaluator, build_server_app

from .datasets import load_dataset
from .errors import SimulationError
from .inprocess import InProcessGrid, run_inprocess
from .oracle import SimulatedOracle
from .pools import SimulatedPoolLoader
from .report import plot_curves, write_results

logger = logging.getLogger(__name__)

BACKENDS = ("inprocess", "ray")


@dataclass
class SimulationConfig:
    """A simulated campaign: data, devices, backend and the campaign settings.

    ``provenance`` names a folder for the provenance log (``provenance.db``) and its
    checkpoint signing key (``checkpoint.key`` with ``.pub``/``.vkey``); empty = none.
    """

    dataset: str = "digits"
    clients: int = 10
    alpha: float = 0.5
    backend: str = "inprocess"
    oracle_noise: float = 0.0
    provenance: str = ""
    campaign: CampaignConfig = field(default_factory=CampaignConfig)

    def validate(self) -> SimulationConfig:
        if self.backend not in BACKENDS:
            raise SimulationError(f"backend must be one of {', '.join(BACKENDS)}; got '{self.backend}'")
        if not 1 <= self.clients <= 100_000:
            raise SimulationError(f"clients must be in [1, 100000]; got {self.clients}")
        if not self.alpha > 0:
            raise SimulationError(f"alpha must be > 0; got {self.alpha}")
        from fedsift.edge_runtime import available_strategies
        from fedsift.server.selection import SELECTORS

        known = available_strategies()
        if self.campaign.strategy not in SELECTORS and self.campaign.strategy not in known:
            raise SimulationError(f"unknown strategy '{self.campaign.strategy}'; choose "
                                  f"{' or '.join(SELECTORS)} or one of {', '.join(known)}")
        for name in self.campaign.auto_arms:
            if name not in known:
                raise SimulationError(f"unknown auto arm '{name}'; choose from {', '.join(known)}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SimulationResult:
    """Per-round results and run facts."""

    config: SimulationConfig
    rounds: list[RoundResult]
    wall_seconds: float
    #: per round, the training-pool rows (``Dataset.x_train`` indices) labeled by its end
    labeled_rows: list[list[int]] = field(default_factory=list)

    def rows(self) -> list[dict[str, object]]:
        return [r.to_dict() for r in self.rounds]

    def write(self, out: str | Path, plot: bool = True) -> Path:
        """Write ``results.json`` (and ``learning_curve.png``) under ``out``."""
        out = Path(out)
        write_results(out, self.config.to_dict(), self.rows(), {"wall_seconds": self.wall_seconds})
        if plot:
            plot_curves(out / "learning_curve.png", {self.config.campaign.strategy: self.rows()},
                        f"{self.config.dataset}, {self.config.clients} clients, alpha={self.config.alpha}")
        return out


class _TappedEvaluator(TestSetEvaluator):
    """The test-set evaluator, also handing each published ONNX model to ``tap``, once.

    The campaign evaluates every model it publishes, in order; with ``auto_reward = "test"``
    it evaluates the previous one again, which is the very artifact object handed before
    and is not handed twice (identity, not content: two versions may be byte-equal).
    """

    __test__ = False

    def __init__(self, x: Any, y: Any, tap: Callable[[bytes], None]) -> None:
        super().__init__(x, y)
        self.tap = tap
        self.handed: list[bytes] = []

    def evaluate(self, onnx_model: bytes):  # type: ignore[no-untyped-def]
        if not any(onnx_model is seen for seen in self.handed):
            self.handed.append(onnx_model)
            self.tap(onnx_model)
        return super().evaluate(onnx_model)


def run_simulation(config: SimulationConfig, on_round: Callable[[RoundResult], None] | None = None,
                   on_model: Callable[[bytes], None] | None = None) -> SimulationResult:
    """Run the campaign described by ``config``.

    Parameters
    ----------
    config : SimulationConfig
        What to simulate.
    on_round : callable, optional
        Called with every round's result as it completes (progress display).
    on_model : callable, optional
        Called with the ONNX artifact of every published model, the initial one first,
        then one per round: the models the devices score with
        (``simulations/benchmarks/selection_gap.py`` scores the pooled data with them).

    Returns
    -------
    SimulationResult
    """
    config.validate()
    data = load_dataset(config.dataset)
    campaign = config.campaign
    campaign.num_features = data.num_features
    campaign.num_classes = data.num_classes
    campaign.min_nodes = config.clients
    campaign.validate()
    rounds: list[RoundResult] = []

    oracle = SimulatedOracle(data.x_train, data.y_train, config.oracle_noise, seed=campaign.seed)
    labeled_rows: list[list[int]] = []

    def record(result: RoundResult) -> None:
        rounds.append(result)
        labeled_rows.append(list(oracle.labeled_rows))
        if on_round is not None:
            on_round(result)

    trail = CampaignTrail.open(config.provenance) if config.provenance else None
    # Every simulated device pins the campaign's model-signing key, as a real one would.
    model_signer = ModelSigner(Ed25519PrivateKey.generate())
    verifier = ModelVerifier(model_signer.private_key.public_key())
    server_app = build_server_app(
        campaign,
        labeler=oracle,
        evaluator=(TestSetEvaluator(data.x_test, data.y_test) if on_model is None
                   else _TappedEvaluator(data.x_test, data.y_test, on_model)),
        on_round=record,
        trail=trail,
        model_signer=model_signer,
    )
    client_app = build_client_app(SimulatedPoolLoader(config.dataset, config.clients, config.alpha, campaign.seed),
                                  model_verifier=verifier)
    start = time.perf_counter()
    if config.backend == "inprocess":
        run_inprocess(server_app, InProcessGrid(client_app, config.clients, seed=campaign.seed))
    else:
        from .ray_backend import run_on_ray

        run_on_ray(server_app, client_app, config.clients)
    wall = time.perf_counter() - start
    if len(rounds) != campaign.rounds + 1:
        raise SimulationError(f"the campaign ended after {len(rounds) - 1} of {campaign.rounds} rounds; "
                              "see the log for the server's error")
    return SimulationResult(config, rounds, wall, labeled_rows)
