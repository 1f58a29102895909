"""Simulated device pools: a Dirichlet partition of a public dataset's train split."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from flwr.app import Context

from fedsift.client.pool import LocalPool

from .datasets import load_dataset
from .partition import dirichlet_partition


@functools.lru_cache(maxsize=8)
def _partition(dataset: str, clients: int, alpha: float, seed: int):  # type: ignore[no-untyped-def]
    return dirichlet_partition(load_dataset(dataset).y_train, clients, alpha, seed)


@dataclass(frozen=True)
class SimulatedPoolLoader:
    """Pool of the device with ``partition-id`` i: partition i of the dataset.

    Picklable (plain fields), so Flower's Ray engine can ship it to its actors.
    """

    dataset: str
    clients: int
    alpha: float
    seed: int

    def __call__(self, context: Context) -> LocalPool:
        pid = int(context.node_config["partition-id"])
        idx = _partition(self.dataset, self.clients, self.alpha, self.seed)[pid]
        data = load_dataset(self.dataset)
        return LocalPool(ids=[f"s{int(i):06d}" for i in idx], x=data.x_train[idx])
