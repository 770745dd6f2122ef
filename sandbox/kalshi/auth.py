"""The venue side of Kalshi's API-key auth: registered public keys, freshness, verification.

The signature check itself is `venues.kalshi.auth.verify_signature` (the client's
own message builder, so sandbox and client cannot disagree on what is signed). The
sandbox adds what only a venue knows: which key ids exist and whose they are, and
how old a timestamp may be, so tampered, foreign-key and replayed requests fail
here as they would on the venue.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from venues.kalshi.auth import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

DEFAULT_MAX_SKEW_MS = 30_000


class AuthFailure(Exception):
    """The request is not authenticated; `reason` goes into the error details."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    account: str
    public_key: RSAPublicKey


def load_public_key(pem: str) -> RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, RSAPublicKey):
        raise ValueError("Kalshi API keys are RSA keys")
    return key


class KeyRegistry:
    """Registered API keys: key id -> (account, public key)."""

    def __init__(self, max_skew_ms: int = DEFAULT_MAX_SKEW_MS) -> None:
        self.max_skew_ms = max_skew_ms
        self._keys: dict[str, ApiKey] = {}

    def register(self, account: str, public_key_pem: str, key_id: str | None = None) -> str:
        key = ApiKey(key_id or str(uuid.uuid4()), account, load_public_key(public_key_pem))
        self._keys[key.key_id] = key
        return key.key_id

    def authenticate(self, headers: Mapping[str, str], method: str, path: str, now_ms: int) -> str:
        """The account that signed this request, or AuthFailure (headers as a case-insensitive mapping)."""
        key_id = headers.get(KEY_HEADER)
        timestamp = headers.get(TIMESTAMP_HEADER)
        if not key_id or not timestamp or not headers.get(SIGNATURE_HEADER):
            raise AuthFailure("MISSING_AUTH_HEADERS")
        key = self._keys.get(key_id)
        if key is None:
            raise AuthFailure("API_KEY_NOT_FOUND")
        if not timestamp.isdigit():
            raise AuthFailure("INVALID_TIMESTAMP")
        if abs(now_ms - int(timestamp)) > self.max_skew_ms:
            raise AuthFailure("TIMESTAMP_OUT_OF_RANGE")
        if not verify_signature(key.public_key, headers, method, path):
            raise AuthFailure("INCORRECT_API_KEY_SIGNATURE")
        return key.account
