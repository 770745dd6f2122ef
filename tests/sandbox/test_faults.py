"""Every fault kind, triggered through the admin API (or Python) and observed by a client."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import orjson
import pytest
import websockets
from websockets.asyncio.client import connect

from domain.models import TimeInForce
from sandbox.kalshi.admin import seed_book
from sandbox.kalshi.venue import OrderInput
from tests.sandbox.conftest import ACCOUNT, KalshiSandbox, kalshi_call, recv_json, ws_headers

TICKER = "KXFAULT-26DEC31-A"
ORDERS = "/trade-api/v2/portfolio/orders"


@pytest.fixture
def sb(kalshi_sandbox: KalshiSandbox) -> KalshiSandbox:
    kalshi_sandbox.venue.add_market(TICKER)
    return kalshi_sandbox


async def admin(sb: KalshiSandbox, method: str, body: dict[str, Any] | None = None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=sb.handle.base_url) as client:
        return await client.request(method, "/_sandbox/faults", json=body)


def buy_yes(count: int = 10, price: int = 40, **extra: Any) -> dict[str, Any]:
    return {"ticker": TICKER, "side": "yes", "action": "buy", "count": count, "yes_price": price, **extra}


async def status(sb: KalshiSandbox, wait_s: float = 5.0) -> httpx.Response:
    async with httpx.AsyncClient(base_url=sb.handle.base_url, timeout=wait_s) as client:
        return await client.get("/trade-api/v2/exchange/status")


async def test_latency_is_added_to_every_request(sb: KalshiSandbox) -> None:
    assert (await admin(sb, "POST", {"latency_ms": 500, "jitter_ms": 20})).status_code == 200
    started = time.perf_counter()
    assert (await status(sb)).status_code == 200
    assert time.perf_counter() - started >= 0.5
    await admin(sb, "DELETE")
    started = time.perf_counter()
    await status(sb)
    assert time.perf_counter() - started < 0.5
    assert (await admin(sb, "GET")).json()["fired"]["latency"] == 1


async def test_5xx_burst_hits_the_next_requests_then_stops(sb: KalshiSandbox) -> None:
    await admin(sb, "POST", {"http_error_status": 503, "http_error_count": 2})
    answers = [await status(sb) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].json()["error"]["code"] == "internal_server_error"


async def test_429_burst_carries_retry_after(sb: KalshiSandbox) -> None:
    await admin(sb, "POST", {"http_error_status": 429, "http_error_count": 1, "retry_after_s": 3})
    response = await kalshi_call(sb, "POST", ORDERS, buy_yes())
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert response.json()["error"]["code"] == "too_many_requests"
    assert sb.venue.orders == {}


async def test_next_orders_are_rejected_like_the_venue(sb: KalshiSandbox) -> None:
    await admin(sb, "POST", {"reject_orders": 2})
    first = await kalshi_call(sb, "POST", ORDERS, buy_yes())
    assert (first.status_code, first.json()["error"]["code"]) == (400, "insufficient_balance")
    sb.venue.faults.configure(reject_code="market_closed", reject_message="market closed")
    second = await kalshi_call(sb, "POST", ORDERS, buy_yes())
    assert second.json()["error"] == {"code": "market_closed", "message": "market closed"}
    assert sb.venue.orders == {}
    assert (await kalshi_call(sb, "POST", ORDERS, buy_yes())).status_code == 201


async def test_partial_fill_ratio_lets_only_part_trade(sb: KalshiSandbox) -> None:
    seed_book(sb.venue, TICKER, yes=[], no=[(60, 100)])
    await admin(sb, "POST", {"partial_fill_ratio": "0.5"})
    placed = (await kalshi_call(sb, "POST", ORDERS, buy_yes(count=10))).json()["order"]
    assert (placed["fill_count"], placed["remaining_count"], placed["status"]) == (5, 0, "canceled")
    assert sb.venue.book(TICKER) == ([], [(60, 95)])


async def test_order_timeout_places_the_order_but_the_client_never_hears(sb: KalshiSandbox) -> None:
    await admin(sb, "POST", {"timeout_orders": 1})
    with pytest.raises(httpx.ReadTimeout):
        await kalshi_call(sb, "POST", ORDERS, buy_yes(client_order_id="lost-1"), wait_s=0.3)
    log = (await kalshi_call(sb, "GET", "/_sandbox/log")).json()["orders"]
    assert [(o["client_order_id"], o["status"]) for o in log] == [("lost-1", "resting")]
    retry = await kalshi_call(sb, "POST", ORDERS, buy_yes(client_order_id="lost-1"))
    assert retry.status_code == 409
    await admin(sb, "DELETE")


async def test_hang_blocks_every_request_until_cleared(sb: KalshiSandbox) -> None:
    await admin(sb, "POST", {"hang": True})
    with pytest.raises(httpx.ReadTimeout):
        await status(sb, wait_s=0.3)
    pending = asyncio.create_task(status(sb))
    await asyncio.sleep(0.1)
    assert not pending.done()
    cleared = await admin(sb, "DELETE")
    assert cleared.json()["settings"]["hang"] is False
    assert (await pending).status_code == 200


def subscribe(ticker: str = TICKER) -> str:
    command = {"id": 1, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"], "market_ticker": ticker}}
    return orjson.dumps(command).decode()


def rest_bid(sb: KalshiSandbox, price: int, coid: str) -> None:
    sb.venue.place(ACCOUNT, OrderInput(TICKER, "yes", "buy", 1, "limit", price, coid, TimeInForce.GTC, None, False))


async def test_drop_ws_now_closes_open_sockets(sb: KalshiSandbox) -> None:
    async with connect(sb.handle.ws_url, additional_headers=ws_headers(sb)) as ws:
        await ws.send(subscribe())
        await recv_json(ws, 2)
        await admin(sb, "POST", {"drop_ws_now": True})
        with pytest.raises(websockets.ConnectionClosed):
            await recv_json(ws)
    assert (await admin(sb, "GET")).json()["fired"]["ws_drop"] == 1


async def test_drop_ws_every_n_messages(sb: KalshiSandbox) -> None:
    await admin(sb, "POST", {"ws_drop_every": 3})
    async with connect(sb.handle.ws_url, additional_headers=ws_headers(sb)) as ws:
        await ws.send(subscribe())
        await recv_json(ws, 2)
        rest_bid(sb, 30, "x1")
        rest_bid(sb, 31, "x2")
        third = await recv_json(ws)
        assert third[0]["seq"] == 2
        with pytest.raises(websockets.ConnectionClosed):
            await recv_json(ws)


async def test_sequence_gap_is_visible_to_the_subscriber(sb: KalshiSandbox) -> None:
    async with connect(sb.handle.ws_url, additional_headers=ws_headers(sb)) as ws:
        await ws.send(subscribe())
        _, snapshot = await recv_json(ws, 2)
        sb.venue.faults.configure(seq_gaps=1)
        rest_bid(sb, 30, "g1")
        rest_bid(sb, 31, "g2")
        seqs = [m["seq"] for m in await recv_json(ws, 2)]
    assert snapshot["seq"] == 1
    assert seqs == [3, 4]


async def test_bad_fault_settings_are_refused_and_clear_resets(sb: KalshiSandbox) -> None:
    assert (await admin(sb, "POST", {"latency": 5})).status_code == 400
    assert (await admin(sb, "POST", {"partial_fill_ratio": "1.5"})).status_code == 400
    await admin(sb, "POST", {"http_error_count": 4, "reject_orders": 1})
    cleared = (await admin(sb, "DELETE")).json()["settings"]
    assert cleared["http_error_count"] == 0 and cleared["reject_orders"] == 0
