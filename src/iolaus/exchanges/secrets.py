"""Exchange credentials, encrypted at rest (HMA stores them in plain text; a database dump or
backup must not hand out an NCMEC login or StopNCII keys).

AES-256-GCM with a random nonce per write. The associated data binds each ciphertext to its
exchange's name, so credentials copied onto another exchange's row fail to decrypt. The key
comes from ``IOLAUS_SECRET_KEY`` (base64 of 32 bytes: operators keep it in their secret store)
or else from ``<data_dir>/secret.key``, generated once with mode 0600. Each blob carries a short
key id, so a wrong key is told apart from tampering in the error message.

Nothing here ever puts a key or a credential in a message, a repr or a log line.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from iolaus.config import KEY_BYTES, SECRET_KEY, Settings, base64_key
from iolaus.errors import IolausError

KEY_ENV = SECRET_KEY.env
KEY_FILE = "secret.key"
NONCE_BYTES = 12
VERSION = b"\x01"
_AAD_PREFIX = b"iolaus exchange credentials v1\x00"


class SecretKeyError(IolausError):
    """No usable key, or credentials that this key cannot decrypt."""


class Vault:
    """Seals and opens one exchange's credentials with the installation's key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise SecretKeyError(f"the secret key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)
        self._key_id = hashlib.sha256(b"iolaus key id\x00" + key).digest()[:4]

    def __repr__(self) -> str:
        return f"<Vault key id {self._key_id.hex()}>"

    @classmethod
    def load(cls, data_dir: Path, key: bytes | None = None) -> Vault:
        """``key`` (``Settings.secret_key``, from ``IOLAUS_SECRET_KEY``), else the key file in
        ``data_dir`` (created on first use)."""
        return cls(key if key is not None else _key_file(data_dir / KEY_FILE))

    @classmethod
    def from_settings(cls, settings: Settings) -> Vault:
        return cls.load(settings.data_dir, settings.secret_key)

    def seal(self, exchange: str, credentials: Mapping[str, str]) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        plaintext = json.dumps(dict(credentials), sort_keys=True).encode()
        return VERSION + self._key_id + nonce + self._aead.encrypt(nonce, plaintext, _aad(exchange))

    def open(self, exchange: str, blob: bytes) -> dict[str, str]:
        header = len(VERSION) + len(self._key_id)
        if len(blob) <= header + NONCE_BYTES or blob[:1] != VERSION:
            raise SecretKeyError(f"the stored credentials of exchange {exchange} are unreadable")
        if blob[1:header] != self._key_id:
            raise SecretKeyError(
                f"the credentials of exchange {exchange} were encrypted with another secret key: "
                f"set {KEY_ENV} (or restore {KEY_FILE}) to the key in use when they were stored, "
                "or store them again with `iolaus exchange credentials`"
            )
        nonce, ciphertext = blob[header : header + NONCE_BYTES], blob[header + NONCE_BYTES :]
        try:
            plaintext = self._aead.decrypt(nonce, ciphertext, _aad(exchange))
        except InvalidTag:
            raise SecretKeyError(
                f"the credentials of exchange {exchange} fail authentication: they were altered "
                "or belong to another exchange"
            ) from None
        data = json.loads(plaintext)
        return {str(k): str(v) for k, v in data.items()}


def _aad(exchange: str) -> bytes:
    return _AAD_PREFIX + exchange.encode()


def _decode(value: str, source: str) -> bytes:
    """The key file holds the same text as the variable; errors name the file, never the key."""
    try:
        return base64_key(value)
    except ValueError:
        raise SecretKeyError(f"{source} must hold base64 of {KEY_BYTES} random bytes") from None


def _key_file(path: Path) -> bytes:
    """Read the key file, or create it: written aside, then linked into place, so concurrent
    first runs agree on one key and nobody ever reads a half-written file."""
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(KEY_BYTES)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(key).decode() + "\n")
        os.link(draft, path)
    except FileExistsError:
        return _read_key_file(path)
    finally:
        draft.unlink()
    return key


def _read_key_file(path: Path) -> bytes:
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise SecretKeyError(f"{path} is readable by other users: run `chmod 600 {path}`")
    return _decode(path.read_text(), str(path))
