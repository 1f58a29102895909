"""Size limits every decoder enforces, so one hostile peer cannot exhaust the other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Upper bounds on message contents.

    Parameters
    ----------
    max_candidates : int
        Candidates one device may propose per round.
    max_id_length : int
        Characters in one candidate or device id.
    max_sketch_dim : int
        Width of an embedding sketch.
    max_bins : int
        Bins of the score histogram.
    max_classes : int
        Classes of the model.
    max_payload_bytes : int
        Bytes of one released sample.
    max_release_items : int
        Items in one release or label request.
    max_model_bytes : int
        Bytes of one ONNX model artifact.
    max_metadata_fields : int
        Masked metadata fields per candidate.
    max_metadata_chars : int
        Characters in one masked metadata value.
    """

    max_candidates: int = 4096
    max_id_length: int = 128
    max_sketch_dim: int = 256
    max_bins: int = 256
    max_classes: int = 1000
    max_payload_bytes: int = 1 << 20
    max_release_items: int = 4096
    max_model_bytes: int = 64 << 20
    max_metadata_fields: int = 32
    max_metadata_chars: int = 4096


DEFAULT_LIMITS = Limits()
