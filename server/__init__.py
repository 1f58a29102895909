"""The server side: campaign loop (ServerApp), allocation, model registry, evaluation.

Depends on fedsift.protocols (and fedsift.privacy); never on the client. Names are
imported on first use (PEP 562), so a process that needs one small part (the labeling
types, the state store, the trial PKI) does not pay for torch, which only the model
registry's ONNX export needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Allocation": "allocation", "AllocationPolicy": "allocation", "Pick": "allocation",
    "available_policies": "allocation", "get_policy": "allocation", "plan_allocation": "allocation",
    "build_server_app": "app", "Campaign": "campaign", "RoundResult": "campaign", "CampaignConfig": "config",
    "ConfigError": "errors", "NoNodesError": "errors", "ServerError": "errors", "UnknownPolicyError": "errors",
    "TestSetEvaluator": "evaluation", "LabeledSample": "labeling", "Labeler": "labeling",
    "ReleasedSample": "labeling",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .allocation import Allocation, AllocationPolicy, Pick, available_policies, get_policy, plan_allocation
    from .app import build_server_app
    from .campaign import Campaign, RoundResult
    from .config import CampaignConfig
    from .errors import ConfigError, NoNodesError, ServerError, UnknownPolicyError
    from .evaluation import TestSetEvaluator
    from .labeling import LabeledSample, Labeler, ReleasedSample


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'fedsift.server' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value
