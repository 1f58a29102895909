"""What ``flwr run`` needs to start fedsift in deployment: an app folder and its run config.

``flwr run APP NAME --run-config "k=v ..."`` packages ``APP`` (a folder with a
``pyproject.toml`` naming the ServerApp and ClientApp) and starts it on a SuperLink.
:func:`write_app` writes such a folder for fedsift's apps; :func:`toml_pairs` renders
``--run-config`` / ``--node-config`` values; :func:`campaign_config` turns a run config
into a :class:`CampaignConfig` (keys are the config's field names with ``-`` for ``_``,
plus ``num-rounds`` for ``rounds`` as in Flower's templates), naming any bad key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import get_type_hints

from fedsift.protocols.flwr_config import ConfigValue, toml_pairs

from .config import CampaignConfig
from .errors import ConfigError


RUN_SETTINGS: dict[str, ConfigValue] = {
    "state-path": "", "phase": "all", "model-key": "", "provenance-dir": "", "results-path": "",
}
"""Run config keys that are not campaign settings: where the state store, the model
signing key, the provenance log and a JSON-lines results file live, and the phase."""

DEPLOYMENT_DEFAULTS: dict[str, ConfigValue] = {
    **RUN_SETTINGS, "num-rounds": 10, "budget": 20, "strategy": "auto", "num-features": 0, "num-classes": 0,
    "min-nodes": 1, "train-rounds": 5, "node-wait-s": 120.0, "reply-timeout-s": 600.0,
}
"""Defaults of the deployment app (``flwr run`` refuses run config keys without one)."""

_ALIASES = {"num-rounds": "rounds"}


def campaign_config(run_config: Mapping[str, object], ignore: set[str] | frozenset[str] = frozenset()
                    ) -> CampaignConfig:
    """A :class:`CampaignConfig` from a run config (not yet validated: callers add what they know).

    Parameters
    ----------
    run_config : mapping
        ``context.run_config``.
    ignore : set of str
        Further keys that belong to the caller (e.g. the trial apps' ``dataset``).

    Raises
    ------
    ConfigError
        For an unknown key or a value of the wrong type, naming the key.
    """
    hints = get_type_hints(CampaignConfig)
    names = {f.name for f in dataclasses.fields(CampaignConfig)}
    values: dict[str, object] = {}
    for key, value in run_config.items():
        if key in RUN_SETTINGS or key in ignore:
            continue
        name = _ALIASES.get(key, key.replace("-", "_"))
        if name not in names:
            raise ConfigError(key, value, "unknown run config key")
        hint = hints[name]
        if hint is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif hint is list[int] or hint is list[str]:
            value = [v.strip() for v in str(value).split(",") if v.strip()]
            value = [int(v) for v in value] if hint is list[int] else value
        elif not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise ConfigError(key, value, f"must be {hint.__name__}")
        values[name] = value
    return CampaignConfig(**values)  # type: ignore[arg-type]  (validated by the caller, after its overrides)


def write_app(app_dir: str | Path, defaults: Mapping[str, ConfigValue],
              server_app: str = "fedsift.server.app:app", client_app: str = "fedsift.client.app:app",
              name: str = "fedsift-campaign") -> Path:
    """Write a Flower app folder whose components are fedsift's (or any) apps.

    ``flwr run`` checks component references statically and sees plain assignments only,
    so the folder gets a one-screen module ``fedsift_flwr_app.py`` re-exporting the two
    components, and ``pyproject.toml`` points at it. Nothing is installed: the SuperLink
    and SuperNodes run with ``--disable-runtime-dependency-installation`` and import
    fedsift from their own environment.

    Parameters
    ----------
    app_dir : str or Path
        Folder to write into (created).
    defaults : mapping
        Run config defaults (every key a run may set needs one).
    server_app, client_app : str
        ``module:attribute`` of the components.
    name : str
        The app's project name.

    Returns
    -------
    Path
        The app folder.
    """
    folder = Path(app_dir)
    folder.mkdir(parents=True, exist_ok=True)
    imports = []
    for role, ref in (("server_app", server_app), ("client_app", client_app)):
        module, _, attr = ref.partition(":")
        if not module or not attr or "." in attr:
            raise ValueError(f"{role} = {ref!r}: must be 'package.module:attribute'")
        imports.append(f"from {module} import {attr} as _{role}\n")
    (folder / "fedsift_flwr_app.py").write_text(
        '"""fedsift components, re-exported for the static check of `flwr run`."""\n\n'
        + "".join(imports) + "\nserver_app = _server_app\nclient_app = _client_app\n", encoding="utf-8")
    lines = "\n".join(toml_pairs({k: v}).replace("=", " = ", 1) for k, v in defaults.items())
    (folder / "pyproject.toml").write_text(f"""\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "{name}"
version = "1.0.0"
description = "fedsift: federated active learning (ServerApp and ClientApp)"
license = "Apache-2.0"
dependencies = []

[tool.flwr.app]
publisher = "fedsift"

[tool.flwr.app.components]
serverapp = "fedsift_flwr_app:server_app"
clientapp = "fedsift_flwr_app:client_app"

[tool.flwr.app.config]
{lines}
""", encoding="utf-8")
    return folder
