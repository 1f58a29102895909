"""The device's label store, kept in Flower's per-node ``context.state``.

``context.state`` survives between messages in simulation and deployment (where every
message runs in a fresh process), unlike module globals.
"""

from __future__ import annotations

from flwr.app import ConfigRecord, Context

_KEY = "fedsift.labels"


def load_labels(context: Context) -> dict[str, int]:
    """Local sample id -> label for every label received so far."""
    if _KEY not in context.state:
        return {}
    rec = context.state[_KEY]
    return dict(zip(rec["ids"], (int(v) for v in rec["labels"])))


def store_labels(context: Context, new: dict[str, int]) -> int:
    """Merge ``new`` into the store (idempotent); returns how many were not there before."""
    labels = load_labels(context)
    added = sum(1 for k in new if k not in labels)
    labels.update(new)
    ids = sorted(labels)
    context.state[_KEY] = ConfigRecord({"ids": ids, "labels": [labels[i] for i in ids]})
    return added
