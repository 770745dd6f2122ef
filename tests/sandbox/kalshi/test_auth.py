"""RSA-PSS auth of the sandbox: only a fresh signature by the registered key over this exact request passes."""

from __future__ import annotations

import base64
import time

import httpx
import pytest
import websockets
from websockets.asyncio.client import connect

from tests.sandbox.conftest import KalshiSandbox, signed_headers

BALANCE = "/trade-api/v2/portfolio/balance"


async def get_balance(sb: KalshiSandbox, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=sb.handle.base_url) as client:
        return await client.get(BALANCE, headers=headers)


def assert_auth_error(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "authentication_error"
    assert error["details"].endswith(reason)


async def test_valid_signature_passes(kalshi_sandbox: KalshiSandbox) -> None:
    response = await get_balance(kalshi_sandbox, signed_headers(kalshi_sandbox.creds, "GET", BALANCE))
    assert response.status_code == 200
    assert response.json()["balance"] == 100_000


async def test_query_string_is_not_signed(kalshi_sandbox: KalshiSandbox) -> None:
    path = "/trade-api/v2/portfolio/orders"
    async with httpx.AsyncClient(base_url=kalshi_sandbox.handle.base_url) as client:
        response = await client.get(
            path + "?status=resting&limit=5", headers=signed_headers(kalshi_sandbox.creds, "GET", path)
        )
    assert response.status_code == 200
    assert response.json() == {"orders": [], "cursor": ""}


async def test_tampered_signature_is_rejected(kalshi_sandbox: KalshiSandbox) -> None:
    headers = signed_headers(kalshi_sandbox.creds, "GET", BALANCE)
    raw = bytearray(base64.b64decode(headers["KALSHI-ACCESS-SIGNATURE"]))
    raw[10] ^= 0x01
    headers["KALSHI-ACCESS-SIGNATURE"] = base64.b64encode(bytes(raw)).decode()
    assert_auth_error(await get_balance(kalshi_sandbox, headers), "INCORRECT_API_KEY_SIGNATURE")


async def test_signature_of_another_request_is_rejected(kalshi_sandbox: KalshiSandbox) -> None:
    headers = signed_headers(kalshi_sandbox.creds, "GET", "/trade-api/v2/portfolio/fills")
    assert_auth_error(await get_balance(kalshi_sandbox, headers), "INCORRECT_API_KEY_SIGNATURE")


async def test_wrong_key_is_rejected(kalshi_sandbox: KalshiSandbox, rsa_keys: tuple) -> None:
    from dataclasses import replace

    stranger = replace(kalshi_sandbox.creds, private_key=rsa_keys[1])
    assert_auth_error(
        await get_balance(kalshi_sandbox, signed_headers(stranger, "GET", BALANCE)), "INCORRECT_API_KEY_SIGNATURE"
    )


async def test_unknown_key_id_is_rejected(kalshi_sandbox: KalshiSandbox) -> None:
    headers = signed_headers(kalshi_sandbox.creds, "GET", BALANCE)
    headers["KALSHI-ACCESS-KEY"] = "00000000-0000-0000-0000-000000000000"
    assert_auth_error(await get_balance(kalshi_sandbox, headers), "API_KEY_NOT_FOUND")


async def test_missing_headers_are_rejected(kalshi_sandbox: KalshiSandbox) -> None:
    assert_auth_error(await get_balance(kalshi_sandbox, {}), "MISSING_AUTH_HEADERS")


@pytest.mark.parametrize("age_ms", [-60_000, 60_000])
async def test_stale_or_future_timestamp_is_rejected(kalshi_sandbox: KalshiSandbox, age_ms: int) -> None:
    stamp = int(time.time() * 1000) - age_ms
    headers = signed_headers(kalshi_sandbox.creds, "GET", BALANCE, timestamp_ms=stamp)
    assert_auth_error(await get_balance(kalshi_sandbox, headers), "TIMESTAMP_OUT_OF_RANGE")


async def test_websocket_handshake_requires_a_valid_signature(kalshi_sandbox: KalshiSandbox) -> None:
    headers = signed_headers(kalshi_sandbox.creds, "GET", "/trade-api/v2/portfolio/balance")
    with pytest.raises(websockets.InvalidStatus) as caught:
        async with connect(kalshi_sandbox.handle.ws_url, additional_headers=headers):
            pass
    assert caught.value.response.status_code == 401
    good = signed_headers(kalshi_sandbox.creds, "GET", "/trade-api/ws/v2")
    async with connect(kalshi_sandbox.handle.ws_url, additional_headers=good) as ws:
        await ws.send('{"id": 1, "cmd": "list_subscriptions"}')
        assert await ws.recv() == '{"id":1,"type":"ok","subscriptions":[]}'
