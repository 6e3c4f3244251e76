"""Credentials at rest: AES-GCM bound to the exchange name, keys from env or a 0600 file."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from iolaus.config import ConfigError, Settings
from iolaus.exchanges.secrets import KEY_ENV, KEY_FILE, SecretKeyError, Vault

SECRET = {"user": "esp-user", "password": "correct horse battery staple"}


def test_round_trip_and_ciphertext_holds_no_plaintext() -> None:
    vault = Vault(os.urandom(32))
    blob = vault.seal("NCMEC", SECRET)
    assert vault.open("NCMEC", blob) == SECRET
    assert b"staple" not in blob and b"esp-user" not in blob
    assert vault.seal("NCMEC", SECRET) != blob  # a fresh nonce each time
    assert "staple" not in repr(vault)


def test_wrong_key_other_exchange_and_tampering_are_told_apart() -> None:
    vault = Vault(os.urandom(32))
    blob = vault.seal("NCMEC", SECRET)
    with pytest.raises(SecretKeyError, match="encrypted with another secret key") as caught:
        Vault(os.urandom(32)).open("NCMEC", blob)
    assert KEY_ENV in str(caught.value)
    with pytest.raises(SecretKeyError, match="belong to another exchange"):
        vault.open("STOPNCII", blob)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(SecretKeyError, match="altered"):
        vault.open("NCMEC", tampered)
    with pytest.raises(SecretKeyError, match="unreadable"):
        vault.open("NCMEC", b"\x02short")


def test_key_from_the_environment(tmp_path: Path) -> None:
    key = os.urandom(32)
    for text in (
        base64.b64encode(key).decode(),
        base64.urlsafe_b64encode(key).decode().rstrip("="),
    ):
        vault = Vault.from_settings(
            Settings.load({KEY_ENV: text, "IOLAUS_DATA_DIR": str(tmp_path)})
        )
        assert Vault(key).open("X", vault.seal("X", SECRET)) == SECRET
    assert not (tmp_path / KEY_FILE).exists()
    bad = "c2hvcnQ-not-a-key!"
    with pytest.raises(ConfigError, match="base64 of 32") as caught:
        Settings.load({KEY_ENV: bad})
    assert bad not in str(caught.value)


def test_key_file_is_created_once_with_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = Vault.load(data_dir)
    path = data_dir / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(base64.b64decode(path.read_text())) == 32
    blob = first.seal("X", SECRET)
    assert Vault.load(data_dir).open("X", blob) == SECRET
    assert [p.name for p in data_dir.iterdir()] == [KEY_FILE]  # no draft left behind

    path.chmod(0o644)
    with pytest.raises(SecretKeyError, match="readable by other users"):
        Vault.load(data_dir)
