"""Flower config values as ``--run-config`` / ``--node-config`` take them (shared by both sides)."""

from __future__ import annotations

import json
from collections.abc import Mapping

ConfigValue = bool | int | float | str


def toml_pairs(config: Mapping[str, ConfigValue]) -> str:
    """``key=value`` pairs as ``--run-config`` / ``--node-config`` read them (TOML values).

    Parameters
    ----------
    config : mapping
        Keys to bool, int, float or str values.

    Returns
    -------
    str
        Space-separated pairs, strings quoted.
    """
    parts = []
    for key, value in config.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, float)):
            text = repr(value)
        elif isinstance(value, str):
            text = json.dumps(value)
        else:
            raise TypeError(f"config '{key}' = {value!r}: must be bool, int, float or str")
        parts.append(f"{key}={text}")
    return " ".join(parts)
