"""An in-process Flower Grid: the real ServerApp and ClientApp in one process.

Flower's simulation engine always starts Ray (8-11 s, ~1 GiB). This backend serves the
``Grid`` interface itself: every message and reply is serialized and parsed with
Flower's own protobuf conversion (``message_to_proto``/``message_from_proto``), each
virtual node keeps its own ``Context`` (so ``context.state`` behaves as on a
SuperNode), and a ClientApp exception becomes an error reply, as Flower does. It is
deterministic and fast, for tests and quick runs; ``--backend ray`` runs the very
same apps on Flower's engine.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable
from uuid import uuid4

from flwr.app import Context, Message, RecordDict
from flwr.app.error import Error
from flwr.clientapp import ClientApp
from flwr.common.constant import SUPERLINK_NODE_ID
from flwr.common.serde import message_from_proto, message_to_proto
from flwr.proto.message_pb2 import Message as ProtoMessage  # pylint: disable=E0611
from flwr.serverapp import Grid, ServerApp
from flwr.supercore.run import Run
from flwr.supercore.task_identity import TaskIdentity

logger = logging.getLogger(__name__)

CLIENT_APP_EXCEPTION = 1  # error code of a reply whose ClientApp raised


def _wire(message: Message) -> Message:
    """Round-trip a message through Flower's protobuf form, as a transport would."""
    data = message_to_proto(message).SerializeToString()
    return message_from_proto(ProtoMessage.FromString(data))


class InProcessGrid(Grid):
    """Deliver messages to ClientApps held in this process.

    Parameters
    ----------
    client_app : ClientApp
        The app every virtual node runs.
    num_nodes : int
        Virtual SuperNodes; node ``i`` gets ``partition-id = i``.
    run_id : int
        Run id stamped on messages.
    seed : int
        Seeds the node ids (Flower draws them at random too).
    tap : callable, optional
        Called with every (serialized) reply, e.g. to inspect all outgoing traffic.
    """

    def __init__(self, client_app: ClientApp, num_nodes: int, run_id: int = 1, seed: int = 0,
                 node_config: Callable[[int], dict] | None = None,
                 tap: Callable[[Message], None] | None = None) -> None:
        self.client_app = client_app
        self._run = Run.create_empty(run_id)
        rng = random.Random(seed)
        self._ids = [rng.getrandbits(63) or 1 for _ in range(num_nodes)]
        self.contexts: dict[int, Context] = {}
        for i, node_id in enumerate(self._ids):
            cfg = {"partition-id": i, "num-partitions": num_nodes}
            if node_config is not None:
                cfg.update(node_config(i))
            self.contexts[node_id] = Context(run_id=run_id, node_id=node_id, node_config=cfg,
                                             state=RecordDict(), run_config={})
        self._replies: dict[str, Message] = {}
        self.tap = tap
        self.offline: set[int] = set()

    def set_run(self, run: Run) -> None:
        self._run = run

    @property
    def run(self) -> Run:
        return self._run

    def create_message(self, content: RecordDict, message_type: str, dst_node_id: int, group_id: str,
                       ttl: float | None = None) -> Message:
        return Message(content, dst_node_id, message_type, ttl=ttl, group_id=group_id)

    def get_node_ids(self) -> Iterable[int]:
        return [n for n in self._ids if n not in self.offline]

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        ids = []
        for msg in messages:
            msg_id = str(uuid4())
            msg.metadata.__dict__["_message_id"] = msg_id
            node = msg.metadata.dst_node_id
            if node not in self.contexts or node in self.offline:
                continue  # like a SuperLink: no reply ever comes from an unknown node
            incoming = _wire(msg)
            try:
                reply = self.client_app(incoming, self.contexts[node])
            except Exception as exc:  # noqa: BLE001  (any ClientApp failure becomes an error reply)
                logger.debug("ClientApp on node %d raised %r", node, exc)
                reply = Message(Error(code=CLIENT_APP_EXCEPTION, reason=f"{type(exc).__name__}: {exc}"),
                                reply_to=incoming)
            reply = _wire(reply)
            if self.tap is not None:
                self.tap(reply)
            self._replies[msg_id] = reply
            ids.append(msg_id)
        return ids

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        return [self._replies.pop(i) for i in list(message_ids) if i in self._replies]

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> Iterable[Message]:
        return self.pull_messages(self.push_messages(messages))


def run_inprocess(server_app: ServerApp, grid: InProcessGrid) -> None:
    """Run ``server_app`` against ``grid`` in this thread."""
    TaskIdentity.run_id = grid.run.run_id
    TaskIdentity.node_id = SUPERLINK_NODE_ID
    TaskIdentity.task_id = 1
    context = Context(run_id=grid.run.run_id, node_id=SUPERLINK_NODE_ID, node_config={}, state=RecordDict(),
                      run_config={})
    server_app(grid, context)
