"""The global model: MLP weights, their initialization and ONNX export.

Weights travel as numpy arrays in the layout of ``fedsift.protocols.training``. The
server builds the equivalent torch module only to export ONNX (logits + embedding,
dynamic batch axis) for the devices.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

Layers = list[tuple[np.ndarray, np.ndarray]]


def init_weights(sizes: list[int], seed: int) -> Layers:
    """He-initialized MLP weights for ``sizes = [in, hidden..., classes]`` (numpy, seeded)."""
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in)
        layers.append((w.astype(np.float32), np.zeros(fan_out, dtype=np.float32)))
    return layers


def to_torch(layers: Layers):  # type: ignore[no-untyped-def]
    """A torch module returning ``(logits, embedding)`` with these weights."""
    import torch

    class _MLP(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = torch.nn.ModuleList(torch.nn.Linear(w.shape[1], w.shape[0]) for w, _ in layers)

        def forward(self, x):  # type: ignore[no-untyped-def]
            h = x
            for layer in self.layers[:-1]:
                h = torch.relu(layer(h))
            return self.layers[-1](h), h

    module = _MLP()
    with torch.no_grad():
        for lin, (w, b) in zip(module.layers, layers):
            lin.weight.copy_(torch.from_numpy(np.asarray(w, dtype=np.float32)))
            lin.bias.copy_(torch.from_numpy(np.asarray(b, dtype=np.float32)))
    return module.eval()


def export_onnx(layers: Layers) -> bytes:
    """Serialize the model to ONNX with outputs ``logits`` and ``embedding``.

    Uses torch's TorchScript-based exporter (``dynamo=False``): for a static MLP it
    gives the same graph as the dynamo exporter in ~0.05 s instead of ~2 s, which
    matters when a model is published every round.
    """
    import torch

    module = to_torch(layers)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module, (torch.zeros(1, layers[0][0].shape[1]),), buf,
            input_names=["x"], output_names=["logits", "embedding"],
            dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}, "embedding": {0: "batch"}},
            opset_version=17, dynamo=False,
        )
    return buf.getvalue()
