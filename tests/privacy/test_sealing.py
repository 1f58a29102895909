"""Sealed release (HPKE) and the signed key set: round trip, tampering, moved headers, rotation."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedsift.privacy.errors import KeySetError, SealingError
from fedsift.privacy.keyset import KeySet, current_key, verify_keyset
from fedsift.privacy.sealing import LabelingService, SealedRelease, Sealer

NOW = 1_700_000_000


@pytest.fixture()
def service() -> LabelingService:
    svc = LabelingService(Ed25519PrivateKey.generate())
    svc.add_key("k1", NOW - 1000, NOW + 10_000)
    return svc


@pytest.fixture()
def sealer(service) -> Sealer:
    return Sealer(service.signer_public_key, clock=lambda: NOW)


def _seal(sealer, keyset, payload=b'{"text": "masked <EMAIL_ADDRESS>"}', **kw):
    args = {"candidate_id": "c-1", "round": 4, "device_id": "dev-7"} | kw
    return sealer.seal(payload, keyset, **args)


def test_round_trip_through_json(service, sealer):
    published = KeySet.from_json(service.publish(NOW - 10, NOW + 3600).to_json())
    sealed = _seal(sealer, published)
    assert b"EMAIL" not in sealed.ciphertext
    received = SealedRelease.from_dict(sealed.to_dict())
    assert service.open(received, candidate_id="c-1", round=4, device_id="dev-7") == \
        b'{"text": "masked <EMAIL_ADDRESS>"}'
    assert received.header.key_id == "k1"


def test_tampered_ciphertext_fails(service, sealer):
    sealed = _seal(sealer, service.publish(NOW - 10, NOW + 3600))
    for i in (0, 40, len(sealed.ciphertext) - 1):  # encapsulated key, body, tag
        bad = bytearray(sealed.ciphertext)
        bad[i] ^= 1
        with pytest.raises(SealingError, match="does not open"):
            service.open(dataclasses.replace(sealed, ciphertext=bytes(bad)))


@pytest.mark.parametrize("field,value", [("candidate_id", "c-2"), ("round", 5), ("device_id", "dev-8")])
def test_header_moved_to_another_sample_round_or_device_fails(service, sealer, field, value):
    sealed = _seal(sealer, service.publish(NOW - 10, NOW + 3600))
    moved = dataclasses.replace(sealed, header=dataclasses.replace(sealed.header, **{field: value}))
    with pytest.raises(SealingError, match="header moved"):
        service.open(moved)
    with pytest.raises(SealingError, match=f"header {field}"):
        service.open(sealed, **{field: value})  # the request was for something else


def test_wrong_or_unknown_key_id_fails(service, sealer):
    service.add_key("k2", NOW - 1000, NOW + 10_000)
    sealed = _seal(sealer, service.publish(NOW - 10, NOW + 3600))
    other = "k1" if sealed.header.key_id == "k2" else "k2"
    with pytest.raises(SealingError, match="does not open"):
        service.open(dataclasses.replace(sealed, header=dataclasses.replace(sealed.header, key_id=other)))
    with pytest.raises(SealingError, match="'k9': unknown"):
        service.open(dataclasses.replace(sealed, header=dataclasses.replace(sealed.header, key_id="k9")))
    service.retire(sealed.header.key_id)
    with pytest.raises(SealingError, match="unknown"):
        service.open(sealed)


def test_expired_or_future_key_set_is_refused(service, sealer):
    with pytest.raises(KeySetError, match="expired"):
        _seal(sealer, service.publish(NOW - 3600, NOW - 1))
    with pytest.raises(KeySetError, match="in the future"):
        _seal(sealer, service.publish(NOW + 60, NOW + 3600))


def test_unsigned_or_wrong_signer_or_altered_key_set_is_refused(service, sealer):
    keyset = service.publish(NOW - 10, NOW + 3600)
    with pytest.raises(KeySetError, match="unsigned"):
        _seal(sealer, dataclasses.replace(keyset, signature=None))
    impostor = LabelingService(Ed25519PrivateKey.generate())
    impostor.add_key("k1", NOW - 1000, NOW + 10_000)
    with pytest.raises(KeySetError, match="pinned signer"):
        _seal(sealer, impostor.publish(NOW - 10, NOW + 3600))
    swapped = dataclasses.replace(keyset, keys=impostor.publish(NOW - 10, NOW + 3600).keys)
    with pytest.raises(KeySetError, match="pinned signer"):
        _seal(sealer, swapped)


def test_no_valid_key_refuses_to_seal():
    svc = LabelingService(Ed25519PrivateKey.generate())
    svc.add_key("next", NOW + 100, NOW + 5000)  # published early, not valid yet
    keyset = svc.publish(NOW - 10, NOW + 3600)
    with pytest.raises(KeySetError, match=r"no key valid at .*next="):
        Sealer(svc.signer_public_key).seal(b"x", keyset, candidate_id="c", round=1, device_id="d", now=NOW)


def test_rotation_overlap_uses_newest_valid_key(service):
    service.add_key("k2", NOW + 100, NOW + 20_000)  # overlaps k1 from NOW+100 to NOW+10_000
    keyset = verify_keyset(service.publish(NOW - 10, NOW + 30_000), service.signer_public_key, NOW)
    assert current_key(keyset, NOW).key_id == "k1"
    assert current_key(keyset, NOW + 100).key_id == "k2"
    assert current_key(keyset, NOW + 15_000).key_id == "k2"
    sealer = Sealer(service.signer_public_key)
    old = sealer.seal(b"a", keyset, candidate_id="c", round=1, device_id="d", now=NOW)
    new = sealer.seal(b"b", keyset, candidate_id="c", round=2, device_id="d", now=NOW + 200)
    assert (old.header.key_id, new.header.key_id) == ("k1", "k2")
    assert service.open(old) == b"a" and service.open(new) == b"b"  # in-flight release still opens


def test_service_keys_survive_restart(tmp_path, service, sealer):
    sealed = _seal(sealer, service.publish(NOW - 10, NOW + 3600))
    service.save_keys(tmp_path / "keys.json")
    assert (tmp_path / "keys.json").stat().st_mode & 0o077 == 0
    again = LabelingService.load_keys(tmp_path / "keys.json", service.signer)
    assert again.open(sealed) == service.open(sealed)


def test_malformed_inputs(service, sealer):
    with pytest.raises(KeySetError, match="malformed"):
        KeySet.from_json('{"issued_at": 1}')
    with pytest.raises(SealingError, match="round"):
        _seal(sealer, service.publish(NOW - 10, NOW + 3600), round=-1)
    with pytest.raises(SealingError, match="malformed"):
        SealedRelease.from_dict({"header": {}})
