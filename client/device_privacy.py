"""A real device's release gate, built from the files in its privacy folder.

The node config names the folder as ``privacy-dir`` (``fedsift client run`` sets it from
``device.toml``). It holds:

- ``id.key``: the device's pseudonym key (created on first use; deleting it makes every
  id the device ever sent unlinkable);
- ``consent.db``: the device owner's consent records (:class:`ConsentStore`);
- ``keyset.json``: the labeling service's signed key set, read at every release, so a
  key rotation is a file copy;
- ``labeling-signer.pub``: the labeling service's Ed25519 public key (PEM), pinned:
  key sets it did not sign are refused, and then nothing is sent;
- ``device-log.db`` / ``device-log.key``: the device's own provenance log and its
  checkpoint key (created on first use).

Metadata is masked with Presidio only when the pool carries metadata, so a device whose
pool is features only needs no Presidio. A device without a privacy folder refuses
every message, unless its node config says ``allow-unprotected = true`` (trials on
synthetic data): then ids and samples leave as they are, which the log warns about.
"""

from __future__ import annotations

import logging
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flwr.app import Context

from fedsift.privacy.checkpoint import generate_signer, load_signer
from fedsift.privacy.consent import ConsentStore
from fedsift.privacy.keyset import KeySet
from fedsift.privacy.provenance import ProvenanceLog
from fedsift.privacy.pseudonym import Pseudonymizer
from fedsift.privacy.sealing import Sealer

from .errors import ClientError
from .privacy_gate import PrivacyGate
from .release import ReleaseGate, UnprotectedGate

logger = logging.getLogger(__name__)

PRIVACY_KEY = "privacy-dir"
UNPROTECTED_KEY = "allow-unprotected"
MAX_KEYSET_BYTES = 1 << 20


class PrivacySetupError(ClientError):
    """The device's privacy folder is missing or incomplete; names the file."""


class _NoFields:
    """The masking report of a record with no fields."""

    def totals(self) -> dict[str, int]:
        return {}


class MetadataMasker:
    """Presidio's masker (fedsift's default policy), built on the first record that has fields."""

    def __init__(self) -> None:
        self._masker = None

    def mask_record(self, record: dict[str, str]):  # type: ignore[no-untyped-def]
        if not record:
            return {}, _NoFields()
        if self._masker is None:
            from fedsift.privacy.masking import Masker

            self._masker = Masker()
        return self._masker.mask_record(record)


def _pinned_signer(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise PrivacySetupError(f"{path}: the labeling service's public key (PEM) cannot be read: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise PrivacySetupError(f"{path}: not an Ed25519 public key")
    return key


def _keyset_reader(path: Path):  # type: ignore[no-untyped-def]
    def read() -> KeySet:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise PrivacySetupError(f"{path}: no signed key set from the labeling service: {exc.strerror}") from exc
        if len(raw) > MAX_KEYSET_BYTES:
            raise PrivacySetupError(f"{path}: {len(raw)} bytes, over the {MAX_KEYSET_BYTES}-byte limit")
        return KeySet.from_json(raw)

    return read


def device_gate(context: Context, device_id: str) -> ReleaseGate:
    """The release gate for this device from its node config (see the module docstring)."""
    cfg = context.node_config
    folder = cfg.get(PRIVACY_KEY)
    if not folder:
        if cfg.get(UNPROTECTED_KEY):
            logger.warning("device %s runs without a privacy folder (allow-unprotected): ids and samples leave "
                           "unmasked and unsealed", device_id)
            return UnprotectedGate()
        raise PrivacySetupError(f"node config has no '{PRIVACY_KEY}': a device sends nothing without its privacy "
                                "folder (pseudonym key, consent store, the labeling service's signed key set); "
                                f"set '{UNPROTECTED_KEY}=true' only for trials on synthetic data")
    root = Path(str(folder))
    signer_pub = root / "labeling-signer.pub"
    if not signer_pub.exists():
        raise PrivacySetupError(f"{signer_pub}: missing; copy the labeling service's public key here")
    log_key = root / "device-log.key"
    origin = f"fedsift.device/{device_id}"
    checkpoint_signer = load_signer(log_key, origin) if log_key.exists() else generate_signer(log_key, origin)
    return PrivacyGate(Pseudonymizer(root / "id.key"), ConsentStore(root / "consent.db"), MetadataMasker(),
                       Sealer(_pinned_signer(signer_pub)), _keyset_reader(root / "keyset.json"),
                       log=(ProvenanceLog(root / "device-log.db", origin=origin), checkpoint_signer))
