"""Simulations: public datasets, non-IID partitions, simulated annotators, the runner."""

from .datasets import Dataset, available_datasets, load_dataset
from .errors import SimulationError
from .inprocess import InProcessGrid, run_inprocess
from .oracle import SimulatedOracle
from .partition import dirichlet_partition
from .pools import SimulatedPoolLoader
from .runner import SimulationConfig, SimulationResult, run_simulation

__all__ = [
    "Dataset", "InProcessGrid", "SimulatedOracle", "SimulatedPoolLoader", "SimulationConfig", "SimulationError",
    "SimulationResult", "available_datasets", "dirichlet_partition", "load_dataset", "run_inprocess",
    "run_simulation",
]
