"""A master key that never leaves an HSM: AES-256 generated inside a PKCS#11 token (non-extractable,
sensitive), wrapping data keys with the token's own AES-GCM. Tested against SoftHSM2.

What is stored with the vault is the module path, the token label and the key's label; the PIN is
configuration (`INERTIAL_VAULT__PKCS11_PIN`), never stored.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism
from pkcs11.exceptions import NoSuchKey, NoSuchToken, PinIncorrect, PKCS11Error
from pkcs11.mechanisms import GCMParams

from security.envelope import NONCE_BYTES, NotAuthentic, VaultError

T = TypeVar("T")
_LIBS: dict[str, Any] = {}  # a PKCS#11 module is initialised once per process


def _lib(module: str) -> Any:
    if module not in _LIBS:
        try:
            _LIBS[module] = pkcs11.lib(module)
        except (OSError, RuntimeError) as exc:
            raise VaultError(f"cannot load the PKCS#11 module {module}: {exc}") from None
    return _LIBS[module]


@contextlib.contextmanager
def _session(module: str, token_label: str, pin: str, rw: bool = False) -> Iterator[Any]:
    """A logged-in session on the token; a missing token or a wrong PIN is one clear line."""
    try:
        token = _lib(module).get_token(token_label=token_label)
    except NoSuchToken:
        raise VaultError(f"no HSM token labelled {token_label!r} (is it initialised and plugged in?)") from None
    try:
        with token.open(user_pin=pin, rw=rw) as session:
            yield session
    except PinIncorrect:
        raise VaultError(f"wrong PIN for HSM token {token_label!r}") from None


@dataclass(frozen=True)
class HsmMaster:
    module: str
    token: str
    key_label: str
    pin: str = field(repr=False)
    kind: str = "pkcs11"

    @property
    def params(self) -> dict[str, Any]:
        return {"module": self.module, "token": self.token, "key_label": self.key_label}

    def _with_key(self, action: Callable[[Any], T]) -> T:
        with _session(self.module, self.token, self.pin) as session:
            try:
                key = session.get_key(label=self.key_label, key_type=KeyType.AES)
            except NoSuchKey:
                raise VaultError(f"HSM token {self.token!r} holds no key {self.key_label!r}") from None
            return action(key)

    def wrap(self, key: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._with_key(
            lambda k: k.encrypt(key, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, aad, 128))
        )
        return nonce + bytes(sealed)

    def unwrap(self, blob: bytes, aad: bytes, what: str) -> bytes:
        nonce, sealed = blob[:NONCE_BYTES], blob[NONCE_BYTES:]

        def unseal(k: Any) -> bytes:
            try:
                return bytes(k.decrypt(sealed, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, aad, 128)))
            except PKCS11Error:
                raise NotAuthentic(
                    f"{what} does not authenticate under the HSM key: it was altered or moved; nothing was decrypted"
                ) from None

        return self._with_key(unseal)


@dataclass(frozen=True)
class Pkcs11Source:
    module: Path
    token: str
    pin: str = field(repr=False)
    kind: str = "pkcs11"

    def create(self) -> HsmMaster:
        """A new AES-256 key generated inside the token, under a fresh label (so rotation never reuses one)."""
        label = f"inertial-vault-{secrets.token_hex(4)}"
        master = HsmMaster(str(self.module), self.token, label, self.pin)
        with _session(master.module, self.token, self.pin, rw=True) as session:
            session.generate_key(
                KeyType.AES,
                256,
                label=label,
                store=True,
                template={Attribute.EXTRACTABLE: False, Attribute.SENSITIVE: True},
            )
        return master

    def open(self, params: dict[str, Any]) -> HsmMaster:
        try:
            return HsmMaster(str(params["module"]), str(params["token"]), str(params["key_label"]), self.pin)
        except KeyError as exc:
            raise VaultError(f"the vault master's stored HSM parameters are damaged (no {exc})") from None
