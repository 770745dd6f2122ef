"""The vault section of the configuration (`[vault]`, `INERTIAL_VAULT__*`).

The embedded default keeps a key file in the data directory: good for paper trading, not for money,
since whoever reads the data directory reads the key. Going live, use a passphrase (asked on the
terminal, or `INERTIAL_VAULT__PASSPHRASE` for unattended starts) or an HSM through PKCS#11.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

from domain.settings import Section
from security.envelope import VaultError
from security.masters import KeyFileSource, MasterSource, PassphraseSource
from security.pkcs11 import Pkcs11Source


class VaultSettings(Section):
    master: Literal["keyfile", "passphrase", "pkcs11"] = "keyfile"
    encrypt_payloads: bool = True  # seal every Temporal payload (security/codec.py); off only to debug
    key_file: Path | None = None  # default: <data_dir>/vault.key
    passphrase: SecretStr | None = None
    pkcs11_module: Path = Path("/usr/lib/softhsm/libsofthsm2.so")
    pkcs11_token: str = "inertial"
    pkcs11_pin: SecretStr | None = None
    new_passphrase: SecretStr | None = None  # only for `vault rotate master --to passphrase` without a terminal

    def source(self, data_dir: Path, ask: bool = False) -> MasterSource:
        """The configured master; `ask` lets a terminal prompt for a passphrase that is not configured."""
        if self.master == "keyfile":
            return KeyFileSource((self.key_file or data_dir / "vault.key").expanduser())
        if self.master == "pkcs11":
            if self.pkcs11_pin is None:
                raise VaultError("[vault] master is pkcs11: set INERTIAL_VAULT__PKCS11_PIN (the token's user PIN)")
            return Pkcs11Source(self.pkcs11_module, self.pkcs11_token, self.pkcs11_pin.get_secret_value())
        if self.passphrase is not None:
            return PassphraseSource(self.passphrase.get_secret_value())
        if not ask:
            raise VaultError("[vault] master is passphrase: set INERTIAL_VAULT__PASSPHRASE or run on a terminal")
        return PassphraseSource(getpass.getpass("vault passphrase: "))
