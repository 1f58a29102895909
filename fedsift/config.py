"""Load TOML configuration into the config dataclasses, in one place.

A file may hold top-level simulation keys (``dataset``, ``clients``, ``alpha``,
``backend``, ``oracle_noise``) and a ``[campaign]`` table with
:class:`fedsift.server.CampaignConfig` fields. Unknown keys and wrong types are errors
that name the key; command-line options override file values.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any, get_type_hints

from fedsift.server.config import CampaignConfig

from .errors import ConfigFileError

MAX_CONFIG_BYTES = 1 << 20


def _check_type(section: str, key: str, value: Any, hint: Any) -> Any:
    origin = getattr(hint, "__origin__", None)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if origin is list:
        (inner,) = hint.__args__
        if not isinstance(value, list) or not all(isinstance(v, inner) and not isinstance(v, bool) for v in value):
            raise ConfigFileError(f"{section}{key}: expected a list of {inner.__name__}, got {value!r}")
        return value
    if isinstance(hint, type) and (not isinstance(value, hint) or (hint is not bool and isinstance(value, bool))):
        raise ConfigFileError(f"{section}{key}: expected {hint.__name__}, got {type(value).__name__} {value!r}")
    return value


def fill(cls: type, values: dict[str, Any], section: str = "") -> Any:
    """Build dataclass ``cls`` from ``values``, rejecting unknown keys and wrong types."""
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in names:
            raise ConfigFileError(f"{section}{key}: unknown key; known keys: {', '.join(sorted(names))}")
        kwargs[key] = _check_type(section, key, value, hints[key])
    return cls(**kwargs)


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file, with errors that name the file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigFileError(f"cannot read config {path}: {exc.strerror}") from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigFileError(f"config {path} is {len(raw)} bytes; the limit is {MAX_CONFIG_BYTES}")
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigFileError(f"config {path} is not valid TOML: {exc}") from exc


def load_simulation_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None,
                           campaign_overrides: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    """A :class:`SimulationConfig` from an optional TOML file plus overrides."""
    from fedsift.simulations.runner import SimulationConfig

    data = read_toml(path) if path else {}
    campaign_values = dict(data.pop("campaign", {}) or {})
    if not isinstance(campaign_values, dict):
        raise ConfigFileError("campaign: must be a table")
    campaign_values.update({k: v for k, v in (campaign_overrides or {}).items() if v is not None})
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    sim = fill(SimulationConfig, data)
    sim.campaign = fill(CampaignConfig, campaign_values, "campaign.")
    return sim


def load_sectioned_config(path: str | Path, cls: type) -> Any:
    """A config dataclass whose fields are section dataclasses (``server.toml``, ``device.toml``).

    Each TOML table fills the field of the same name; unknown tables and keys, and
    wrong types, are errors naming ``table.key``. Relative paths in the result are
    resolved against the file's folder (``cls.resolve``), then ``cls.validate`` runs.
    """
    data = read_toml(path)
    hints = get_type_hints(cls)
    sections = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for name, values in data.items():
        if name not in sections:
            raise ConfigFileError(f"{path}: unknown table [{name}]; known tables: {', '.join(sorted(sections))}")
        if not isinstance(values, dict):
            raise ConfigFileError(f"{path}: {name} must be a table ([{name}])")
        kwargs[name] = fill(hints[name], values, f"{name}.")
    return cls(**kwargs).resolve(Path(path).resolve().parent).validate()
