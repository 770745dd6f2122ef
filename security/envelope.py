"""AES-256-GCM sealing with associated data: the one cipher of the vault and the payload codec.

A sealed value is `nonce (12 bytes) || ciphertext || tag`. The associated data names where the
value belongs (tenant, account, purpose, key version); it is not stored with the value but
recomputed by whoever opens it, so a value copied to another row, tenant or purpose fails to
authenticate instead of decrypting to someone else's key.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96-bit random nonces: safe for far more seals per key than a vault makes


class VaultError(Exception):
    """A vault problem a person can act on: one line, and nothing was changed or decrypted."""


class NotAuthentic(VaultError):
    """The ciphertext was altered, or belongs to another row, or the key is not the one that sealed it."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, sealed: bytes, aad: bytes, what: str) -> bytes:
    """The plaintext, or `NotAuthentic` naming `what` (never a wrong plaintext)."""
    if len(sealed) < NONCE_BYTES + 16:
        raise NotAuthentic(f"{what} is truncated ({len(sealed)} bytes): it was altered; nothing was decrypted")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except InvalidTag:
        raise NotAuthentic(
            f"{what} does not authenticate: it was altered, moved from another row, or sealed under another key;"
            " nothing was decrypted"
        ) from None


def aad(*parts: str | int) -> bytes:
    """Unambiguous associated data: each part length-prefixed, so ("a|b", "c") and ("a", "b|c") differ."""
    out = bytearray(b"inertial/v1")
    for part in parts:
        data = str(part).encode()
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)
