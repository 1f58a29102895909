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


def load_validation(context: Context) -> set[str]:
    """Local ids of labeled items that belong to the random (validation) slice."""
    if _KEY not in context.state or "validation" not in context.state[_KEY]:
        return set()
    rec = context.state[_KEY]
    return {i for i, flag in zip(rec["ids"], rec["validation"]) if flag}


def store_labels(context: Context, new: dict[str, int], validation: set[str] = frozenset()) -> int:  # type: ignore[assignment]
    """Merge ``new`` into the store (idempotent); returns how many were not there before."""
    labels = load_labels(context)
    flags = load_validation(context) | set(validation)
    added = sum(1 for k in new if k not in labels)
    labels.update(new)
    ids = sorted(labels)
    context.state[_KEY] = ConfigRecord({"ids": ids, "labels": [labels[i] for i in ids],
                                        "validation": [i in flags for i in ids]})
    return added
