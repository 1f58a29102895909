"""Centralized pool-based active learning: the reference the federated campaign is held to.

The whole training set is one pool on one machine. The loop follows the campaign's
schedule (:class:`~fedsift.server.CampaignConfig`): ``cold_start_rounds`` rounds of
``budget`` uniformly random labels, then ``budget`` labels per round picked by the
registered strategy (:func:`fedsift.edge_runtime.get_strategy`, the very classes the
devices run), scored on outputs of the same numpy MLP (:mod:`fedsift.client.trainer`).
After every round the MLP is retrained from its seeded initialization on all labels so
far with the campaign's optimizer, on its own fixed schedule (:class:`CentralTraining`: 50
epochs, at least 250 steps), not the federated one, so that tuning federated training
cannot move the reference it is measured against.

:func:`run_peer` runs the same schedule with scikit-activeml's pool strategies and a
logistic regression: an independent implementation of uncertainty sampling to check the
reference against.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from fedsift.client import trainer
from fedsift.client.app import COMMITTEE_SIZE, mc_dropout_probs
from fedsift.edge_runtime import get_strategy, softmax
from fedsift.edge_runtime.strategies import NEEDS_COMMITTEE, NEEDS_LABELED, NEEDS_MC, ScoringContext
from fedsift.server import CampaignConfig
from fedsift.server.model import init_weights

from .datasets import Dataset
from .errors import SimulationError

logger = logging.getLogger(__name__)

Layers = trainer.Layers

PEER_METHODS = {"random": None, "margin": "margin_sampling", "entropy": "entropy",
                "least_confidence": "least_confident"}


@dataclass(frozen=True)
class CentralTraining:
    """How the central reference trains: passes over all labels and a lower bound on steps."""

    epochs: int = 50
    min_steps: int = 250


@dataclass(frozen=True)
class CurvePoint:
    """Labels so far and the test accuracy of the model trained on them."""

    round: int
    labels: int
    accuracy: float

    def to_dict(self) -> dict[str, float | int]:
        return {"round": self.round, "labels": self.labels, "accuracy": self.accuracy}


def _check(data: Dataset, campaign: CampaignConfig) -> None:
    total = campaign.budget * campaign.rounds
    if total > data.x_train.shape[0]:
        raise SimulationError(f"budget * rounds must be at most the pool size {data.x_train.shape[0]}; "
                              f"got {campaign.budget} * {campaign.rounds} = {total}")


def _sizes(data: Dataset, campaign: CampaignConfig) -> list[int]:
    return [data.num_features, *campaign.hidden, data.num_classes]


def fit_mlp(data: Dataset, idx: np.ndarray, campaign: CampaignConfig,
            training: CentralTraining = CentralTraining()) -> Layers:
    """Train the campaign's MLP from its seeded initialization on ``data.x_train[idx]``.

    Parameters
    ----------
    data : Dataset
        Pool and test set.
    idx : ndarray of int
        Labeled pool indices.
    campaign : CampaignConfig
        Model widths, optimizer settings (``batch_size``, ``lr``, ``weight_decay``) and seed.
    training : CentralTraining
        Epochs and minimum steps.

    Returns
    -------
    list of (weight, bias)
    """
    layers = init_weights(_sizes(data, campaign), campaign.seed)
    result = trainer.train(layers, data.x_train[idx], data.y_train[idx], training.epochs,
                           campaign.batch_size, campaign.lr, campaign.weight_decay,
                           min_steps=training.min_steps, seed=campaign.seed)
    return result.layers


def fit_or_init(data: Dataset, idx: np.ndarray, campaign: CampaignConfig,
                training: CentralTraining = CentralTraining()) -> Layers:
    """:func:`fit_mlp` on ``idx``; with no labels, the campaign's seeded initialization."""
    idx = np.asarray(idx, dtype=np.int64)
    if idx.size == 0:
        return init_weights(_sizes(data, campaign), campaign.seed)
    return fit_mlp(data, idx, campaign, training)


def full_data_accuracy(data: Dataset, campaign: CampaignConfig,
                       training: CentralTraining = CentralTraining()) -> float:
    """Test accuracy of the MLP trained centrally on every training label (the ceiling)."""
    layers = fit_mlp(data, np.arange(data.x_train.shape[0]), campaign, training)
    return trainer.evaluate(layers, data.x_test, data.y_test)[0]


def initial_labels(data: Dataset, campaign: CampaignConfig) -> list[np.ndarray]:
    """The cold-start rounds' random picks, one array per round, shared by every central run of a seed."""
    rng = np.random.default_rng([campaign.seed, 0xC01D])
    order = rng.permutation(data.x_train.shape[0])
    n = campaign.budget
    return [order[r * n:(r + 1) * n] for r in range(min(campaign.cold_start_rounds, campaign.rounds))]


def _outputs(layers: Layers, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities and penultimate embeddings, as the device's ONNX model returns them."""
    logits, acts = trainer.forward([(w.astype(np.float64), b.astype(np.float64)) for w, b in layers],
                                   x.astype(np.float64))
    return softmax(logits), acts[-2]


def _context(strategy_needs: frozenset[str], layers: Layers, history: list[Layers], data: Dataset,
             pool: np.ndarray, labeled: np.ndarray, rng: np.random.Generator, mc_passes: int,
             mc_dropout: float) -> ScoringContext:
    x = data.x_train[pool]
    probs, emb = _outputs(layers, x)
    labeled_emb = mc = committee = None
    if NEEDS_LABELED in strategy_needs:
        labeled_emb = _outputs(layers, data.x_train[labeled])[1]
    if NEEDS_MC in strategy_needs and mc_passes > 0:
        mc = mc_dropout_probs(emb, layers[-1], mc_passes, mc_dropout, rng)
    if NEEDS_COMMITTEE in strategy_needs:
        committee = np.stack([_outputs(m, x)[0] for m in history[-COMMITTEE_SIZE:]])
    return ScoringContext(probs, emb, x, labeled_emb, mc, committee)


def run_central(data: Dataset, campaign: CampaignConfig,
                training: CentralTraining = CentralTraining()) -> list[CurvePoint]:
    """Pool-based active learning on the pooled training data.

    Parameters
    ----------
    data : Dataset
        Pool (all of ``x_train``) and test set.
    campaign : CampaignConfig
        Schedule (``rounds``, ``budget``, ``cold_start_rounds``), ``strategy``, model and
        optimizer settings, ``seed``, ``mc_passes`` and ``mc_dropout`` (BALD). The
        allocation settings (``random_fraction``, ``allocation``, ...) do not apply: there is
        one pool. ``strategy`` must be a registered device strategy (not the server-side
        ``auto``).
    training : CentralTraining
        How the MLP is retrained after each round.

    Returns
    -------
    list of CurvePoint
        Round 0 (the untrained model) and one point per round.
    """
    _check(data, campaign)
    strategy = get_strategy(campaign.strategy)
    n = data.x_train.shape[0]
    layers = init_weights(_sizes(data, campaign), campaign.seed)
    curve = [CurvePoint(0, 0, trainer.evaluate(layers, data.x_test, data.y_test)[0])]
    history: list[Layers] = []
    cold = initial_labels(data, campaign)
    labeled = np.zeros(0, dtype=np.int64)
    for rnd in range(1, campaign.rounds + 1):
        if rnd <= len(cold):
            picks = cold[rnd - 1]
        else:
            pool = np.setdiff1d(np.arange(n), labeled)
            rng = np.random.default_rng([campaign.seed, rnd])
            ctx = _context(strategy.needs, layers, history, data, pool, labeled, rng, campaign.mc_passes,
                           campaign.mc_dropout)
            picks = pool[strategy.select(ctx, campaign.budget, rng).indices]
        labeled = np.concatenate([labeled, np.asarray(picks, dtype=np.int64)])
        layers = fit_mlp(data, labeled, campaign, training)
        history.append(layers)
        acc = trainer.evaluate(layers, data.x_test, data.y_test)[0]
        curve.append(CurvePoint(rnd, int(labeled.shape[0]), acc))
        logger.debug("central %s round %d: %d labels, accuracy %.4f", campaign.strategy, rnd, labeled.shape[0], acc)
    return curve


def retrain_on_picks(data: Dataset, campaign: CampaignConfig, picks_per_round: list[list[int]],
                     training: CentralTraining = CentralTraining()) -> list[CurvePoint]:
    """Train the central reference's MLP on labels picked elsewhere, round by round.

    With the picks of a federated campaign (:attr:`SimulationResult.labeled_rows
    <fedsift.simulations.runner.SimulationResult.labeled_rows>`) this separates the
    two halves of the federated-vs-central gap: the same training as
    :func:`run_central` on the labels federated *selection* chose.

    Parameters
    ----------
    data : Dataset
        Pool and test set.
    campaign : CampaignConfig
        Model widths, optimizer and seed.
    picks_per_round : list of list of int
        Per round (round 0 first), the ``x_train`` rows labeled by its end.
    training : CentralTraining
        How the MLP is trained.

    Returns
    -------
    list of CurvePoint
        One point per round; a round without labels gets the untrained model's accuracy.
    """
    curve = []
    for rnd, rows in enumerate(picks_per_round):
        idx = np.asarray(rows, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= data.x_train.shape[0]):
            raise SimulationError(f"round {rnd}: picked rows must index the {data.x_train.shape[0]}-row pool")
        layers = fit_or_init(data, idx, campaign, training)
        curve.append(CurvePoint(rnd, int(idx.size), trainer.evaluate(layers, data.x_test, data.y_test)[0]))
    return curve


def run_peer(data: Dataset, campaign: CampaignConfig, method: str) -> list[CurvePoint]:
    """The same schedule with scikit-activeml's pool strategies and a logistic regression.

    Parameters
    ----------
    data : Dataset
        Pool and test set.
    campaign : CampaignConfig
        Schedule and seed (the cold-start picks equal :func:`run_central`'s).
    method : str
        ``random``, ``margin``, ``entropy`` or ``least_confidence``.

    Returns
    -------
    list of CurvePoint
        One point per round (no untrained point: the classifier needs labels to exist).
    """
    if method not in PEER_METHODS:
        raise SimulationError(f"peer method must be one of {', '.join(PEER_METHODS)}; got '{method}'")
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import RandomSampling, UncertaintySampling
    from skactiveml.utils import MISSING_LABEL
    from sklearn.linear_model import LogisticRegression

    _check(data, campaign)
    classes = np.arange(data.num_classes)
    clf = SklearnClassifier(LogisticRegression(max_iter=1000), classes=classes, random_state=campaign.seed)
    sk_method = PEER_METHODS[method]
    qs = (RandomSampling(random_state=campaign.seed) if sk_method is None
          else UncertaintySampling(method=sk_method, random_state=campaign.seed))
    y = np.full(data.x_train.shape[0], MISSING_LABEL)
    cold = initial_labels(data, campaign)
    curve: list[CurvePoint] = []
    for rnd in range(1, campaign.rounds + 1):
        if rnd <= len(cold):
            picks = cold[rnd - 1]
        else:
            picks = qs.query(data.x_train, y, clf, batch_size=campaign.budget) if sk_method \
                else qs.query(data.x_train, y, batch_size=campaign.budget)
        y[picks] = data.y_train[picks]
        clf.fit(data.x_train, y)
        acc = float((clf.predict(data.x_test) == data.y_test).mean())
        curve.append(CurvePoint(rnd, int(np.sum(~np.isnan(y))), acc))
    return curve
