"""Kalshi request signing (RSA-PSS over SHA-256), shared by the REST client, the stream and the sandbox.

Kalshi authenticates every private call, and every WebSocket handshake, with three
headers: the API key id, a millisecond timestamp and a base64 RSA-PSS signature
(SHA-256, MGF1-SHA-256, salt length = digest length) over
``timestamp + METHOD + path``. The path is the URL path including ``/trade-api/v2``
and without the query string; signing anything else gives a 401 that looks like a
bad key, so the message is built in exactly one place (`signing_message`).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

KEY_HEADER = "KALSHI-ACCESS-KEY"
TIMESTAMP_HEADER = "KALSHI-ACCESS-TIMESTAMP"
SIGNATURE_HEADER = "KALSHI-ACCESS-SIGNATURE"
WS_PATH = "/trade-api/ws/v2"

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


def sign_path(url_or_path: str) -> str:
    """The part of a URL Kalshi signs: its path, never the query string or host."""
    if "://" in url_or_path:
        return urlsplit(url_or_path).path
    return url_or_path.split("?", 1)[0]


def signing_message(timestamp_ms: int | str, method: str, path: str) -> bytes:
    return f"{timestamp_ms}{method.upper()}{sign_path(path)}".encode()


def _now_ms() -> int:
    return int(time.time() * 1000)


class KalshiSigner:
    """Holds one API key; `headers()` gives fresh auth headers for one request."""

    __slots__ = ("_clock_ms", "_private_key", "key_id")

    def __init__(self, key_id: str, private_key: RSAPrivateKey, *, clock_ms: Callable[[], int] = _now_ms):
        if not key_id:
            raise ValueError("Kalshi key id must not be empty")
        self.key_id = key_id
        self._private_key = private_key
        self._clock_ms = clock_ms

    @classmethod
    def from_pem(
        cls, key_id: str, pem: str | bytes, *, password: bytes | None = None, clock_ms: Callable[[], int] = _now_ms
    ) -> KalshiSigner:
        data = pem.encode() if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=password)
        if not isinstance(key, RSAPrivateKey):
            raise ValueError("Kalshi API keys are RSA keys; the PEM holds another key type")
        return cls(key_id, key, clock_ms=clock_ms)

    @property
    def public_key(self) -> RSAPublicKey:
        return self._private_key.public_key()

    def sign(self, timestamp_ms: int | str, method: str, path: str) -> str:
        signature = self._private_key.sign(signing_message(timestamp_ms, method, path), _PSS, hashes.SHA256())
        return base64.b64encode(signature).decode("ascii")

    def headers(self, method: str, path: str) -> dict[str, str]:
        timestamp = str(self._clock_ms())
        return {
            KEY_HEADER: self.key_id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: self.sign(timestamp, method, path),
        }

    def ws_headers(self) -> dict[str, str]:
        """Handshake headers for the WebSocket (signs ``GET /trade-api/ws/v2``)."""
        return self.headers("GET", WS_PATH)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, val in headers.items():
        if key.lower() == lowered:
            return val
    return None


def verify_signature(public_key: RSAPublicKey, headers: Mapping[str, str], method: str, path: str) -> bool:
    """True when `headers` carry a valid Kalshi signature for `method` and `path` (query ignored).

    Header names are matched case-insensitively (HTTP servers lower-case them). The
    caller checks the key id and how fresh the timestamp is; this checks the signature.
    """
    timestamp = _header(headers, TIMESTAMP_HEADER)
    signature_b64 = _header(headers, SIGNATURE_HEADER)
    if not timestamp or not signature_b64 or not timestamp.isdigit():
        return False
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        public_key.verify(signature, signing_message(timestamp, method, path), _PSS, hashes.SHA256())
    except InvalidSignature:
        return False
    return True
