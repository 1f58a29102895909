"""Messages shared by server and devices, their Flower record encoding and validation.

Depends on nothing else in fedsift.
"""

from .errors import MessageValidationError, ProtocolError, ProtocolVersionError
from .limits import DEFAULT_LIMITS, Limits
from .messages import (
    EVALUATE,
    LABEL_REQUEST,
    LABELS,
    QUERY,
    TRAIN,
    LabelRequest,
    Labels,
    LabelsAck,
    Query,
    Release,
    Summary,
)
from .training import (
    EvaluateReply,
    TrainConfig,
    TrainReply,
    arrayrecord_to_weights,
    weights_to_arrayrecord,
)
from .version import PROTOCOL_VERSION

__all__ = [
    "DEFAULT_LIMITS", "EVALUATE", "LABELS", "LABEL_REQUEST", "PROTOCOL_VERSION", "QUERY", "TRAIN",
    "EvaluateReply", "LabelRequest", "Labels", "LabelsAck", "Limits", "MessageValidationError",
    "ProtocolError", "ProtocolVersionError", "Query", "Release", "Summary", "TrainConfig", "TrainReply",
    "arrayrecord_to_weights", "weights_to_arrayrecord",
]
