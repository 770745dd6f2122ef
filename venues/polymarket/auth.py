"""Polymarket CLOB authentication headers.

L1 proves control of the wallet (EIP-712 ClobAuth signature) and is only used to
create or derive API credentials. L2 signs every private request with HMAC-SHA256
under the API secret. Both match py-clob-client 0.34.6 byte for byte (tests check).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

from venues.polymarket.constants import POLYGON
from venues.polymarket.eip712 import Wallet, clob_auth_signature


@dataclass(frozen=True, slots=True)
class ApiCreds:
    api_key: str
    secret: str
    passphrase: str

    def __repr__(self) -> str:
        return f"ApiCreds(api_key={self.api_key!r}, secret=***, passphrase=***)"


def l1_headers(
    wallet: Wallet, *, chain_id: int = POLYGON, nonce: int = 0, timestamp: int | None = None
) -> dict[str, str]:
    """Headers for `POST /auth/api-key` and `GET /auth/derive-api-key`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "POLY_ADDRESS": wallet.address,
        "POLY_SIGNATURE": clob_auth_signature(wallet, chain_id, ts, nonce),
        "POLY_TIMESTAMP": ts,
        "POLY_NONCE": str(nonce),
    }


def hmac_signature(secret: str, timestamp: str, method: str, request_path: str, body: str | None = None) -> str:
    """urlsafe-b64(HMAC-SHA256(b64decode(secret), timestamp + method + path + body)).

    The body is signed with single quotes replaced by double quotes, as
    py-clob-client (and the Go/TypeScript clients) do; JSON bodies are unaffected
    unless a string value contains a quote.
    """
    message = timestamp + method + request_path
    if body:
        message += body.replace("'", '"')
    digest = hmac.new(base64.urlsafe_b64decode(secret), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


def l2_headers(
    creds: ApiCreds,
    address: str,
    method: str,
    request_path: str,
    body: str | None = None,
    *,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Headers for a private request; `request_path` excludes the query string, as the venue signs it."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "POLY_ADDRESS": address,
        "POLY_SIGNATURE": hmac_signature(creds.secret, ts, method, request_path, body),
        "POLY_TIMESTAMP": ts,
        "POLY_API_KEY": creds.api_key,
        "POLY_PASSPHRASE": creds.passphrase,
    }
