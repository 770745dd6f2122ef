"""The Kalshi sandbox admin API over HTTP: listings, books, money, keys, leader trades, settlement, log."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from websockets.asyncio.client import connect

from tests.sandbox.conftest import (
    KalshiCredentials,
    KalshiSandbox,
    kalshi_call,
    public_pem,
    recv_json,
    signed_headers,
)

TICKER = "KXADMIN-26DEC31-A"


async def admin(sb: KalshiSandbox, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    async with httpx.AsyncClient(base_url=sb.handle.base_url) as client:
        response = await client.request(method, f"/_sandbox{path}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_markets_books_and_accounts_through_admin(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    created = await admin(
        sb, "POST", "/markets", {"ticker": TICKER, "title": "Will admin work?", "series_ticker": "KXADMIN"}
    )
    assert created["event_ticker"] == "KXADMIN-26DEC31"
    book = await admin(sb, "POST", f"/markets/{TICKER}/book", {"yes": [[30, 10], [32, 5]], "no": [[60, 8]]})
    assert (book["yes"], book["no"]) == ([[30, 10], [32, 5]], [[60, 8]])
    replaced = await admin(sb, "POST", f"/markets/{TICKER}/book", {"yes": [[20, 1]], "replace": True})
    assert (replaced["yes"], replaced["no"]) == ([[20, 1]], [])
    series = (await kalshi_call(sb, "GET", "/trade-api/v2/series/KXADMIN")).json()["series"]
    assert series["ticker"] == "KXADMIN"
    funded = await admin(sb, "POST", "/accounts/alice/fund", {"cents": 5_000})
    assert funded["balance_cents"] == 5_000
    async with httpx.AsyncClient(base_url=sb.handle.base_url) as client:
        refused = await client.post("/_sandbox/accounts/alice/fund", json={"cents": -1})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_parameters"


async def test_registered_key_authenticates_its_account(kalshi_sandbox: KalshiSandbox, rsa_keys: tuple) -> None:
    sb = kalshi_sandbox
    key_id = (await admin(sb, "POST", "/keys", {"account": "bob", "public_key_pem": public_pem(rsa_keys[1])}))["key_id"]
    await admin(sb, "POST", "/accounts/bob/fund", {"cents": 777})
    bob = KalshiCredentials(key_id, rsa_keys[1], "", "bob")
    async with httpx.AsyncClient(base_url=sb.handle.base_url) as client:
        path = "/trade-api/v2/portfolio/balance"
        response = await client.get(path, headers=signed_headers(bob, "GET", path))
    assert response.json()["balance"] == 777


async def test_leader_trade_shows_on_the_leaders_own_fill_feed(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    sb.venue.add_market(TICKER)
    headers = signed_headers(sb.creds, "GET", "/trade-api/ws/v2")
    async with connect(sb.handle.ws_url, additional_headers=headers) as ws:
        await ws.send(orjson.dumps({"id": 1, "cmd": "subscribe", "params": {"channels": ["fill"]}}).decode())
        await recv_json(ws)
        trade = {"account": sb.creds.account, "ticker": TICKER, "side": "no", "action": "buy", "count": 7, "price": 35}
        placed = (await admin(sb, "POST", "/leader-trades", trade))["order"]
        (fill,) = await recv_json(ws)
    assert (placed["status"], placed["fill_count"], placed["no_price"]) == ("executed", 7, 35)
    assert (fill["msg"]["side"], fill["msg"]["count"], fill["msg"]["yes_price"], fill["msg"]["is_taker"]) == (
        "no",
        7,
        65,
        True,
    )
    fills = (await kalshi_call(sb, "GET", "/trade-api/v2/portfolio/fills")).json()["fills"]
    assert [(f["order_id"], f["count"]) for f in fills] == [(placed["order_id"], 7)]
    assert sb.venue.book(TICKER) == ([], [])  # the house counterparty was used up, nothing left behind
    log = await admin(sb, "GET", f"/log?account={sb.creds.account}")
    assert [o["order_id"] for o in log["orders"]] == [placed["order_id"]]


async def test_resolve_pays_winners_and_closes_the_market(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    sb.venue.add_market(TICKER)
    trade = {"account": sb.creds.account, "ticker": TICKER, "side": "yes", "action": "buy", "count": 10, "price": 40}
    await admin(sb, "POST", "/leader-trades", trade)
    before = sb.venue.balance_cents(sb.creds.account)
    resolved = await admin(sb, "POST", f"/markets/{TICKER}/resolve", {"result": "yes"})
    assert resolved == {"ticker": TICKER, "status": "settled", "result": "yes"}
    assert sb.venue.balance_cents(sb.creds.account) == before + 1_000
    order = {"ticker": TICKER, "side": "yes", "action": "buy", "count": 1, "yes_price": 50}
    response = await kalshi_call(sb, "POST", "/trade-api/v2/portfolio/orders", order)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "market_closed")
