"""One active-learning campaign, round by round and phase by phase, over a Flower Grid.

:meth:`Campaign.run` reads top to bottom like Flower's ``Strategy.start``: a round is
:meth:`Campaign.select` (budget, strategy, query, plan, label requests), the labeler,
then :meth:`Campaign._finish` (validation slice, deliver, train, publish, evaluate).
The message waves themselves live in :mod:`fedsift.server.waves`; a device whose reply
is an error or fails validation is logged with the field that was wrong and left out of
that phase, and the round goes on with the others. With a state store every phase is
persisted, so a campaign resumes after a crash or runs one phase per run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields

import numpy as np
from flwr.serverapp import Grid
from flwr.serverapp.strategy import DifferentialPrivacyServerSideFixedClipping, FedAvg, FedAvgM


from .allocation import get_policy
from .budget import BudgetConfig, BudgetPlanner
from .config import CampaignConfig
from .errors import ConfigError, NoNodesError, NoRepliesError, PhaseError, StateError
from .evaluation import TestSetEvaluator
from .labeling import LabeledSample, Labeler, ReleasedSample
from .model import init_weights
from .registry import ModelRegistry, ModelVersion
from .selection import make_selector
from .signing import ModelSigner
from .state import CampaignState
from .trail import CampaignTrail
from .validation import ValidationSet
from .waves import RoundWaves

logger = logging.getLogger(__name__)


@dataclass
class RoundResult:
    """What one round did and measured."""

    round: int
    labels: int
    new_labels: int
    accuracy: float
    model_version: int
    devices: int
    rejected: list[str] = field(default_factory=list)
    refused: int = 0
    summary_bytes_per_device: float = 0.0
    seconds: float = 0.0
    strategy: str = ""
    budget: int = 0
    validation_accuracy: float = float("nan")
    validation_size: int = 0
    reasons: list[str] = field(default_factory=list)
    epsilon_max: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "epsilon_max": self.epsilon_max,
            "strategy": self.strategy, "budget": self.budget, "validation_accuracy": self.validation_accuracy,
            "validation_size": self.validation_size, "reasons": list(self.reasons),
            "round": self.round, "labels": self.labels, "new_labels": self.new_labels,
            "accuracy": self.accuracy, "model_version": self.model_version, "devices": self.devices,
            "rejected": list(self.rejected), "refused": self.refused,
            "summary_bytes_per_device": self.summary_bytes_per_device, "seconds": self.seconds,
        }


PHASES = ("select", "deliver", "train", "all")
"""What one run of a campaign does; see :meth:`Campaign.run`."""


@dataclass
class Selection:
    """What a round's selection decided; kept in the state store until the round is done."""

    round: int
    strategy: str
    why: str
    budget: int
    budget_reasons: list[str]
    devices: int
    refused: int
    summary_bytes_per_device: float
    epsilon_max: float
    rejected: list[str]
    caught_up: int = 0
    seconds: float = 0.0
    released: list[ReleasedSample] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if k != "released"}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Selection:
        names = {f.name for f in fields(cls)} - {"released"}
        unknown = set(data) - names
        if unknown:
            raise StateError(f"stored selection has unknown fields {sorted(unknown)}")
        return cls(**data)  # type: ignore[arg-type]


class Campaign(RoundWaves):
    """Run the rounds of one campaign.

    Parameters
    ----------
    grid : flwr.serverapp.Grid
        How messages reach devices (in-process, Ray simulation or SuperLink).
    config : CampaignConfig
        Validated settings.
    labeler : Labeler
        Turns released samples into labels.
    evaluator : TestSetEvaluator, optional
        Held-out accuracy of each published model.
    on_round : callable, optional
        Called with every :class:`RoundResult` (progress bars, result files).
    trail : CampaignTrail, optional
        Writes every phase to the provenance log and signs a checkpoint per round.
    model_signer : ModelSigner, optional
        Signs every published model; devices with a pinned key refuse unsigned ones.
    state : CampaignState, optional
        Persists each phase; a campaign opened on an existing store resumes it.
    phase : str
        One of :data:`PHASES`; all but ``all`` need a state store.
    """

    def __init__(self, grid: Grid, config: CampaignConfig, labeler: Labeler,
                 evaluator: TestSetEvaluator | None = None,
                 on_round: Callable[[RoundResult], None] | None = None,
                 trail: CampaignTrail | None = None, model_signer: ModelSigner | None = None,
                 state: CampaignState | None = None, phase: str = "all") -> None:
        if phase not in PHASES:
            raise ConfigError("phase", phase, f"must be one of {', '.join(PHASES)}")
        if phase != "all" and state is None:
            raise ConfigError("phase", phase, "running one phase at a time needs a state store (state-path)")
        self.phase = phase
        self.grid = grid
        self.cfg = config.validate()
        self.labeler = labeler
        self.evaluator = evaluator
        self.on_round = on_round or (lambda r: None)
        self.registry = ModelRegistry(model_signer)
        self.node_of: dict[str, int] = {}
        self.labeled: dict[str, int] = {}
        self.trainable: dict[str, int] = {}
        self.total_labels = 0
        self.results: list[RoundResult] = []
        common = dict(fraction_train=1.0, fraction_evaluate=0.0, min_train_nodes=1, min_available_nodes=1)
        # Flower's strategies aggregate; a server-side step (momentum, step size) is its FedAvgM.
        server_opt = self.cfg.server_momentum > 0 or self.cfg.server_lr != 1.0
        self.fedavgm = FedAvgM(**common, server_momentum=self.cfg.server_momentum,
                               server_learning_rate=self.cfg.server_lr) if server_opt else None
        self.strategy = self.fedavgm if self.fedavgm is not None else FedAvg(**common)
        if self.cfg.dp_noise_multiplier > 0:
            self.strategy = DifferentialPrivacyServerSideFixedClipping(
                self.strategy, noise_multiplier=self.cfg.dp_noise_multiplier,
                clipping_norm=self.cfg.dp_clipping_norm, num_sampled_clients=self.cfg.min_nodes)
        if self.cfg.auto_reward == "test" and evaluator is None:
            raise ConfigError("auto_reward", "test", "needs a held-out test set (an evaluator); none was given")
        self.selector = make_selector(self.cfg.strategy, tuple(self.cfg.auto_arms))
        self.planner = BudgetPlanner(BudgetConfig(
            per_round=self.cfg.budget, total=self.cfg.total_budget, annotators=self.cfg.annotators,
            labels_per_annotator=self.cfg.labels_per_annotator, min_gain_per_100=self.cfg.min_gain_per_100,
            patience=self.cfg.patience))
        self.validation = ValidationSet()
        self.trail = trail
        self.refusals: list[tuple[str, str, str]] = []
        self.device_checkpoints: dict[str, str] = {}
        self.state = state
        self.dropped: set[str] = set()
        self.last_arm: str | None = None
        self.rejections = []

    # ------------------------------------------------------------------ loop
    def run(self) -> list[RoundResult]:
        """Publish the initial model (or resume from the state store), then run the phases asked for.

        ``phase = "all"`` finishes a round left open by an earlier run, then runs whole
        rounds up to ``rounds``. With a state store the phases can also run one per run,
        as human labeling needs: ``select`` (query, plan, request; released items wait in
        the labeling queue), ``deliver`` (label what is ready, send labels to devices),
        ``train`` (deliver what is left, train, publish, evaluate: the round is done).
        """
        if self.state is not None:
            self.state.pin_model_shape({"num_features": self.cfg.num_features, "num_classes": self.cfg.num_classes,
                                        "hidden": list(self.cfg.hidden)})
        self.wait_for_nodes()
        model = self._resume() if self.state is not None and self.state.load_models() else None
        if model is not None and not self.results:
            self._record(RoundResult(0, 0, 0, self.evaluate(model), model.version, 0))
        if model is None:
            sizes = [self.cfg.num_features, *self.cfg.hidden, self.cfg.num_classes]
            model = self.publish(init_weights(sizes, self.cfg.seed))
            self._record(RoundResult(0, 0, 0, self.evaluate(model), model.version, 0))
        open_round = self.state.open_selection() if self.state is not None else None
        if open_round is not None:
            rnd, stored_phase, data = open_round
            selection = Selection.from_dict(data)
            if rnd > self.cfg.cold_start_rounds:
                self.selector.played(selection.strategy, rnd)
            model = self._continue(selection, stored_phase, model)
            if self.phase != "all":
                return self.results
        elif self.phase == "deliver" and self._deliver_late():
            return self.results
        elif self.phase in ("deliver", "train"):
            raise PhaseError(f"phase {self.phase!r}: no round is waiting for labels (run phase 'select' first)")
        for rnd in range(self.results[-1].round + 1, self.cfg.rounds + 1):
            selection = self.select(rnd, model)
            if selection is None:
                break
            labeled = self._label_round(rnd, selection.released)
            if self.phase == "select":
                return self.results
            waiting = self.state.queue_counts().get(rnd, {}).get("waiting", 0) if self.state is not None else 0
            if waiting:
                # Human labeling: training now would close the round on none of its labels.
                logger.warning("round %d: %d released items wait for labels; run the campaign again (phase "
                               "deliver, train or all) once they are in", rnd, waiting)
                return self.results
            released = self.state.released_in(rnd) if self.state is not None else selection.released
            model = self._finish(selection, model, released, labeled)
        return self.results

    def select(self, rnd: int, model: ModelVersion) -> Selection | None:
        """Phases 1-4: budget, strategy, query, allocation, label requests; None when the planner stops.

        With a state store the released items enter the labeling queue and the selection
        is saved, so a later run can finish the round.
        """
        start = time.perf_counter()
        rejected: list[str] = []
        self.rejections = []
        backlog = len(self.state.pending()) if self.state is not None else 0
        decision = self.planner.plan(backlog=backlog)
        if decision.stop or decision.budget == 0:
            logger.info("round %d: campaign stops (%s)", rnd, "; ".join(decision.reasons))
            return None
        if rnd <= self.cfg.cold_start_rounds:
            strategy, why = "random", f"cold start (round {rnd} of {self.cfg.cold_start_rounds})"
        else:
            choice = self.selector.choose(rnd)
            strategy, why = choice.strategy, choice.reason
        if self.trail:
            self.trail.round_started(rnd, strategy, decision.budget, [why, *decision.reasons])
        summaries, summary_bytes = self.query(rnd, model, strategy, decision.budget, rejected)
        if not summaries:
            # Every device failed (a broken ClientApp, a model they all refuse, an outage):
            # going on would "finish" rounds that label and train nothing. Stop loudly; with
            # a state store the campaign resumes from here once the devices are fixed.
            raise NoRepliesError(f"round {rnd}: no device sent a valid summary ({len(rejected)} rejected: "
                                 f"{'; '.join(self.rejections[:3]) or 'no reply at all'})")
        caught_up = self._catch_up(rejected)
        allocation = self.plan(rnd, summaries, decision.budget)
        if self.trail:
            self.trail.summaries(rnd, model.version, strategy, summaries)
            self.trail.selection(rnd, allocation, get_policy(self.cfg.allocation_in(rnd)).version, strategy)
        released, refused = self.request_labels(rnd, allocation, rejected)
        if refused:
            released += self.reallocate(rnd, summaries, allocation, refused, rejected)
        if self.trail:
            self.trail.releases(rnd, released, self.refusals, self.device_checkpoints)
        selection = Selection(
            rnd, strategy, why, decision.budget, list(decision.reasons), len(summaries), refused,
            summary_bytes / max(len(summaries), 1), max((s.epsilon_spent for s in summaries), default=0.0),
            sorted(set(rejected)), caught_up, time.perf_counter() - start, released=released)
        if self.state is not None:
            got = {(r.device_id, r.candidate_id) for r in released}
            why_refused = {(d, c): why for d, c, why in self.refusals}
            self.state.save_requests(rnd, [
                (p.device_id, p.candidate_id, p.score, p.reason,
                 "released" if (p.device_id, p.candidate_id) in got else
                 f"refused:{why_refused[(p.device_id, p.candidate_id)]}"
                 if (p.device_id, p.candidate_id) in why_refused else "no-reply") for p in allocation.picks])
            self.state.enqueue(released)
            self.state.save_selection(rnd, selection.to_dict())
        logger.info("round %d: selected %d items with %s", rnd, len(released), strategy)
        return selection

    def _label_round(self, rnd: int, released: Sequence[ReleasedSample]) -> list[LabeledSample]:
        """Phase 5: the labeler labels what it can; with a state store, every queued item it can.

        Returns the labels of round ``rnd`` (with a state store: all of them so far,
        including labels imported into the queue by a labeling service).
        """
        if self.state is None:
            labeled = self.label(released)
            if self.trail:
                self.trail.labels(rnd, labeled)
            return labeled
        pending = self.state.pending()
        labeled = self.label(pending) if pending else []
        if labeled:
            self.state.submit_labels(labeled)
            if self.trail:
                for r in sorted({s.round for s in pending}):
                    keys = {(p.device_id, p.candidate_id) for p in pending if p.round == r}
                    self.trail.labels(r, [lab for lab in labeled if (lab.device_id, lab.candidate_id) in keys])
        waiting = len(pending) - len(labeled)
        if waiting:
            logger.warning("%d released items still wait for a label; they are delivered once labeled", waiting)
        return self.state.labels_of(rnd)

    def _deliver_late(self) -> bool:
        """Phase ``deliver`` with no open round: send labels that arrived after their round closed."""
        assert self.state is not None
        pending = [(r, s) for r, s in self.state.undelivered() if s.device_id in self.node_of]
        if not pending:
            return False
        logger.warning("delivering %d labels that arrived after their round closed", len(pending))
        self.deliver(pending[-1][0], [s for _, s in pending], [])
        return True

    def _continue(self, selection: Selection, stored_phase: str, model: ModelVersion) -> ModelVersion:
        """Carry on with a round an earlier run left open, as far as ``phase`` says."""
        rnd = selection.round
        if self.phase == "select":
            logger.warning("round %d is still open (%s): finish it with phase deliver, train or all first",
                           rnd, stored_phase)
            return model
        assert self.state is not None
        if any(r.round == rnd for r in self.results):  # finished, but not closed (an older store)
            self.state.set_phase(rnd, "done")
            return model
        logger.warning("round %d: resuming after phase %r", rnd, stored_phase)
        labeled = self._label_round(rnd, [])
        if self.phase == "deliver":
            rejected: list[str] = []
            pending = [s for _, s in self.state.undelivered() if s.device_id in self.node_of]
            self.deliver(rnd, pending, rejected)
            self.state.set_phase(rnd, "delivered")
            return model
        return self._finish(selection, model, self.state.released_in(rnd), labeled)

    def _finish(self, sel: Selection, model: ModelVersion, released: Sequence[ReleasedSample],
                labeled: Sequence[LabeledSample]) -> ModelVersion:
        """Phases 6-8: validation slice, deliver, train, publish, evaluate; record the round."""
        start = time.perf_counter()
        rnd = sel.round
        rejected = list(sel.rejected)
        if self.state is not None:  # slice labels that came in after their round closed count too
            released, labeled = self.state.random_slice()
        fresh = self.validation.add(released, labeled)
        for x, y, key in fresh:
            if self.state:
                self.state.save_validation(x, y, key)
        if not self.cfg.holds_out_validation and self.cfg.auto_reward != "test":
            self._prequential_reward(model, fresh)
        if self.state is not None:
            to_deliver = [s for _, s in self.state.undelivered() if s.device_id in self.node_of]
        else:
            to_deliver = list(labeled)
        layers, new = self.deliver_and_train(rnd, to_deliver, model.layers, rejected)
        new += sel.caught_up
        previous, model = model, self.publish(layers)
        val_new = self.validation.accuracy(model.onnx)
        accuracy = self.evaluate(model)
        if rnd > self.cfg.cold_start_rounds and self.cfg.auto_reward == "test":
            self._reward(sel.strategy, accuracy - self.evaluate(previous))
        elif rnd > self.cfg.cold_start_rounds and self.cfg.holds_out_validation:
            self._reward(sel.strategy, val_new - self.validation.accuracy(previous.onnx))
        self.last_arm = sel.strategy if rnd > self.cfg.cold_start_rounds else None
        self.planner.observe(self.total_labels, val_new)
        result = RoundResult(
            rnd, self.total_labels, new, accuracy, model.version, sel.devices,
            rejected=sorted(set(rejected)), refused=sel.refused,
            summary_bytes_per_device=sel.summary_bytes_per_device,
            seconds=sel.seconds + time.perf_counter() - start, strategy=sel.strategy, budget=sel.budget,
            validation_accuracy=val_new, validation_size=len(self.validation), epsilon_max=sel.epsilon_max,
            reasons=[f"strategy: {sel.why}", *("budget: " + r for r in sel.budget_reasons)])
        if self.trail:
            self.trail.trained(rnd, model.version, sel.devices, result.accuracy, val_new)
            self.trail.checkpoint()
        self._record(result)  # with a state store: the result and the round's closing in one transaction
        return model

    def _reward(self, strategy: str, gain: float) -> None:
        self.selector.reward(strategy, gain)
        if self.state is not None:
            self.state.save_reward(strategy, gain)

    def _prequential_reward(self, model: ModelVersion, fresh: list) -> None:  # type: ignore[type-arg]
        """Reward last round's arm on this round's fresh random-slice items.

        Neither the current model (trained through last round) nor the one before it has
        seen these items, so the paired difference of their accuracies on them is an
        unbiased estimate of last round's gain, without holding labels out of training.
        """
        if self.last_arm is None or not fresh or model.version < 1:
            return
        x = np.stack([f[0] for f in fresh])
        y = np.array([f[1] for f in fresh])
        ev = TestSetEvaluator(x, y)
        new, old = ev.evaluate(model.onnx), ev.evaluate(self.registry.get(model.version - 1).onnx)
        gain = new.accuracy - old.accuracy if self.cfg.auto_reward == "accuracy" else old.brier - new.brier
        self._reward(self.last_arm, gain)

    def _catch_up(self, rejected: list[str]) -> int:
        """Deliver journaled labels of earlier rounds to devices that are back (after a restart or dropout)."""
        if self.state is None:
            return 0
        pending = [(r, s) for r, s in self.state.undelivered() if s.device_id in self.node_of]
        if not pending:
            return 0
        logger.warning("delivering %d labels journaled in earlier rounds", len(pending))
        return self.deliver(pending[0][0], [s for _, s in pending], rejected)

    def _resume(self) -> ModelVersion:
        """Reload state after a restart: models, results, labels, validation slice, rewards."""
        assert self.state is not None
        self.registry.restore(self.state.load_models())
        # After a SuperLink restart the devices come back one by one: give the ones this
        # campaign knows a bounded moment, so an open round can deliver to all of them.
        saved = self.state.load_nodes()
        deadline = time.monotonic() + min(self.cfg.node_wait_s, 30.0)
        live = set(self.grid.get_node_ids())
        while not set(saved.values()) <= live and time.monotonic() < deadline:
            time.sleep(0.5)
            live = set(self.grid.get_node_ids())
        self.node_of = {d: n for d, n in saved.items() if n in live}
        if len(self.node_of) < len(saved):
            logger.warning("resuming without %s: not connected", sorted(set(saved) - set(self.node_of)))
        self.results = [RoundResult(**r) for r in self.state.load_results()]  # type: ignore[arg-type]
        for device, (n, held_out) in self.state.delivered_counts().items():
            self.labeled[device] = n
            self.trainable[device] = n - held_out if self.cfg.holds_out_validation else n
        self.total_labels = sum(self.labeled.values())
        for x, y, key in self.state.load_validation():
            self.validation.add_item(x, y, key)
        for r in self.results:
            if r.round > self.cfg.cold_start_rounds:
                self.selector.played(r.strategy, r.round)
        for strategy, gain in self.state.load_rewards():
            self.selector.reward(strategy, gain)
        for r in self.results[1:]:
            self.planner.observe(r.labels, r.validation_accuracy)
        last = self.results[-1] if self.results else None
        self.last_arm = last.strategy if last is not None and last.round > self.cfg.cold_start_rounds else None
        model = self.registry.latest
        if self.fedavgm is not None:
            self.fedavgm.momentum_vector = self.state.load_momentum(model.version)
        logger.warning("resuming campaign from %s: %d rounds done, model v%d, %d labels delivered",
                       self.state.path, max(len(self.results) - 1, 0), model.version, self.total_labels)
        return model

    def _record(self, result: RoundResult) -> None:
        self.results.append(result)
        if self.state is not None:
            self.state.save_result(result.round, result.to_dict())
        logger.info("round %d: %d labels, accuracy %.4f", result.round, result.labels, result.accuracy)
        self.on_round(result)

    # ----------------------------------------------------------------- nodes
    def wait_for_nodes(self) -> list[int]:
        """Wait (bounded) until ``min_nodes`` devices are connected."""
        deadline = time.monotonic() + self.cfg.node_wait_s
        while True:
            nodes = sorted(self.grid.get_node_ids())
            if len(nodes) >= self.cfg.min_nodes:
                return nodes
            if time.monotonic() > deadline:
                raise NoNodesError(f"{len(nodes)} of {self.cfg.min_nodes} devices connected after "
                                   f"{self.cfg.node_wait_s:.0f} s")
            time.sleep(0.2)

    def publish(self, layers) -> ModelVersion:  # type: ignore[no-untyped-def]
        """Export the new global model to ONNX and register it."""
        mv = self.registry.publish(layers)
        if self.state is not None:
            self.state.save_model(mv)
            if self.fedavgm is not None and self.fedavgm.momentum_vector is not None:
                self.state.save_momentum(mv.version, self.fedavgm.momentum_vector)
        if self.trail:
            self.trail.model_published(mv.version, mv.onnx)
        return mv

    def evaluate(self, model: ModelVersion) -> float:
        """Held-out accuracy of the published artifact (NaN without an evaluator)."""
        if self.evaluator is None:
            return float("nan")
        return self.evaluator.evaluate(model.onnx).accuracy
