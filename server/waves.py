"""The message waves of a round: query, label requests, labels, training.

:class:`RoundWaves` holds the methods that talk to devices through the Flower Grid; each
validates every reply and leaves a device that answers wrongly out of that phase, with a
logged error naming the field. :class:`fedsift.server.campaign.Campaign` strings them
together into rounds and phases.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Message, RecordDict
from flwr.common.serde import recorddict_to_proto
from flwr.serverapp import Grid

from fedsift.protocols import (
    LABEL_REQUEST,
    LABELS,
    QUERY,
    LabelRequest,
    Labels,
    LabelsAck,
    ProtocolError,
    Query,
    Release,
    Summary,
    TrainConfig,
    TrainReply,
    arrayrecord_to_weights,
    weights_to_arrayrecord,
)

from .allocation import Allocation, get_policy, plan_allocation
from .labeling import LabeledSample, ReleasedSample
from .registry import ModelVersion

logger = logging.getLogger(__name__)


#: Seconds between pulls while a wave's replies are outstanding.
REPLY_POLL_S = 0.25


def exchange(grid: Grid, messages: Sequence[Message], timeout: float, poll_s: float = REPLY_POLL_S) -> list[Message]:
    """Push ``messages`` and pull their replies until all are in or ``timeout`` seconds pass.

    The same contract as Flower's ``Grid.send_and_receive`` (replies that missed the
    timeout are left out), written here with the Grid's own ``push_messages`` /
    ``pull_messages`` because Flower's deployment grid sleeps a fixed 3 s between pulls:
    a wave whose replies are in after 0.5 s would wait the full 3 s. Polling at
    ``poll_s`` takes a second or two off every message wave of a deployed round.

    Replies come back in the order their messages were pushed, whatever order they
    arrive (or a pull returns them) in: the server then labels, journals and logs a
    round's releases in the same order on every run, so a seeded run reproduces.
    """
    pushed = list(grid.push_messages(messages))
    pending = set(pushed)
    deadline = time.monotonic() + timeout
    replies: list[Message] = []
    while pending:
        got = list(grid.pull_messages(pending))
        replies.extend(got)
        pending.difference_update(m.metadata.reply_to_message_id for m in got)
        remaining = deadline - time.monotonic()
        if not pending or remaining <= 0:
            break
        time.sleep(min(poll_s, remaining))
    if pending:
        logger.warning("%d of %d replies did not come within %.0f s", len(pending), len(replies) + len(pending),
                       timeout)
    position = {m: i for i, m in enumerate(pushed)}
    replies.sort(key=lambda m: position.get(m.metadata.reply_to_message_id, len(position)))
    return replies


def content_bytes(content: RecordDict) -> int:
    """Size of a message's content as Flower serializes it."""
    return len(recorddict_to_proto(content).SerializeToString())


class RoundWaves:
    """Message waves over ``self.grid`` (attributes are set by :class:`Campaign`)."""

    rejections: list[str]
    """This round's rejected replies, who and why (the newest round's only)."""

    def _exchange(self, messages: Sequence[Message]) -> list[Message]:
        if not messages:
            return []
        return exchange(self.grid, messages, self.cfg.reply_timeout_s)

    def _message(self, content: RecordDict, node_id: int, message_type: str, rnd: int) -> Message:
        return Message(content, dst_node_id=node_id, message_type=message_type, group_id=str(rnd))

    def _reject(self, rejected: list[str], who: str, phase: str, problem: object) -> None:
        logger.error("round phase %s: rejected reply from %s: %s", phase, who, problem)
        rejected.append(who)
        self.rejections.append(f"{who} in {phase}: {problem}")

    # ---------------------------------------------------------------- phases
    def query(self, rnd: int, model: ModelVersion, strategy: str, budget: int,
              rejected: list[str]) -> tuple[list[Summary], int]:
        """Phase 1-2: every device scores its pool with ``strategy``; collect valid summaries."""
        n_offer = int(round(budget * self.cfg.random_fraction)) + int(round(budget * self.cfg.normal_share))
        q = Query(round=rnd, model_version=model.version, strategy=strategy,
                  top_k=self.cfg.top_k or max(budget, 1), num_bins=self.cfg.num_bins,
                  sketch_dim=self.cfg.sketch_dim, sketch_seed=self.cfg.seed, model_onnx=model.onnx,
                  random_k=n_offer,
                  mc_passes=self.cfg.mc_passes if strategy == "bald" else 0, mc_dropout=self.cfg.mc_dropout,
                  head=model.layers[-1] if strategy == "bald" else None, model_signature=model.signature)
        content = q.to_recorddict()
        replies = self._exchange([self._message(content, n, QUERY, rnd) for n in sorted(self.grid.get_node_ids())])
        by_device: dict[str, Summary] = {}
        total_bytes = 0
        for reply in replies:
            node = reply.metadata.src_node_id
            if reply.has_error():
                self._reject(rejected, f"node {node}", "query", reply.error.reason)
                continue
            try:
                s = Summary.from_recorddict(reply.content)
            except ProtocolError as exc:
                self._reject(rejected, f"node {node}", "query", exc)
                continue
            who = f"device {s.device_id} (node {node})"
            if s.round != rnd or s.model_version != model.version:
                self._reject(rejected, who, "query", f"field 'summary.round/model_version': answers round "
                             f"{s.round} v{s.model_version}, expected round {rnd} v{model.version}")
                continue
            if s.sketches.shape[1] != self.cfg.sketch_dim:  # the allocation stacks all devices' sketches
                self._reject(rejected, who, "query", f"field 'summary.arrays.sketches': {s.sketches.shape[1]} "
                             f"columns, expected the query's sketch_dim {self.cfg.sketch_dim}")
                continue
            if s.device_id in by_device or self.node_of.get(s.device_id, node) != node:
                self._reject(rejected, who, "query", "field 'summary.device_id': claimed by another node")
                continue
            self.node_of[s.device_id] = node
            self.labeled.setdefault(s.device_id, s.labeled_count)
            self.trainable.setdefault(s.device_id, s.labeled_count)
            by_device[s.device_id] = s
            total_bytes += content_bytes(reply.content)
        if self.state is not None:
            self.state.save_nodes(self.node_of)
        return [by_device[d] for d in sorted(by_device)], total_bytes

    def plan(self, rnd: int, summaries: Sequence[Summary], budget: int) -> Allocation:
        """Phase 3: spend the round's budget across devices."""
        rng = np.random.default_rng([self.cfg.seed, rnd])
        shortlist = self.shortlist(rnd, summaries)
        alloc = plan_allocation(summaries, budget, self.cfg.allocation_in(rnd), self.cfg.random_fraction, rng,
                                max_per_device=self.cfg.max_per_device, normal_share=self.cfg.normal_share,
                                shortlist_factor=shortlist, shortlist_share=self.cfg.kcenter_shortlist_share)
        logger.info("round %d: policy %s picked %d of budget %d on %d devices (k-center shortlist x%d)", rnd,
                    alloc.policy, len(alloc.picks), alloc.budget, len(alloc.by_device()), shortlist)
        return alloc

    def shortlist(self, rnd: int, summaries: Sequence[Summary]) -> int:
        """The round's k-center shortlist factor, for a federation of every device heard from so far.

        Counting the devices ever heard from, not this round's summaries, keeps the width
        steady when a device's pool runs dry or a device misses a round.
        """
        devices = len(set(self.node_of) | {s.device_id for s in summaries})
        return self.cfg.shortlist_in(rnd, devices)

    def request_labels(self, rnd: int, allocation: Allocation,
                       rejected: list[str]) -> tuple[list[ReleasedSample], int]:
        """Phase 4: ask each device to release its picks; keep what comes back valid."""
        wanted = allocation.by_device()
        random_slice = allocation.random_slice
        msgs = [self._message(LabelRequest(rnd, ids).to_recorddict(), self.node_of[d], LABEL_REQUEST, rnd)
                for d, ids in sorted(wanted.items())]
        released: list[ReleasedSample] = []
        refused = 0
        self.refusals = []
        answered: set[str] = set()
        for reply in self._exchange(msgs):
            node = reply.metadata.src_node_id
            if reply.has_error():
                self._reject(rejected, f"node {node}", "label_request", reply.error.reason)
                continue
            try:
                rel = Release.from_recorddict(reply.content)
            except ProtocolError as exc:
                self._reject(rejected, f"node {node}", "label_request", exc)
                continue
            asked = set(wanted.get(rel.device_id, ()))
            extra = [c for c in rel.released_ids + rel.refused_ids if c not in asked]
            if self.node_of.get(rel.device_id) != node or extra:
                problem = (f"field 'release.released_ids': unknown candidate id {extra[0]!r}" if extra
                           else "field 'release.device_id': does not match the node")
                self._reject(rejected, f"device {rel.device_id} (node {node})", "label_request", problem)
                continue
            refused += len(rel.refused_ids)
            answered.add(rel.device_id)
            if rel.device_checkpoint:
                self.device_checkpoints[rel.device_id] = rel.device_checkpoint
            self.refusals += [(rel.device_id, c, why) for c, why in zip(rel.refused_ids, rel.refusal_reasons)]
            released += [ReleasedSample(rnd, rel.device_id, cid, payload, rel.content_type,
                                        (rel.device_id, cid) in random_slice)
                         for cid, payload in zip(rel.released_ids, rel.payloads)]
        # A device that dropped out (no valid reply) is skipped for the rest of the round;
        # its picks count as refused so the caller can reallocate them.
        self.dropped = {d for d in wanted if d not in answered}
        lost = sum(len(wanted[d]) for d in self.dropped)
        if lost:
            logger.warning("round %d: no release from %s; %d picks to reallocate", rnd, sorted(self.dropped), lost)
        return released, refused + lost

    def reallocate(self, rnd: int, summaries: Sequence[Summary], allocation: Allocation, refused: int,
                   rejected: list[str]) -> list[ReleasedSample]:
        """Spend the budget of refused items once more, on candidates not yet asked for.

        One extra request wave, so a consent withdrawn between selection and release, or
        a device that dropped out, does not shrink the round's labels; refused items and
        dropped devices are not asked again this round.
        """
        first_refusals = list(self.refusals)
        taken = {(p.device_id, p.candidate_id) for p in allocation.picks}
        rng = np.random.default_rng([self.cfg.seed, rnd, 1])
        live = [s for s in summaries if s.device_id in self.node_of and s.device_id not in self.dropped]
        picks = get_policy(self.cfg.allocation_in(rnd), shortlist_factor=self.shortlist(rnd, summaries),
                           shortlist_share=self.cfg.kcenter_shortlist_share).allocate(live, refused, taken, rng)
        if not picks:
            return []
        extra = Allocation(policy=allocation.policy, budget=refused, picks=picks)
        logger.info("round %d: %d items refused; reallocating to %d other candidates", rnd, refused, len(picks))
        allocation.picks += picks
        released, _ = self.request_labels(rnd, extra, rejected)
        self.refusals = first_refusals + self.refusals
        return released

    def label(self, released: Sequence[ReleasedSample]) -> list[LabeledSample]:
        """Phase 5: the labeler (oracle or annotators) labels what was released."""
        return self.labeler.label(released)

    def deliver(self, rnd: int, labeled: Iterable[LabeledSample], rejected: list[str]) -> int:
        """Phase 6: send labels back to the devices that hold the samples."""
        per_device: dict[str, list[LabeledSample]] = {}
        for item in labeled:
            per_device.setdefault(item.device_id, []).append(item)
        msgs = [self._message(Labels(rnd, [i.candidate_id for i in items], [i.label for i in items],
                                     [i.random_slice for i in items]).to_recorddict(),
                              self.node_of[d], LABELS, rnd) for d, items in sorted(per_device.items())]
        new = 0
        for reply in self._exchange(msgs):
            node = reply.metadata.src_node_id
            try:
                if reply.has_error():
                    raise ValueError(reply.error.reason)
                ack = LabelsAck.from_recorddict(reply.content)
                new += self._apply_ack(ack, per_device, node)
            except (ProtocolError, ValueError) as exc:
                self._reject(rejected, f"node {node}", "labels", exc)
                continue
        return new

    def _apply_ack(self, ack: LabelsAck, per_device: dict[str, list[LabeledSample]], node: int) -> int:
        """Count what a device acknowledged (sent minus unknown ids), not what it newly stored:
        after a restart a device may already hold labels it never acked.

        An ack naming another node's device is refused; ids the device does not know are
        recorded as such and not sent again.
        """
        if self.node_of.get(ack.device_id) != node:
            raise ProtocolError(f"field 'labels_ack.device_id': {ack.device_id!r} is not the device on node {node}")
        unknown = set(ack.unknown_ids)
        if unknown and self.state is not None:
            logger.error("device %s does not know %d delivered ids; they are not sent again", ack.device_id,
                         len(unknown))
            self.state.mark_unknown(ack.device_id, sorted(unknown))
        items = [i for i in per_device.get(ack.device_id, []) if i.candidate_id not in unknown]
        held_out = sum(i.random_slice for i in items) if self.cfg.holds_out_validation else 0
        self.labeled[ack.device_id] = self.labeled.get(ack.device_id, 0) + len(items)
        self.trainable[ack.device_id] = self.trainable.get(ack.device_id, 0) + len(items) - held_out
        if self.state is not None:
            self.state.mark_delivered(ack.device_id, [i.candidate_id for i in items])
        self.total_labels += len(items)
        return len(items)

    def deliver_and_train(self, rnd: int, labeled: Sequence[LabeledSample], layers,
                          rejected: list[str]):  # type: ignore[no-untyped-def]
        """Phases 6-8 in as few message waves as possible.

        Labels ride on the first training wave to every device that will train; only a
        device that gets labels but has nothing to train on yet (all its items are
        held-out validation items) gets a separate labels wave. In deployment every wave
        costs seconds, so this saves one per round.
        """
        per_device: dict[str, list[LabeledSample]] = {}
        for item in labeled:
            per_device.setdefault(item.device_id, []).append(item)
        hold = self.cfg.holds_out_validation
        will_train = {d for d in self.node_of
                      if self.trainable.get(d, 0) + sum(not (hold and i.random_slice) for i in per_device.get(d, [])) > 0}
        separate = [i for d, items in per_device.items() if d not in will_train for i in items]
        new = self.deliver(rnd, separate, rejected) if separate else 0
        attach = {d: items for d, items in per_device.items() if d in will_train}
        for step in range(self.cfg.waves_in_round(rnd)):
            layers, got = self.train(rnd, step, layers, rejected, attach if step == 0 else None)
            new += got
        if self.cfg.waves_in_round(rnd) == 0 and attach:
            new += self.deliver(rnd, [i for items in attach.values() for i in items], rejected)
        return layers, new

    def train(self, rnd: int, step: int, layers, rejected: list[str],
              attach: dict[str, list[LabeledSample]] | None = None):  # type: ignore[no-untyped-def]
        """Phase 7-8: local training on devices with labels, aggregated by Flower's FedAvg or FedAvgM.

        ``attach`` carries labels to deliver with this wave; returns (weights, labels delivered).
        """
        cfg = TrainConfig(round=rnd, epochs=self.cfg.local_epochs, batch_size=self.cfg.batch_size,
                          lr=self.cfg.lr, weight_decay=self.cfg.weight_decay, seed=self.cfg.seed * 1000 + step,
                          min_steps=self.cfg.local_min_steps,
                          exclude_validation=self.cfg.holds_out_validation, proximal_mu=self.cfg.proximal_mu)
        attach = attach or {}
        nodes = {self.node_of[d] for d, n in self.trainable.items() if n > 0 and d in self.node_of}
        nodes |= {self.node_of[d] for d in attach if d in self.node_of}
        device_of = {n: d for d, n in self.node_of.items()}
        config = ConfigRecord(dict(cfg.to_configrecord()))
        fl_round = self.cfg.first_wave(rnd) + step
        msgs = [m for m in self.strategy.configure_train(fl_round, weights_to_arrayrecord(layers), config, self.grid)
                if m.metadata.dst_node_id in nodes]
        for m in msgs:
            items = attach.get(device_of.get(m.metadata.dst_node_id, ""))
            if items:  # FedAvg shares one RecordDict between messages: give this one its own
                content = RecordDict(dict(m.content.items()))
                content["labels"] = Labels(rnd, [i.candidate_id for i in items], [i.label for i in items],
                                           [i.random_slice for i in items]).to_recorddict()["labels"]
                m.content = content
        valid: list[tuple[str, Message]] = []
        delivered = 0
        for reply in self._exchange(msgs):
            node = reply.metadata.src_node_id
            try:
                if reply.has_error():
                    raise ValueError(reply.error.reason)
                if "labels_ack" in reply.content:
                    delivered += self._apply_ack(LabelsAck.from_recorddict(reply.content), attach, node)
                tr = TrainReply.from_recorddict(reply.content)
                if [w.shape for w, _ in tr.layers] != [w.shape for w, _ in layers]:
                    raise ProtocolError("field 'train_reply.arrays': shapes differ from the global model")
            except (ProtocolError, ValueError) as exc:
                self._reject(rejected, f"node {node}", "train", exc)
                continue
            valid.append((tr.device_id, reply))
        if not valid:
            logger.warning("round %d: no valid training reply; the model is unchanged", rnd)
            return layers, delivered
        # FedAvg sums in the order given: sort by device so every backend agrees bit for bit.
        valid.sort(key=lambda t: t[0])
        arrays, _ = self.strategy.aggregate_train(fl_round, [m for _, m in valid])
        # FedAvgM's momentum arithmetic returns float64; the model (and the protocol) is float32.
        arrays = ArrayRecord({k: Array(np.asarray(v.numpy(), dtype=np.float32)) for k, v in arrays.items()})
        return arrayrecord_to_weights(arrays), delivered
