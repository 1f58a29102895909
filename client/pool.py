"""The device's local pool of unlabeled data, and where it comes from.

A pool loader is any callable ``(context) -> LocalPool``. Simulations pass one that
builds a partition of a public dataset; deployments read the device's data path
(:class:`fedsift.client.datasource.DataPathLoader`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import numpy as np
from flwr.app import Context

from .errors import PoolError


@dataclass(frozen=True)
class LocalPool:
    """Local samples: ids (never sent as is), features, optional metadata."""

    ids: list[str]
    x: np.ndarray
    metadata: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.x.ndim != 2 or self.x.shape[0] != len(self.ids):
            raise PoolError(f"pool features must have shape ({len(self.ids)}, d); got {self.x.shape}")
        if len(set(self.ids)) != len(self.ids):
            raise PoolError("pool ids must be unique")
        if self.metadata and len(self.metadata) != len(self.ids):
            raise PoolError(f"pool metadata must have {len(self.ids)} entries; got {len(self.metadata)}")


PoolLoader = Callable[[Context], LocalPool]


def device_id_of(context: Context) -> str:
    """The device's stable name: ``device-id`` from the node config, else from the partition id."""
    cfg = context.node_config
    if "device-id" in cfg:
        return str(cfg["device-id"])
    if "partition-id" in cfg:
        return f"device-{int(cfg['partition-id']):05d}"
    return f"node-{context.node_id}"
