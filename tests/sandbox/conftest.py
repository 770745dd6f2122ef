"""Sandbox venue fixtures and helpers.

`kalshi_sandbox`: a running Kalshi sandbox with a registered RSA key and a funded
account; `sandboxes`: both venues. Both are function-scoped (a fresh venue per test:
no state leaks between tests) and cheap (uvicorn on an ephemeral 127.0.0.1 port, in
the test's loop). RSA keys are generated once per session because that is slow.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from sandbox.handles import KalshiHandle, Sandboxes
from sandbox.kalshi import KalshiVenue
from sandbox.runner import kalshi_sandbox as run_kalshi
from sandbox.runner import run_sandboxes
from venues.kalshi.auth import KalshiSigner

ACCOUNT = "trader"
FUNDING_CENTS = 100_000


@dataclass(frozen=True)
class KalshiCredentials:
    key_id: str
    private_key: RSAPrivateKey
    private_key_pem: str
    account: str


@dataclass(frozen=True)
class KalshiSandbox:
    handle: KalshiHandle
    creds: KalshiCredentials

    @property
    def venue(self) -> KalshiVenue:
        return self.handle.venue


@pytest.fixture
async def sandboxes() -> AsyncIterator[Sandboxes]:
    """Both venues on ephemeral ports, empty (drive them through `.kalshi.venue` and `.polymarket`)."""
    async with run_sandboxes() as handles:
        yield handles


def _pem(key: RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="session")
def rsa_keys() -> tuple[RSAPrivateKey, RSAPrivateKey]:
    """Two keys: the registered one and a stranger's (for wrong-key tests)."""
    return (
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


@pytest.fixture
async def kalshi_sandbox(rsa_keys: tuple[RSAPrivateKey, RSAPrivateKey]) -> AsyncIterator[KalshiSandbox]:
    async with run_kalshi() as handle:
        key = rsa_keys[0]
        key_id = handle.venue.keys.register(ACCOUNT, public_pem(key))
        handle.venue.fund(ACCOUNT, FUNDING_CENTS)
        yield KalshiSandbox(handle, KalshiCredentials(key_id, key, _pem(key), ACCOUNT))


def signed_headers(
    creds: KalshiCredentials, method: str, path: str, *, timestamp_ms: int | None = None
) -> dict[str, str]:
    """Auth headers as the venue client builds them (`venues.kalshi.auth.KalshiSigner`)."""
    signer = KalshiSigner(creds.key_id, creds.private_key)
    if timestamp_ms is None:
        return signer.headers(method, path)
    ts = str(timestamp_ms)
    return {
        "KALSHI-ACCESS-KEY": creds.key_id,
        "KALSHI-ACCESS-TIMESTAMP": ts,
        "KALSHI-ACCESS-SIGNATURE": signer.sign(ts, method, path),
    }


async def kalshi_call(
    sb: KalshiSandbox, method: str, path: str, json: object = None, *, wait_s: float = 5.0
) -> httpx.Response:
    """One signed request to the sandbox; `path` is the full path (with /trade-api/v2)."""
    sign = path.split("?", 1)[0]
    async with httpx.AsyncClient(base_url=sb.handle.base_url, timeout=wait_s) as client:
        return await client.request(method, path, json=json, headers=signed_headers(sb.creds, method, sign))


def ws_headers(sb: KalshiSandbox) -> dict[str, str]:
    return signed_headers(sb.creds, "GET", "/trade-api/ws/v2")


async def recv_json(ws: Any, count: int = 1, wait_s: float = 3.0) -> list[dict[str, Any]]:
    """The next `count` messages of a websockets client connection, parsed."""
    out = []
    async with asyncio.timeout(wait_s):
        for _ in range(count):
            out.append(orjson.loads(await ws.recv()))
    return out
