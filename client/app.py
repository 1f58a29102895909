"""The fedsift ClientApp: one handler per message of the round.

``build_client_app(pool_loader, gate_factory)`` returns a Flower ``ClientApp``; the same
object runs in the in-process backend, on Flower's Ray simulation engine and under a
SuperNode. Handlers decode and validate the incoming message, act on the device's
pool and label store, and reply with a typed message. A malformed message raises,
which Flower turns into an error reply; the device's state is left untouched.
"""

from __future__ import annotations

import hashlib
import logging
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from flwr.app import ConfigRecord, Context, Message
from flwr.clientapp import ClientApp

from fedsift.edge_runtime import OnnxScorer, build_summary, get_strategy, softmax
from fedsift.edge_runtime.strategies import NEEDS_COMMITTEE, NEEDS_LABELED, NEEDS_MC, ScoringContext
from fedsift.protocols import (
    EvaluateReply,
    LabelRequest,
    Labels,
    LabelsAck,
    Query,
    Release,
    TrainConfig,
    TrainReply,
    arrayrecord_to_weights,
)

from . import trainer
from .datasource import DataPathLoader
from .errors import ClientError, NoLabelsError, StaleRoundError
from .labels import device_store, load_labels, load_validation, newest_round, remember_round, store_labels
from .model_cache import ModelVerifier, accept_model
from .pool import LocalPool, PoolLoader, device_id_of
from .release import SCOPE_LABELING, SCOPE_TRAINING, Refusal, ReleaseGate, UnprotectedGate

logger = logging.getLogger(__name__)

GateFactory = Callable[[Context, str], ReleaseGate]

# ONNX sessions are expensive to build and read-only: keep a few per process, keyed
# by the artifact's hash (shared safely by virtual nodes in one simulation actor).
_SCORERS: OrderedDict[str, OnnxScorer] = OrderedDict()
_MAX_SCORERS = 4


def cached_scorer(model: bytes, providers: tuple[str, ...] = ()) -> OnnxScorer:
    """An ONNX Runtime session for ``model`` (on the preferred ``providers``), reused across messages."""
    key = hashlib.sha256(model).hexdigest() + "|" + ",".join(providers)
    if key in _SCORERS:
        _SCORERS.move_to_end(key)
        return _SCORERS[key]
    scorer = OnnxScorer(model, providers) if providers else OnnxScorer(model)
    _SCORERS[key] = scorer
    while len(_SCORERS) > _MAX_SCORERS:
        _SCORERS.popitem(last=False)
    return scorer


@dataclass(frozen=True)
class DeviceLimits:
    """A device's resource settings, from its node config (``fedsift client run`` sets them).

    ``providers`` (comma-separated ONNX Runtime execution providers, in preference
    order; CPU is always the fallback), ``max-batch`` (rows per ONNX Runtime call) and
    ``max-seconds`` (scoring stops starting new batches after this long; the summary
    then covers the rows scored).
    """

    providers: tuple[str, ...] = ()
    max_batch: int = 512
    max_seconds: float = 0.0

    @classmethod
    def from_context(cls, context: Context) -> DeviceLimits:
        cfg = context.node_config
        providers = tuple(p.strip() for p in str(cfg.get("providers", "")).split(",") if p.strip())
        try:
            limits = cls(providers, int(cfg.get("max-batch", 512)), float(cfg.get("max-seconds", 0.0)))
        except (TypeError, ValueError) as exc:
            raise ClientError(f"node config max-batch / max-seconds: not a number ({exc})") from exc
        if limits.max_batch < 1 or limits.max_seconds < 0:
            raise ClientError(f"node config: max-batch = {limits.max_batch} must be >= 1 and "
                              f"max-seconds = {limits.max_seconds} >= 0")
        return limits


def _stable_seed(*parts: object) -> int:
    return zlib.crc32("|".join(str(p) for p in parts).encode())


_COMMITTEE_KEY = "fedsift.committee"
COMMITTEE_SIZE = 3


def remember_model(context: Context, version: int, model: bytes) -> list[bytes]:
    """The last ``COMMITTEE_SIZE`` verified global models, newest last (QBC's committee).

    From the device store when there is one (``accept_model`` keeps them there), else
    from ``context.state``.
    """
    store = device_store(context)
    if store is not None:
        with store:
            kept = store.models()
        models = [m for _, m in kept][-COMMITTEE_SIZE:]
        return models if models and models[-1] == model else [*models, model][-COMMITTEE_SIZE:]
    versions: list[int] = []
    models = []
    if _COMMITTEE_KEY in context.state:
        rec = context.state[_COMMITTEE_KEY]
        versions, models = list(rec["versions"]), list(rec["models"])
    if version not in versions:
        versions.append(version)
        models.append(model)
    versions, models = versions[-COMMITTEE_SIZE:], models[-COMMITTEE_SIZE:]
    context.state[_COMMITTEE_KEY] = ConfigRecord({"versions": versions, "models": models})
    return models


def mc_dropout_probs(embedding: np.ndarray, head: tuple[np.ndarray, np.ndarray], passes: int, rate: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Probabilities under ``passes`` dropout masks on the embedding, shape (T, n, classes)."""
    w, b = head
    keep = 1.0 - rate
    out = []
    for _ in range(passes):
        mask = rng.random(embedding.shape) < keep
        out.append(softmax((embedding * mask / keep) @ w.T + b))
    return np.stack(out) if out else np.zeros((0, embedding.shape[0], w.shape[0]))


def check_round(context: Context, kind: str, rnd: int) -> bool:
    """Remember the newest round seen; False for a message from an older round (a replay)."""
    newest = newest_round(context, "query")
    if rnd < newest:
        logger.warning("ignoring %s for round %d: this device already saw round %d (replayed or stale)",
                       kind, rnd, newest)
        return False
    if kind == "query":
        remember_round(context, "query", rnd)
    return True


def _default_gate(context: Context, device_id: str) -> ReleaseGate:
    return UnprotectedGate()


class DeviceAgent:
    """Handlers of one device, bound to its pool loader and release gate factory."""

    def __init__(self, pool_loader: PoolLoader, gate_factory: GateFactory = _default_gate,
                 model_verifier: ModelVerifier | Callable[[Context], ModelVerifier | None] | None = None) -> None:
        self.pool_loader = pool_loader
        self.gate_factory = gate_factory
        self.model_verifier = model_verifier

    def _open(self, context: Context) -> tuple[str, LocalPool, ReleaseGate]:
        device_id = device_id_of(context)
        return device_id, self.pool_loader(context), self.gate_factory(context, device_id)

    # ---------------------------------------------------------------- query
    def query(self, msg: Message, context: Context) -> Message:
        """Score the unlabeled pool and reply with a :class:`Summary`."""
        q = Query.from_recorddict(msg.content)
        if not check_round(context, "query", q.round):
            raise StaleRoundError(f"query for round {q.round} is older than the newest round this device saw")
        verifier = self.model_verifier(context) if callable(self.model_verifier) else self.model_verifier
        accept_model(context, verifier, q.model_version, q.model_onnx, q.model_signature)
        device_id, pool, gate = self._open(context)
        labeled = load_labels(context)
        unlabeled = np.array([i for i, sid in enumerate(pool.ids) if sid not in labeled], dtype=np.int64)
        local_ids = [pool.ids[i] for i in unlabeled]
        ok = gate.consented(local_ids, SCOPE_LABELING) if len(local_ids) else np.zeros(0, bool)
        eligible = unlabeled[ok]
        limits = DeviceLimits.from_context(context)
        scorer = cached_scorer(q.model_onnx, limits.providers)
        deadline = time.monotonic() + limits.max_seconds if limits.max_seconds else None
        out = scorer.score(pool.x[eligible], batch_size=limits.max_batch, deadline=deadline)
        eligible = eligible[:out.probs.shape[0]]
        rng = np.random.default_rng(_stable_seed(q.sketch_seed, q.round, device_id))
        strategy = get_strategy(q.strategy)
        ctx = self._context(strategy.needs, q, context, pool, labeled, out, pool.x[eligible], rng)
        scores = np.asarray(strategy.score(ctx, rng), dtype=np.float64)
        selection = strategy.select(ctx, q.top_k, rng)
        eligible_ids = [pool.ids[i] for i in eligible]
        outgoing = gate.outgoing_ids(eligible_ids)
        metadata = gate.masked_metadata([pool.metadata[i] for i in eligible]) if pool.metadata else None
        n_random = min(q.random_k, len(eligible))
        random_ids = [outgoing[i] for i in rng.choice(len(eligible), n_random, replace=False)] if n_random else []
        summary = build_summary(q, device_id, outgoing, scores, out.probs, out.embedding,
                                labeled_count=len(labeled), consented_count=len(eligible), metadata=metadata,
                                random_ids=random_ids, pool_size=len(unlabeled), selection=selection)
        hist, counts, eps = gate.noise_summary(summary.histogram, summary.class_counts, rng)
        summary = replace(summary, histogram=np.asarray(hist, np.int64), class_counts=np.asarray(counts, np.int64),
                          epsilon_spent=eps)
        return Message(summary.to_recorddict(), reply_to=msg)

    def _context(self, needs: frozenset[str], q: Query, context: Context, pool: LocalPool, labeled: dict[str, int],
                 out, features: np.ndarray, rng: np.random.Generator) -> ScoringContext:  # type: ignore[no-untyped-def]
        """Compute only the extra model outputs the strategy declared it needs."""
        labeled_emb = mc = committee = None
        if NEEDS_LABELED in needs:
            rows = [i for i, sid in enumerate(pool.ids) if sid in labeled]
            labeled_emb = cached_scorer(q.model_onnx).score(pool.x[rows]).embedding
        if NEEDS_MC in needs and q.head is not None and q.mc_passes > 0:
            mc = mc_dropout_probs(out.embedding, q.head, q.mc_passes, q.mc_dropout, rng)
        if NEEDS_COMMITTEE in needs:
            models = remember_model(context, q.model_version, q.model_onnx)
            committee = np.stack([cached_scorer(m).score(features).probs for m in models])
        return ScoringContext(out.probs, out.embedding, features, labeled_emb, mc, committee)

    # ------------------------------------------------------- label request
    def label_request(self, msg: Message, context: Context) -> Message:
        """Release the requested samples through the gate, or refuse each with a reason."""
        req = LabelRequest.from_recorddict(msg.content)
        device_id, pool, gate = self._open(context)
        labeled = load_labels(context)
        index = {out: i for i, out in enumerate(gate.outgoing_ids(pool.ids))}
        released_ids, payloads, refused, reasons = [], [], [], []
        content_type = "npy"
        fresh = check_round(context, "label_request", req.round)
        for cid in req.candidate_ids:
            i = index.get(cid)
            if not fresh:
                outcome: object = Refusal(cid, "stale-round")
            elif i is None:
                outcome = Refusal(cid, "unknown-id")
            elif pool.ids[i] in labeled:
                outcome = Refusal(cid, "already-labeled")
            else:
                meta = pool.metadata[i] if pool.metadata else {}
                outcome = gate.release(req.round, device_id, pool.ids[i], cid, pool.x[i], meta)
            if isinstance(outcome, Refusal):
                refused.append(cid)
                reasons.append(outcome.reason)
            else:
                released_ids.append(outcome.candidate_id)
                payloads.append(outcome.payload)
                content_type = outcome.content_type
        if refused:
            logger.info("device %s refused %d of %d requested items", device_id, len(refused), len(req.candidate_ids))
        reply = Release(round=req.round, device_id=device_id, released_ids=released_ids, payloads=payloads,
                        content_type=content_type, refused_ids=refused, refusal_reasons=reasons,
                        device_checkpoint=gate.checkpoint())
        return Message(reply.to_recorddict(), reply_to=msg)

    # -------------------------------------------------------------- labels
    def labels(self, msg: Message, context: Context) -> Message:
        """Store delivered labels; unknown ids are reported back, not stored."""
        device_id, pool, gate = self._open(context)
        ack = self._store(Labels.from_recorddict(msg.content), context, device_id, pool, gate)
        return Message(ack.to_recorddict(), reply_to=msg)

    def _store(self, lab: Labels, context: Context, device_id: str, pool: LocalPool, gate: ReleaseGate) -> LabelsAck:
        index = dict(zip(gate.outgoing_ids(pool.ids), pool.ids))
        new, unknown, validation = {}, [], set()
        flags = lab.validation or [False] * len(lab.candidate_ids)
        for cid, y, flag in zip(lab.candidate_ids, lab.labels, flags):
            if cid in index:
                new[index[cid]] = y
                if flag:
                    validation.add(index[cid])
            else:
                unknown.append(cid)
        store_labels(context, new, validation)
        return LabelsAck(round=lab.round, device_id=device_id, stored=len(new), unknown_ids=unknown)

    # --------------------------------------------------------------- train
    def _labeled_data(self, context: Context, pool: LocalPool, gate: ReleaseGate, scope: str,
                      exclude_validation: bool = False):  # type: ignore[no-untyped-def]
        labels = load_labels(context)
        held_out = load_validation(context) if exclude_validation else set()
        rows = [i for i, sid in enumerate(pool.ids) if sid in labels and sid not in held_out]
        if rows:
            ok = gate.consented([pool.ids[i] for i in rows], scope)
            rows = [r for r, keep in zip(rows, ok) if keep]
        y = np.array([labels[pool.ids[i]] for i in rows], dtype=np.int64)
        return pool.x[rows], y

    def train(self, msg: Message, context: Context) -> Message:
        """Train the global weights on the local labeled items (FedAvg reply format)."""
        cfg = TrainConfig.from_recorddict(msg.content)
        layers = arrayrecord_to_weights(msg.content["arrays"])
        device_id, pool, gate = self._open(context)
        ack = None
        if "labels" in msg.content:  # labels delivered with the first training wave
            ack = self._store(Labels.from_recorddict(msg.content), context, device_id, pool, gate)
        x, y = self._labeled_data(context, pool, gate, SCOPE_TRAINING, cfg.exclude_validation)
        if y.size == 0:
            raise NoLabelsError(f"device {device_id} holds no labels to train on")
        result = trainer.train(layers, x, y, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                               weight_decay=cfg.weight_decay, min_steps=cfg.min_steps,
                               seed=_stable_seed(cfg.seed, cfg.round, device_id), proximal_mu=cfg.proximal_mu)
        content = TrainReply(device_id=device_id, layers=result.layers, num_examples=int(y.size),
                             train_loss=result.loss).to_recorddict()
        if ack is not None:
            content["labels_ack"] = ack.to_recorddict()["labels_ack"]
        return Message(content, reply_to=msg)

    # ------------------------------------------------------------ evaluate
    def evaluate(self, msg: Message, context: Context) -> Message:
        """Accuracy of the global weights on the local labeled items."""
        TrainConfig.from_recorddict(msg.content)
        layers = arrayrecord_to_weights(msg.content["arrays"])
        device_id, pool, gate = self._open(context)
        x, y = self._labeled_data(context, pool, gate, SCOPE_TRAINING)
        acc, loss = trainer.evaluate(layers, x, y)
        reply = EvaluateReply(device_id=device_id, num_examples=int(y.size), accuracy=acc, loss=loss)
        return Message(reply.to_recorddict(), reply_to=msg)


def build_client_app(pool_loader: PoolLoader, gate_factory: GateFactory = _default_gate,
                     model_verifier: ModelVerifier | Callable[[Context], ModelVerifier | None] | None = None
                     ) -> ClientApp:
    """A Flower ClientApp serving fedsift's message types for one kind of device.

    Parameters
    ----------
    pool_loader : callable
        ``(context) -> LocalPool``: where this device's unlabeled data comes from.
    gate_factory : callable
        ``(context, device_id) -> ReleaseGate``: the privacy layer for this device.
    model_verifier : ModelVerifier or callable, optional
        The pinned model-signing key (or ``(context) -> ModelVerifier`` reading it from the
        node config); with it, unsigned or wrongly signed models are refused.

    Returns
    -------
    flwr.clientapp.ClientApp
    """
    agent = DeviceAgent(pool_loader, gate_factory, model_verifier)
    app = ClientApp()
    app.query()(agent.query)
    app.query("label_request")(agent.label_request)
    app.query("labels")(agent.labels)
    app.train()(agent.train)
    app.evaluate()(agent.evaluate)
    return app


def _device_gate(context: Context, device_id: str) -> ReleaseGate:
    from .device_privacy import device_gate  # cryptography-only; Presidio only for metadata

    return device_gate(context, device_id)


class PinnedModelKey:
    """Model verifier from the node config's ``model-pubkey`` (Ed25519 PEM the device pins).

    Without one the device accepts unsigned models, unless ``require-signed-models`` is
    set (``fedsift client run`` sets it whenever it pins a key, and refuses to start
    without one unless the device config says otherwise).
    """

    def __call__(self, context: Context) -> ModelVerifier | None:
        path = context.node_config.get("model-pubkey")
        if path:
            return ModelVerifier.from_pem(str(path))
        if context.node_config.get("require-signed-models"):
            raise ClientError("node config require-signed-models is set but no model-pubkey is pinned")
        return None


# Deployment entry point (pyproject [tool.flwr.app.components]): the pool comes from
# the SuperNode's ``--node-config data-path=...`` (folder, .npz, .jsonl, .csv or SQLite),
# labels persist in ``store-path``, models are checked against ``model-pubkey``.
# Releases go through the device's privacy folder (``privacy-dir``): pseudonyms, consent,
# masking, sealing to the labeling service.
app = build_client_app(DataPathLoader(), gate_factory=_device_gate, model_verifier=PinnedModelKey())
