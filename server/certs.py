"""A trial PKI for a SuperLink and its SuperNodes on loopback.

``generate_trial_pki(folder, supernodes)`` writes:

- ``ca.crt`` / ``ca.key``: a self-signed CA (EC P-384), the root certificate that
  SuperNodes (``--root-certificates``) and the ``flwr`` CLI (``root-certificates``)
  trust;
- ``server.crt`` / ``server.key``: the SuperLink's TLS certificate signed by the CA,
  valid for ``127.0.0.1`` (SAN IP) and ``localhost`` (SAN DNS), for
  ``flower-superlink --ssl-ca-certfile --ssl-certfile --ssl-keyfile``;
- ``supernode-<i>`` / ``supernode-<i>.pub``: each SuperNode's authentication key pair
  on NIST P-384, the private key in OpenSSH format (what
  ``flower-supernode --auth-supernode-private-key`` loads with
  ``load_ssh_private_key``) and the public key in OpenSSH format (what
  ``flwr supernode register KEY.pub`` loads with ``load_ssh_public_key``).

Meant for trials and tests: keys are unencrypted and certificates short-lived.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

logger = logging.getLogger(__name__)

CURVE = ec.SECP384R1
"""NIST P-384, the curve Flower documents for SuperNode keys (any NIST curve is accepted)."""


@dataclass(frozen=True)
class SuperNodeKeys:
    """One SuperNode's authentication key pair (both in OpenSSH format)."""

    private_key: Path
    public_key: Path


@dataclass(frozen=True)
class TrialPKI:
    """Paths of a trial PKI written by :func:`generate_trial_pki`."""

    folder: Path
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    supernodes: list[SuperNodeKeys] = field(default_factory=list)


def _write(path: Path, data: bytes, private: bool) -> None:
    """Write ``data`` to ``path`` (owner-only when it is a private key), atomically."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # a stale or planted .tmp (or a link) must not keep its mode or target
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o600 if private else 0o644)
    os.fchmod(fd, 0o600 if private else 0o644)  # whatever the umask
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fedsift trial"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(days: int = 30) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed CA key and certificate.

    Parameters
    ----------
    days : int
        Validity from now.

    Returns
    -------
    tuple
        The CA's private key and certificate.
    """
    key = ec.generate_private_key(CURVE())
    now = dt.datetime.now(dt.timezone.utc)
    name = _name("fedsift trial CA")
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA384()))
    return key, cert


def make_server_cert(ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate,
                     hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
                     days: int = 30) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A TLS server key and certificate signed by the CA, valid for ``hosts``.

    Parameters
    ----------
    ca_key, ca_cert
        The issuing CA.
    hosts : tuple of str
        IP addresses (SAN IP) and host names (SAN DNS) the certificate is valid for;
        the first one is also the common name.
    days : int
        Validity from now.

    Returns
    -------
    tuple
        The server's private key and certificate.
    """
    if not hosts:
        raise ValueError("hosts: at least one IP address or host name is needed")
    sans: list[x509.GeneralName] = []
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    key = ec.generate_private_key(CURVE())
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(_name(hosts[0])).issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=True, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA384()))
    return key, cert


def write_supernode_keys(folder: Path, name: str) -> SuperNodeKeys:
    """Write an EC key pair for SuperNode authentication in OpenSSH format.

    Parameters
    ----------
    folder : Path
        Where to write ``<name>`` (private) and ``<name>.pub`` (public).
    name : str
        File name stem; also the key's comment.

    Returns
    -------
    SuperNodeKeys
        The two paths.
    """
    key = ec.generate_private_key(CURVE())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    keys = SuperNodeKeys(folder / name, folder / f"{name}.pub")
    _write(keys.private_key, private, private=True)
    _write(keys.public_key, public + f" {name}\n".encode("ascii"), private=False)
    return keys


def generate_trial_pki(folder: str | Path, supernodes: int, days: int = 30) -> TrialPKI:
    """Write a CA, a SuperLink certificate for loopback and ``supernodes`` key pairs.

    Parameters
    ----------
    folder : str or Path
        Output folder (created; existing files of the same names are replaced).
    supernodes : int
        Number of SuperNode key pairs (``supernode-0`` ... ``supernode-<N-1>``), >= 0.
    days : int
        Validity of the certificates from now.

    Returns
    -------
    TrialPKI
        Paths of everything written.
    """
    if supernodes < 0:
        raise ValueError(f"supernodes = {supernodes}: must be >= 0")
    if days < 1:
        raise ValueError(f"days = {days}: must be >= 1")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = make_ca(days)
    server_key, server_cert = make_server_cert(ca_key, ca_cert, days=days)
    pki = TrialPKI(out, out / "ca.crt", out / "ca.key", out / "server.crt", out / "server.key")
    _write(pki.ca_key, _pem_key(ca_key), private=True)
    _write(pki.ca_cert, ca_cert.public_bytes(serialization.Encoding.PEM), private=False)
    _write(pki.server_key, _pem_key(server_key), private=True)
    _write(pki.server_cert, server_cert.public_bytes(serialization.Encoding.PEM), private=False)
    for i in range(supernodes):
        pki.supernodes.append(write_supernode_keys(out, f"supernode-{i}"))
    logger.info("trial PKI in %s: CA, SuperLink certificate for 127.0.0.1/localhost, %d SuperNode keys",
                out, supernodes)
    return pki


@dataclass(frozen=True)
class LabelingKeys:
    """The labeling service's keys for a trial (see :func:`write_labeling_keys`)."""

    signer_key: Path
    signer_pub: Path
    hpke_keys: Path
    keyset: Path


def write_labeling_keys(folder: str | Path, days: int = 30) -> LabelingKeys:
    """Write a labeling service's signing key, one HPKE key and the key set devices seal to.

    Devices get ``signer.pub`` (pinned as ``labeling-signer.pub``) and ``keyset.json`` in
    their privacy folder; ``signer.key`` and ``hpke-keys.json`` stay with the labeling
    service, which alone opens sealed releases.

    Parameters
    ----------
    folder : str or Path
        Output folder (created).
    days : int
        Validity of the HPKE key and of the signed key set.
    """
    import time

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from fedsift.privacy.sealing import LabelingService

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    signer = Ed25519PrivateKey.generate()
    keys = LabelingKeys(out / "signer.key", out / "signer.pub", out / "hpke-keys.json", out / "keyset.json")
    _write(keys.signer_key, signer.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()), private=True)
    _write(keys.signer_pub, signer.public_key().public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo),
           private=False)
    now = int(time.time())
    service = LabelingService(signer)
    service.add_key("trial-1", now - 300, now + days * 86400)
    service.save_keys(keys.hpke_keys)
    _write(keys.keyset, service.publish(now - 300, now + days * 86400).to_json().encode(), private=False)
    return keys
