"""Where the vault's master key comes from: a passphrase (Argon2id), a key file, or an HSM (pkcs11.py).

The master key only wraps the tenants' data keys; it never touches a credential itself, so it can
be rotated by re-wrapping a handful of data keys while every process keeps signing. What a master
needs to be found again (the KDF's salt and costs, the key file's fingerprint, the HSM token and
key labels) is stored with it; the key never is.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from security.envelope import KEY_BYTES, VaultError, new_key, open_sealed, seal

# Argon2id as RFC 9106's second recommended option (memory-constrained): 64 MiB, 3 passes, 4 lanes.
ARGON2_MEMORY_KIB = 64 * 1024
ARGON2_ITERATIONS = 3
ARGON2_LANES = 4
SALT_BYTES = 16
MIN_PASSPHRASE = 12


class MasterKey(Protocol):
    """Wraps and unwraps data keys; `params` is what `MasterSource.open` needs to rebuild it."""

    @property
    def kind(self) -> str: ...

    @property
    def params(self) -> dict[str, Any]: ...

    def wrap(self, key: bytes, aad: bytes) -> bytes: ...

    def unwrap(self, blob: bytes, aad: bytes, what: str) -> bytes: ...


class MasterSource(Protocol):
    """A way to obtain a master key: `create` makes a new one, `open` rebuilds a stored one."""

    @property
    def kind(self) -> str: ...

    def create(self) -> MasterKey: ...

    def open(self, params: dict[str, Any]) -> MasterKey: ...


@dataclass(frozen=True)
class LocalMaster:
    """A master key held in this process's memory (from a passphrase or a key file)."""

    kind: str
    params: dict[str, Any]
    _kek: bytes

    def __repr__(self) -> str:
        return f"LocalMaster(kind={self.kind!r})"

    def wrap(self, key: bytes, aad: bytes) -> bytes:
        return seal(self._kek, key, aad)

    def unwrap(self, blob: bytes, aad: bytes, what: str) -> bytes:
        return open_sealed(self._kek, blob, aad, what)


@dataclass(frozen=True)
class PassphraseSource:
    passphrase: str
    kind: str = "passphrase"

    def __repr__(self) -> str:
        return "PassphraseSource(***)"

    def create(self) -> MasterKey:
        if len(self.passphrase) < MIN_PASSPHRASE:
            raise VaultError(f"a vault passphrase needs at least {MIN_PASSPHRASE} characters")
        params = {
            "kdf": "argon2id",
            "salt": base64.b64encode(os.urandom(SALT_BYTES)).decode(),
            "memory_kib": ARGON2_MEMORY_KIB,
            "iterations": ARGON2_ITERATIONS,
            "lanes": ARGON2_LANES,
        }
        return self.open(params)

    def open(self, params: dict[str, Any]) -> MasterKey:
        try:
            kdf = Argon2id(
                salt=base64.b64decode(params["salt"]),
                length=KEY_BYTES,
                iterations=int(params["iterations"]),
                lanes=int(params["lanes"]),
                memory_cost=int(params["memory_kib"]),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise VaultError(f"the vault master's stored KDF parameters are damaged ({exc})") from None
        return LocalMaster(self.kind, params, kdf.derive(self.passphrase.encode()))


@dataclass(frozen=True)
class KeyFileSource:
    """32 random bytes, base64 on one line, in a file only its owner may read."""

    path: Path
    kind: str = "keyfile"

    def create(self) -> MasterKey:
        if self.path.exists():
            return self.open({"fingerprint": _fingerprint(self._read())})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        key = new_key()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(base64.b64encode(key).decode() + "\n")
        return LocalMaster(self.kind, {"fingerprint": _fingerprint(key)}, key)

    def open(self, params: dict[str, Any]) -> MasterKey:
        key = self._read()
        if params.get("fingerprint") != _fingerprint(key):
            raise VaultError(f"key file {self.path} is not the vault's master key (its fingerprint differs)")
        return LocalMaster(self.kind, params, key)

    def _read(self) -> bytes:
        try:
            text = self.path.read_text().strip()
        except OSError as exc:
            raise VaultError(f"cannot read the vault key file {self.path}: {exc.strerror}") from None
        try:
            key = base64.b64decode(text, validate=True)
        except ValueError:
            key = b""
        if len(key) != KEY_BYTES:
            raise VaultError(f"key file {self.path} is corrupted: expected {KEY_BYTES} bytes of base64")
        return key


def _fingerprint(key: bytes) -> str:
    """Names a key file's key without revealing it (a hash of a 256-bit random key gives nothing away)."""
    return hashlib.sha256(b"inertial vault key file\x00" + key).hexdigest()[:16]
