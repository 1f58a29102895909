"""device.toml: what `fedsift client run` reads, the node config it gives, and the errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedsift.client.device_config import DeviceConfig, DeviceConfigError, supernode_command
from fedsift.config import load_sectioned_config
from fedsift.errors import ConfigFileError
from fedsift.protocols.flwr_config import toml_pairs

GOOD = """
[device]
id = "cam-7"
data_path = "data/pool.jsonl"
privacy_dir = "privacy"
model_pubkey = "keys/model.pub"
providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
max_batch = 64
max_seconds = 5.0

[superlink]
address = "127.0.0.1:9091"
root_certificates = "pki/ca.crt"
auth_key = "pki/supernode-0"

[supernode]
port = 9200
"""


def load(tmp_path: Path, text: str) -> DeviceConfig:
    path = tmp_path / "device.toml"
    path.write_text(text)
    return load_sectioned_config(path, DeviceConfig)


def test_paths_resolve_against_the_file_and_the_node_config_carries_the_limits(tmp_path: Path) -> None:
    cfg = load(tmp_path, GOOD)
    nc = cfg.node_config()
    assert nc["device-id"] == "cam-7" and nc["data-path"] == str(tmp_path / "data" / "pool.jsonl")
    assert nc["privacy-dir"] == str(tmp_path / "privacy") and nc["require-signed-models"] is True
    assert nc["providers"] == "CUDAExecutionProvider,CPUExecutionProvider" and nc["max-batch"] == 64
    args = supernode_command(cfg, Path("/venv/bin"), toml_pairs(nc))
    assert args[:3] == ["/venv/bin/flower-supernode", "--superlink", "127.0.0.1:9091"]
    assert "--root-certificates" in args and "--auth-supernode-private-key" in args and "--insecure" not in args


@pytest.mark.parametrize("change, problem", [
    (('id = "cam-7"', 'id = ""'), "device.id"),
    (('privacy_dir = "privacy"\n', ""), "device.privacy_dir"),
    (('model_pubkey = "keys/model.pub"\n', ""), "device.model_pubkey"),
    (("max_batch = 64", "max_batch = 0"), "max_batch"),
    (('root_certificates = "pki/ca.crt"\n', ""), "root_certificates"),
    (('root_certificates = "pki/ca.crt"\n', "insecure = true\n"), "auth_key: SuperNode auth needs TLS"),
    (("port = 9200", "port = 70000"), "supernode.port"),
])
def test_bad_settings_are_named(tmp_path: Path, change: tuple[str, str], problem: str) -> None:
    with pytest.raises(DeviceConfigError, match=problem):
        load(tmp_path, GOOD.replace(*change))


@pytest.mark.parametrize("text, problem", [
    (GOOD + "\n[extra]\na = 1\n", "unknown table"),
    (GOOD.replace("max_batch = 64", "max_batch = 64\nmax_batchh = 1"), "device.max_batchh: unknown key"),
    (GOOD.replace("max_batch = 64", 'max_batch = "64"'), "device.max_batch: expected int"),
    (GOOD.replace('"CUDAExecutionProvider", ', "1, "), "device.providers: expected a list of str"),
    ("[device\nid=", "not valid TOML"),
    ("device = 3\n", "device must be a table"),
])
def test_malformed_files_are_refused(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(ConfigFileError, match=problem):
        load(tmp_path, text)


def test_an_oversized_config_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="limit"):
        load(tmp_path, GOOD + "#" * (2 << 20))
