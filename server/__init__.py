"""The server side: campaign loop (ServerApp), allocation, model registry, evaluation.

Depends on fedsift.protocols (and fedsift.privacy); never on the client.
"""

from .allocation import Allocation, AllocationPolicy, Pick, available_policies, get_policy, plan_allocation
from .app import build_server_app
from .campaign import Campaign, RoundResult
from .config import CampaignConfig
from .errors import ConfigError, NoNodesError, ServerError, UnknownPolicyError
from .evaluation import TestSetEvaluator
from .labeling import LabeledSample, Labeler, ReleasedSample

__all__ = [
    "Allocation", "AllocationPolicy", "Campaign", "CampaignConfig", "ConfigError", "LabeledSample", "Labeler",
    "NoNodesError", "Pick", "ReleasedSample", "RoundResult", "ServerError", "TestSetEvaluator",
    "UnknownPolicyError", "available_policies", "build_server_app", "get_policy", "plan_allocation",
]
