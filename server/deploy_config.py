"""The server side of a deployment: ``server.toml`` as dataclasses, and the SuperLink's command line.

``fedsift server start --config server.toml`` reads::

    [superlink]
    host = "127.0.0.1"          # bind address of the SuperLink (Fleet, Control and ServerAppIo APIs)
    port = 9091
    database = "state/superlink.db"
    ca_cert = "pki/ca.crt"      # TLS: written by `fedsift certs`
    server_cert = "pki/server.crt"
    server_key = "pki/server.key"
    insecure = false            # true: no TLS (and then no SuperNode auth); for local trials only
    supernode_auth = true

    [federation]
    name = "fedsift"            # the connection name `flwr` and `fedsift round run` use
    flwr_home = "state/flwr-home"
    supernode_keys = ["pki/supernode-0.pub"]   # registered when the SuperLink is up

    [state]
    path = "state/campaign.db"  # fedsift's state store (rounds, queue, labels, models)

Relative paths are relative to the config file's folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError


@dataclass
class SuperLinkConfig:
    """How the SuperLink is started."""

    host: str = "127.0.0.1"
    port: int = 9091
    database: str = "superlink.db"
    ca_cert: str = ""
    server_cert: str = ""
    server_key: str = ""
    insecure: bool = False
    supernode_auth: bool = True

    def validate(self) -> SuperLinkConfig:
        if not 1 <= self.port <= 65535:
            raise ConfigError("superlink.port", self.port, "must be in [1, 65535]")
        if self.insecure and self.supernode_auth:
            raise ConfigError("superlink.supernode_auth", True, "needs TLS: Flower refuses SuperNode auth "
                              "with insecure = true")
        if not self.insecure:
            for name in ("ca_cert", "server_cert", "server_key"):
                if not getattr(self, name):
                    raise ConfigError(f"superlink.{name}", "", "TLS needs it (write a trial PKI with "
                                      "`fedsift certs --out pki`), or set insecure = true")
        return self


@dataclass
class FederationConfig:
    """The connection the central team's tools use, and the SuperNodes allowed in."""

    name: str = "fedsift"
    flwr_home: str = "flwr-home"
    supernode_keys: list[str] = field(default_factory=list)


@dataclass
class StateConfig:
    """fedsift's own state store."""

    path: str = "campaign.db"


@dataclass
class ServerDeployConfig:
    """``server.toml``: see the module docstring."""

    superlink: SuperLinkConfig = field(default_factory=SuperLinkConfig)
    federation: FederationConfig = field(default_factory=FederationConfig)
    state: StateConfig = field(default_factory=StateConfig)

    def resolve(self, base: Path) -> ServerDeployConfig:
        """Make every relative path relative to ``base`` (the config file's folder)."""
        def at(p: str) -> str:
            return str((base / p).resolve()) if p and not Path(p).is_absolute() else p

        s = self.superlink
        s.database, s.ca_cert, s.server_cert, s.server_key = map(at, (s.database, s.ca_cert, s.server_cert,
                                                                         s.server_key))
        self.federation.flwr_home = at(self.federation.flwr_home)
        self.federation.supernode_keys = [at(k) for k in self.federation.supernode_keys]
        self.state.path = at(self.state.path)
        return self

    def validate(self) -> ServerDeployConfig:
        self.superlink.validate()
        if not self.federation.name.replace("-", "").replace("_", "").isalnum():
            raise ConfigError("federation.name", self.federation.name, "letters, digits, '-' and '_' only")
        return self


def superlink_command(cfg: SuperLinkConfig, bin_dir: Path) -> list[str]:
    """The ``flower-superlink`` command line for ``cfg`` (runtime dependency installation off)."""
    args = [str(bin_dir / "flower-superlink"), "--host", cfg.host, "--port", str(cfg.port),
            "--disable-runtime-dependency-installation"]
    if cfg.database:  # empty: Flower's in-memory state (nothing survives a SuperLink restart)
        args += ["--database", cfg.database]
    if cfg.insecure:
        args.append("--insecure")
    else:
        args += ["--ssl-ca-certfile", cfg.ca_cert, "--ssl-certfile", cfg.server_cert, "--ssl-keyfile", cfg.server_key]
    if cfg.supernode_auth:
        args.append("--enable-supernode-auth")
    return args


def connection_toml(name: str, address: str, ca_cert: str | None) -> str:
    """``FLWR_HOME/config.toml`` naming one SuperLink connection (``ca_cert`` None = insecure)."""
    conn = [f'address = "{address}"']
    conn.append(f"root-certificates = {json.dumps(ca_cert)}" if ca_cert else "insecure = true")
    return f'[superlink]\ndefault = "{name}"\n\n[superlink.{name}]\n' + "\n".join(conn) + "\n"
