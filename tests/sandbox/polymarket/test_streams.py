"""Market and user WebSocket channels of the sandbox, read with a plain websockets client."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson
from py_clob_client.order_builder.constants import BUY, SELL
from websockets.asyncio.client import ClientConnection, connect

from sandbox.polymarket.wire import book_hash
from tests.sandbox.polymarket.helpers import RunningSandbox, funded_client, place


async def _next(ws: ClientConnection, event_type: str | None = None) -> Any:
    """Next message (of `event_type` if given), parsed; fails the test after 2 s."""
    while True:
        raw = await asyncio.wait_for(ws.recv(), 2)
        message = orjson.loads(raw) if raw != "PONG" else raw
        if event_type is None or (isinstance(message, dict) and message.get("event_type") == event_type):
            return message


async def test_market_channel_book_price_change_trade_and_ping(polymarket: RunningSandbox) -> None:
    yes, no = polymarket.market.yes_token, polymarket.market.no_token
    async with connect(polymarket.urls.ws_market) as ws:
        await ws.send(orjson.dumps({"assets_ids": [yes, no], "type": "market"}).decode())
        books = await _next(ws)
        assert [b["event_type"] for b in books] == ["book", "book"]
        yes_book = next(b for b in books if b["asset_id"] == yes)
        assert yes_book["bids"][-1] == {"price": "0.45", "size": "100"}
        assert yes_book["asks"][-1] == {"price": "0.55", "size": "100"}
        assert yes_book["hash"] == book_hash(yes_book | {"min_order_size": "5", "neg_risk": False})

        await ws.send("PING")
        assert await _next(ws) == "PONG"

        client = await funded_client(polymarket)
        await place(client, yes, 0.47, 10, BUY)
        change = await _next(ws, "price_change")
        entries = {(c["asset_id"], c["side"], c["price"]): c for c in change["price_changes"]}
        assert entries[(yes, "BUY", "0.47")]["size"] == "10"
        assert entries[(yes, "BUY", "0.47")]["best_bid"] == "0.47"
        assert entries[(no, "SELL", "0.53")]["best_ask"] == "0.53"
        at = datetime.fromtimestamp(int(change["timestamp"]) / 1000, UTC)
        assert entries[(yes, "BUY", "0.47")]["hash"] == polymarket.state.book_summary(yes, at)["hash"]

        await place(client, yes, 0.55, 5, BUY, "FOK")
        trade = await _next(ws, "last_trade_price")
        assert (trade["price"], trade["size"], trade["side"]) in {("0.55", "5", "BUY"), ("0.45", "5", "SELL")}
        depth = await _next(ws, "price_change")
        assert any(c["price"] == "0.55" and c["size"] == "95" for c in depth["price_changes"])


async def test_user_channel_reports_orders_and_trades_of_its_key_only(polymarket: RunningSandbox) -> None:
    yes = polymarket.market.yes_token
    maker, taker = await funded_client(polymarket), await funded_client(polymarket)
    creds = maker.creds
    auth = {"apiKey": creds.api_key, "secret": creds.api_secret, "passphrase": creds.api_passphrase}
    async with connect(polymarket.urls.ws_user) as ws:
        await ws.send(orjson.dumps({"auth": auth, "markets": [], "type": "user"}).decode())
        await ws.send("PING")
        assert await _next(ws) == "PONG"  # the subscription is registered before orders flow

        placed = await place(maker, yes, 0.50, 10, BUY)
        placement = await _next(ws, "order")
        assert (placement["type"], placement["id"], placement["size_matched"]) == ("PLACEMENT", placed["orderID"], "0")

        polymarket.state.fund(taker.get_address(), 0, {yes: Decimal(10)})
        await place(taker, yes, 0.50, 6, SELL, "FAK")
        trade = await _next(ws, "trade")
        assert (trade["status"], trade["trader_side"], trade["size"]) == ("MATCHED", "MAKER", "6")
        assert trade["maker_orders"][0]["order_id"] == placed["orderID"]
        update = await _next(ws, "order")
        assert (update["type"], update["size_matched"]) == ("UPDATE", "6")

        await asyncio.to_thread(maker.cancel, placed["orderID"])
        cancel = await _next(ws, "order")
        assert cancel["type"] == "CANCELLATION"


async def test_user_channel_refuses_bad_credentials(polymarket: RunningSandbox) -> None:
    async with connect(polymarket.urls.ws_user) as ws:
        await ws.send(orjson.dumps({"auth": {"apiKey": "nope", "secret": "x", "passphrase": "y"}}).decode())
        await asyncio.wait_for(ws.wait_closed(), 2)
        assert ws.close_code == 1008


async def test_tick_size_change_reaches_subscribers_and_rules(polymarket: RunningSandbox) -> None:
    market = polymarket.market
    async with connect(polymarket.urls.ws_market) as ws, httpx.AsyncClient(base_url=polymarket.urls.clob) as http:
        await ws.send(orjson.dumps({"assets_ids": [market.no_token], "type": "market"}).decode())
        await _next(ws, None)
        changed = await http.post(f"/_sandbox/markets/{market.condition_id}/tick-size", json={"tick_size": "0.001"})
        message = await _next(ws, "tick_size_change")
        tick = (await http.get("/tick-size", params={"token_id": market.yes_token})).json()
    assert changed.json() == {"old_tick_size": "0.01", "new_tick_size": "0.001"}
    assert (message["asset_id"], message["old_tick_size"], message["new_tick_size"]) == (
        market.no_token,
        "0.01",
        "0.001",
    )
    assert tick == {"minimum_tick_size": 0.001}


async def test_resolution_pays_winners_and_is_announced(polymarket: RunningSandbox) -> None:
    market = polymarket.market
    yes_holder, no_holder = await funded_client(polymarket), await funded_client(polymarket)
    subscribe = {"assets_ids": [market.yes_token], "type": "market", "custom_feature_enabled": True}
    async with connect(polymarket.urls.ws_market) as ws, httpx.AsyncClient(base_url=polymarket.urls.clob) as http:
        await ws.send(orjson.dumps(subscribe).decode())
        await _next(ws)
        await place(yes_holder, market.yes_token, 0.50, 10, BUY)
        quote = await _next(ws, "best_bid_ask")
        assert (quote["best_bid"], quote["best_ask"], quote["spread"]) == ("0.5", "0.55", "0.05")
        await place(no_holder, market.no_token, 0.50, 10, BUY, "FOK")  # mints 10 YES + 10 NO at 0.50 each
        resolved = await http.post(f"/_sandbox/markets/{market.condition_id}/resolve", json={"winning_outcome": "Yes"})
        announcement = await _next(ws, "market_resolved")
        gamma = (await http.get(f"/gamma/markets/{market.gamma_id}")).json()
        redeemed = (
            await http.get("/data-api/activity", params={"user": yes_holder.get_address(), "type": "REDEEM"})
        ).json()
        clob_market = (await http.get(f"/markets/{market.condition_id}")).json()
    assert resolved.json()["payouts_usdc"] == {yes_holder.get_address(): 10_000_000}
    assert (announcement["winning_asset_id"], announcement["winning_outcome"]) == (market.yes_token, "Yes")
    assert (gamma["closed"], gamma["outcomePrices"]) == (True, '["1", "0"]')
    assert [(r["type"], r["usdcSize"]) for r in redeemed] == [("REDEEM", 10.0)]
    assert [t["winner"] for t in clob_market["tokens"]] == [True, False]
    assert polymarket.state.account_view(yes_holder.get_address())["usdc"] == 1_000_000_000 - 5_000_000 + 10_000_000
    assert polymarket.state.account_view(no_holder.get_address())["usdc"] == 1_000_000_000 - 5_000_000
    assert polymarket.state.book_summary(market.yes_token)["bids"] == []
