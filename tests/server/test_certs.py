"""The trial PKI: the chain verifies, the server certificate names loopback, keys load as Flower loads them."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.verification import PolicyBuilder, Store

from fedsift.server.certs import TrialPKI, generate_trial_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TrialPKI:
    return generate_trial_pki(tmp_path_factory.mktemp("pki"), supernodes=3)


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_server_certificate_chains_to_the_ca_for_loopback(pki: TrialPKI) -> None:
    ca, server = load_cert(pki.ca_cert), load_cert(pki.server_cert)
    for name in (x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")):
        verifier = PolicyBuilder().store(Store([ca])).build_server_verifier(name)
        chain = verifier.verify(server, [])
        assert chain[-1] == ca


def test_server_certificate_san_names_127_0_0_1_and_localhost(pki: TrialPKI) -> None:
    san = load_cert(pki.server_cert).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert "localhost" in san.get_values_for_type(x509.DNSName)


def test_server_certificate_is_refused_for_another_host(pki: TrialPKI) -> None:
    verifier = PolicyBuilder().store(Store([load_cert(pki.ca_cert)])).build_server_verifier(
        x509.DNSName("example.org"))
    with pytest.raises(Exception, match="(?i)subject|name|san"):
        verifier.verify(load_cert(pki.server_cert), [])


def test_ca_is_a_ca_and_keys_match_certificates(pki: TrialPKI) -> None:
    ca = load_cert(pki.ca_cert)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for cert_path, key_path in ((pki.ca_cert, pki.ca_key), (pki.server_cert, pki.server_key)):
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert key.public_key().public_numbers() == load_cert(cert_path).public_key().public_numbers()
        assert key_path.stat().st_mode & 0o077 == 0


def test_supernode_keys_load_as_flower_loads_them(pki: TrialPKI) -> None:
    from flwr.cli.supernode.register import try_load_public_key

    assert len(pki.supernodes) == 3
    seen = set()
    for keys in pki.supernodes:
        private = serialization.load_ssh_private_key(keys.private_key.read_bytes(), password=None)
        public = serialization.load_ssh_public_key(keys.public_key.read_bytes())
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        assert isinstance(public, ec.EllipticCurvePublicKey)
        assert private.public_key().public_numbers() == public.public_numbers()
        assert keys.public_key.read_text().startswith("ecdsa-sha2-nistp384 ")
        assert keys.private_key.stat().st_mode & 0o077 == 0
        seen.add(try_load_public_key(keys.public_key))  # what `flwr supernode register` does
    assert len(seen) == 3


def test_bad_arguments_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="supernodes = -1"):
        generate_trial_pki(tmp_path, supernodes=-1)


def test_certs_command_writes_the_pki_and_the_signing_keys(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from fedsift.cli import app
    from fedsift.privacy.keyset import KeySet, verify_keyset
    from cryptography.hazmat.primitives import serialization

    result = CliRunner().invoke(app, ["certs", "--out", str(tmp_path / "pki"), "--supernodes", "2"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "pki").iterdir())
    assert names == ["ca.crt", "ca.key", "labeling", "model.key", "model.key.pub", "server.crt", "server.key",
                     "supernode-0", "supernode-0.pub", "supernode-1", "supernode-1.pub"]
    labeling = tmp_path / "pki" / "labeling"
    assert sorted(p.name for p in labeling.iterdir()) == ["hpke-keys.json", "keyset.json", "signer.key", "signer.pub"]
    # The key set devices seal to is signed by the key they pin, and valid now.
    import time

    pub = serialization.load_pem_public_key((labeling / "signer.pub").read_bytes())
    keyset = verify_keyset(KeySet.from_json((labeling / "keyset.json").read_bytes()), pub, time.time())  # type: ignore[arg-type]
    assert [k.key_id for k in keyset.keys] == [k["key_id"] for k in json.loads((labeling / "hpke-keys.json").read_text())]
    for private in ("ca.key", "server.key", "model.key", "supernode-0", "labeling/signer.key", "labeling/hpke-keys.json"):
        assert (tmp_path / "pki" / private).stat().st_mode & 0o077 == 0, private
