"""A device's ``device.toml`` as dataclasses, and the SuperNode command line it gives.

``fedsift client run --config device.toml`` reads::

    [device]
    id = "device-a"                 # stable name (pseudonymous ids derive from the pool's own ids)
    data_path = "data/pool.jsonl"   # folder of .npy, .npz, .jsonl, .csv or SQLite (see datasource)
    store_path = "state/device.db"  # labels and replay protection survive between runs
    model_pubkey = "keys/model.pub" # the server's model-signing key, pinned
    privacy_dir = "privacy"         # pseudonym key, consent.db, keyset.json, labeling-signer.pub
    allow_unprotected = false       # true: no privacy folder, ids and samples leave as they are (trials only)
    require_signed_models = true
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]   # ONNX Runtime, CPU fallback
    max_batch = 256                 # rows per ONNX Runtime call
    max_seconds = 30.0              # scoring time per query (0 = no limit)
    max_memory_mb = 512             # features held in memory (0 = library default)

    [superlink]
    address = "127.0.0.1:9091"
    root_certificates = "pki/ca.crt"
    auth_key = "pki/supernode-0"    # OpenSSH EC private key, registered on the SuperLink
    insecure = false

    [supernode]
    host = "127.0.0.1"              # the SuperNode's local API
    port = 9094
    flwr_home = "state/flwr-home"

Relative paths are relative to the config file's folder. The SuperNode never installs
app dependencies at run time (Flower's default; devices are offline): the fedsift
ClientApp comes from this environment (``pip install fedsift[edge]``, no torch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import ClientError


class DeviceConfigError(ClientError):
    """A device setting is missing or out of range; names the field."""


@dataclass
class DeviceSettings:
    """What the ClientApp reads from the node config."""

    id: str = ""
    data_path: str = ""
    store_path: str = "device.db"
    model_pubkey: str = ""
    privacy_dir: str = ""
    allow_unprotected: bool = False
    require_signed_models: bool = True
    providers: list[str] = field(default_factory=list)
    max_batch: int = 512
    max_seconds: float = 0.0
    max_memory_mb: float = 0.0


@dataclass
class SuperLinkAddress:
    address: str = "127.0.0.1:9091"
    root_certificates: str = ""
    auth_key: str = ""
    insecure: bool = False


@dataclass
class SuperNodeSettings:
    host: str = "127.0.0.1"
    port: int = 9094
    flwr_home: str = "flwr-home"


@dataclass
class DeviceConfig:
    """``device.toml``: see the module docstring."""

    device: DeviceSettings = field(default_factory=DeviceSettings)
    superlink: SuperLinkAddress = field(default_factory=SuperLinkAddress)
    supernode: SuperNodeSettings = field(default_factory=SuperNodeSettings)

    def resolve(self, base: Path) -> DeviceConfig:
        """Make every relative path relative to ``base`` (the config file's folder)."""
        def at(p: str) -> str:
            return str((base / p).resolve()) if p and not Path(p).is_absolute() else p

        d, s = self.device, self.superlink
        d.data_path, d.store_path, d.model_pubkey = at(d.data_path), at(d.store_path), at(d.model_pubkey)
        d.privacy_dir = at(d.privacy_dir)
        s.root_certificates, s.auth_key = at(s.root_certificates), at(s.auth_key)
        self.supernode.flwr_home = at(self.supernode.flwr_home)
        return self

    def validate(self) -> DeviceConfig:
        d, s = self.device, self.superlink
        if not d.id:
            raise DeviceConfigError("device.id: missing; every device needs a stable name")
        if not d.data_path:
            raise DeviceConfigError("device.data_path: missing; where the device's local pool is")
        if d.require_signed_models and not d.model_pubkey:
            raise DeviceConfigError("device.model_pubkey: missing while require_signed_models = true; pin the "
                                    "server's model key (or set require_signed_models = false for a trial)")
        if not d.privacy_dir and not d.allow_unprotected:
            raise DeviceConfigError("device.privacy_dir: missing; a device releases nothing without its privacy "
                                    "folder (or set allow_unprotected = true for a trial on synthetic data)")
        if d.max_batch < 1:
            raise DeviceConfigError(f"device.max_batch = {d.max_batch}: must be >= 1")
        if d.max_seconds < 0 or d.max_memory_mb < 0:
            raise DeviceConfigError("device.max_seconds / max_memory_mb: must be >= 0")
        if any("," in p or not p for p in d.providers):
            raise DeviceConfigError(f"device.providers = {d.providers!r}: names of ONNX Runtime providers")
        if not s.insecure and not s.root_certificates:
            raise DeviceConfigError("superlink.root_certificates: missing; TLS needs the CA certificate "
                                    "(or insecure = true for a local trial)")
        if s.insecure and s.auth_key:
            raise DeviceConfigError("superlink.auth_key: SuperNode auth needs TLS; set insecure = false")
        if not 1 <= self.supernode.port <= 65535:
            raise DeviceConfigError(f"supernode.port = {self.supernode.port}: must be in [1, 65535]")
        return self

    def node_config(self) -> dict[str, bool | int | float | str]:
        """The SuperNode's ``--node-config``: what :mod:`fedsift.client.app` reads."""
        d = self.device
        cfg: dict[str, bool | int | float | str] = {
            "device-id": d.id, "data-path": d.data_path, "store-path": d.store_path,
            "max-batch": d.max_batch, "max-seconds": float(d.max_seconds), "max-memory-mb": float(d.max_memory_mb)}
        if d.providers:
            cfg["providers"] = ",".join(d.providers)
        if d.model_pubkey:
            cfg["model-pubkey"] = d.model_pubkey
        if d.require_signed_models:
            cfg["require-signed-models"] = True
        if d.privacy_dir:
            cfg["privacy-dir"] = d.privacy_dir
        elif d.allow_unprotected:
            cfg["allow-unprotected"] = True
        return cfg


def supernode_command(cfg: DeviceConfig, bin_dir: Path, node_config: str) -> list[str]:
    """The ``flower-supernode`` command line (``node_config`` already rendered as TOML pairs)."""
    s = cfg.superlink
    args = [str(bin_dir / "flower-supernode"), "--superlink", s.address, "--host", cfg.supernode.host,
            "--port", str(cfg.supernode.port), "--node-config", node_config]
    args += ["--insecure"] if s.insecure else ["--root-certificates", s.root_certificates]
    if s.auth_key:
        args += ["--auth-supernode-private-key", s.auth_key]
    return args
