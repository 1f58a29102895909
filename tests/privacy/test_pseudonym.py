"""Pseudonymous ids: keyed, stable, private key file, unlinkable after erase."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat

import pytest

from fedsift.privacy.errors import PseudonymError
from fedsift.privacy.pseudonym import Pseudonymizer


def test_ids_are_hmac_of_local_id_and_stable(tmp_path):
    p = Pseudonymizer(tmp_path / "keys" / "device.key")
    key = (tmp_path / "keys" / "device.key").read_bytes()
    assert p.pseudonym("img-001") == hmac.new(key, b"img-001", hashlib.sha256).hexdigest()
    assert p.pseudonym("img-001") == Pseudonymizer(tmp_path / "keys" / "device.key").pseudonym("img-001")
    assert p.pseudonym("img-001") != p.pseudonym("img-002")
    assert "img" not in p.pseudonym("img-001")


def test_key_file_is_owner_only(tmp_path):
    path = tmp_path / "device.key"
    Pseudonymizer(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    os.chmod(path, 0o644)
    with pytest.raises(PseudonymError, match="0o644.*0o600"):
        Pseudonymizer(path)


def test_two_devices_give_unlinkable_ids(tmp_path):
    assert Pseudonymizer(tmp_path / "a.key").pseudonym("x") != Pseudonymizer(tmp_path / "b.key").pseudonym("x")


def test_erase_deletes_key_and_fresh_key_gives_new_ids(tmp_path):
    path = tmp_path / "device.key"
    p = Pseudonymizer(path)
    old = p.pseudonym("img-001")
    p.erase()
    assert not path.exists() and p.erased
    with pytest.raises(PseudonymError, match="erased"):
        p.pseudonym("img-001")
    with pytest.raises(PseudonymError, match="does not exist"):
        Pseudonymizer(path, create=False)
    assert Pseudonymizer(path).pseudonym("img-001") != old


def test_bad_inputs(tmp_path):
    path = tmp_path / "device.key"
    path.write_bytes(b"short")
    os.chmod(path, 0o600)
    with pytest.raises(PseudonymError, match="5 bytes; expected 32"):
        Pseudonymizer(path)
    p = Pseudonymizer(tmp_path / "ok.key")
    with pytest.raises(PseudonymError, match="sample_id"):
        p.pseudonym("")
    assert p.derive_key("masking-hash") != p.derive_key("other") and len(p.derive_key("x")) == 32
