"""The device agent: Flower ClientApp, local pool, label store, release seam.

numpy, onnxruntime and flwr only: importing this package must never import torch.
"""

from .app import DeviceAgent, build_client_app
from .datasource import DataPathLoader, read_pool
from .pool import LocalPool, device_id_of
from .release import Refusal, ReleasedItem, ReleaseGate, UnprotectedGate, npy_to_sample, sample_to_npy

__all__ = [
    "DataPathLoader", "DeviceAgent", "LocalPool", "Refusal", "ReleaseGate", "ReleasedItem", "UnprotectedGate",
    "build_client_app", "device_id_of", "read_pool", "npy_to_sample", "sample_to_npy",
]
