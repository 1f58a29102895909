"""On-device runtime: ONNX Runtime scoring, acquisition scores and summaries.

numpy and onnxruntime only: importing this package must never import torch.
"""

from .errors import EdgeRuntimeError, ModelLoadError, UnknownStrategyError
from .scorer import OnnxScorer, ScoreOutput, choose_providers, softmax
from .strategies import AcquisitionStrategy, available_strategies, get_strategy
from .summary import build_summary, top_k

__all__ = [
    "AcquisitionStrategy", "EdgeRuntimeError", "ModelLoadError", "OnnxScorer", "ScoreOutput",
    "UnknownStrategyError", "available_strategies", "build_summary", "choose_providers", "get_strategy",
    "softmax", "top_k",
]
