"""Field checks shared by every decoder: types, shapes, dtypes, sizes, finiteness.

Each check raises :class:`MessageValidationError` naming the field, so a server log
line says which part of which device's reply was rejected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .errors import MessageValidationError


def require_keys(record: Mapping[str, Any], name: str, required: Iterable[str], optional: Iterable[str] = ()) -> None:
    """Reject missing and unknown keys of one record."""
    keys = set(record.keys())
    required = set(required)
    allowed = required | set(optional)
    missing = sorted(required - keys)
    if missing:
        raise MessageValidationError(f"{name}.{missing[0]}", "is missing")
    unknown = sorted(keys - allowed)
    if unknown:
        raise MessageValidationError(f"{name}.{unknown[0]}", "is not a known field")


def check_int(value: Any, field: str, lo: int = 0, hi: int = 2**62) -> int:
    """An integer (not a bool) within ``[lo, hi]``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise MessageValidationError(field, "must be an integer", value)
    value = int(value)
    if not lo <= value <= hi:
        raise MessageValidationError(field, f"must be in [{lo}, {hi}]", value)
    return value


def check_float(value: Any, field: str, lo: float = -np.inf, hi: float = np.inf) -> float:
    """A finite float within ``[lo, hi]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise MessageValidationError(field, "must be a number", value)
    value = float(value)
    if not np.isfinite(value):
        raise MessageValidationError(field, "must be finite", value)
    if not lo <= value <= hi:
        raise MessageValidationError(field, f"must be in [{lo}, {hi}]", value)
    return value


def check_str(value: Any, field: str, max_len: int, allow_empty: bool = False) -> str:
    """A string of at most ``max_len`` characters."""
    if not isinstance(value, str):
        raise MessageValidationError(field, "must be a string", value)
    if len(value) > max_len:
        raise MessageValidationError(field, f"is longer than {max_len} characters", len(value))
    if not value and not allow_empty:
        raise MessageValidationError(field, "must not be empty")
    return value


def check_bytes(value: Any, field: str, max_len: int) -> bytes:
    """Bytes of at most ``max_len``."""
    if not isinstance(value, bytes):
        raise MessageValidationError(field, "must be bytes", type(value).__name__)
    if len(value) > max_len:
        raise MessageValidationError(field, f"is larger than {max_len} bytes", len(value))
    return value


def check_str_list(value: Any, field: str, max_items: int, max_len: int, unique: bool = False) -> list[str]:
    """A list of non-empty strings, bounded in count and length."""
    if not isinstance(value, list):
        raise MessageValidationError(field, "must be a list", type(value).__name__)
    if len(value) > max_items:
        raise MessageValidationError(field, f"has more than {max_items} items", len(value))
    out = [check_str(v, f"{field}[{i}]", max_len) for i, v in enumerate(value)]
    if unique and len(set(out)) != len(out):
        raise MessageValidationError(field, "has duplicate entries")
    return out


def check_array(
    value: Any,
    field: str,
    dtype: str,
    shape: tuple[int | None, ...],
    finite: bool = True,
    nonnegative: bool = False,
) -> np.ndarray:
    """An ndarray of the given dtype kind and shape (``None`` = any length)."""
    if not isinstance(value, np.ndarray):
        raise MessageValidationError(field, "must be an array", type(value).__name__)
    if value.dtype != np.dtype(dtype):
        raise MessageValidationError(field, f"must have dtype {dtype}", str(value.dtype))
    if value.ndim != len(shape) or any(s is not None and s != v for s, v in zip(shape, value.shape)):
        want = tuple("*" if s is None else s for s in shape)
        raise MessageValidationError(field, f"must have shape {want}", value.shape)
    if finite and value.dtype.kind == "f" and not np.all(np.isfinite(value)):
        raise MessageValidationError(field, "contains NaN or infinite values")
    if nonnegative and value.size and value.min() < 0:
        raise MessageValidationError(field, "contains negative values")
    return value
