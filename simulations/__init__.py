"""Simulations: public datasets, non-IID partitions, simulated annotators, the runner.

Names are imported on first use (PEP 562): a trial SuperNode's ClientApp process loads
its pool without importing the server side (torch).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Dataset": "datasets", "available_datasets": "datasets", "load_dataset": "datasets",
    "SimulationError": "errors", "InProcessGrid": "inprocess", "run_inprocess": "inprocess",
    "SimulatedOracle": "oracle", "dirichlet_partition": "partition", "SimulatedPoolLoader": "pools",
    "SimulationConfig": "runner", "SimulationResult": "runner", "run_simulation": "runner",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .datasets import Dataset, available_datasets, load_dataset
    from .errors import SimulationError
    from .inprocess import InProcessGrid, run_inprocess
    from .oracle import SimulatedOracle
    from .partition import dirichlet_partition
    from .pools import SimulatedPoolLoader
    from .runner import SimulationConfig, SimulationResult, run_simulation


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'fedsift.simulations' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value
