"""The labeling interface: released samples in, labels out.

A :class:`Labeler` is whatever turns released samples into labels: the simulated
oracle in simulations, the labeling service with human annotators in deployment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ReleasedSample:
    """A sample a device released for labeling (payload as the device packaged it)."""

    round: int
    device_id: str
    candidate_id: str
    payload: bytes
    content_type: str
    random_slice: bool = False


@dataclass(frozen=True)
class LabeledSample:
    """A label for one released sample."""

    device_id: str
    candidate_id: str
    label: int
    annotator: str = "oracle"
    random_slice: bool = False


class Labeler(Protocol):
    """Labels released samples; may return fewer labels than samples (pending work)."""

    def label(self, samples: Sequence[ReleasedSample]) -> list[LabeledSample]:
        ...


class QueueLabeler:
    """Labels nothing itself: released items wait in the state store's labeling queue.

    Labels reach the queue from outside the run (``fedsift labels import``, or a
    labeling service writing :meth:`CampaignState.submit_labels`); a later run of the
    campaign delivers whatever has been labeled by then.
    """

    def label(self, samples: Sequence[ReleasedSample]) -> list[LabeledSample]:
        return []
