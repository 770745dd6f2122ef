"""The Kalshi sandbox WebSocket: subscriptions, snapshot then deltas with per-sid seq, trades, private fills."""

from __future__ import annotations

import orjson
from websockets.asyncio.client import connect

from domain.models import TimeInForce
from sandbox.kalshi.admin import seed_book
from sandbox.kalshi.venue import OrderInput
from tests.sandbox.conftest import ACCOUNT, KalshiSandbox, recv_json, ws_headers

TICKER = "KXWS-26DEC31-A"


def limit(
    side: str, action: str, count: int, yes_price: int, coid: str, tif: TimeInForce = TimeInForce.GTC
) -> OrderInput:
    return OrderInput(TICKER, side, action, count, "limit", yes_price, coid, tif, None, False)


async def test_snapshot_then_deltas_with_sequence(kalshi_sandbox: KalshiSandbox) -> None:
    venue = kalshi_sandbox.venue
    venue.add_market(TICKER)
    seed_book(venue, TICKER, yes=[(40, 10)], no=[(55, 7)])
    async with connect(kalshi_sandbox.handle.ws_url, additional_headers=ws_headers(kalshi_sandbox)) as ws:
        await ws.send(
            orjson.dumps(
                {"id": 1, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"], "market_ticker": TICKER}}
            ).decode()
        )
        subscribed, snapshot = await recv_json(ws, 2)
        assert subscribed == {"id": 1, "type": "subscribed", "msg": {"channel": "orderbook_delta", "sid": 1}}
        assert snapshot["type"] == "orderbook_snapshot" and snapshot["seq"] == 1 and snapshot["sid"] == 1
        assert snapshot["msg"]["yes"] == [[40, 10]] and snapshot["msg"]["no"] == [[55, 7]]
        assert snapshot["msg"]["no_dollars_fp"] == [["0.5500", "7.00"]]

        venue.place(ACCOUNT, limit("yes", "buy", 5, 41, "a"))
        venue.place(ACCOUNT, limit("no", "buy", 3, 45, "b"))  # NO bid 55 -> YES ask at 45
        first, second = await recv_json(ws, 2)
        assert (first["seq"], first["msg"]["side"], first["msg"]["price"], first["msg"]["delta"]) == (2, "yes", 41, 5)
        assert (second["seq"], second["msg"]["side"], second["msg"]["price"], second["msg"]["delta_fp"]) == (
            3,
            "no",
            55,
            "3.00",
        )
        assert second["msg"]["price_dollars"] == "0.5500"
        assert (first["msg"]["client_order_id"], second["msg"]["client_order_id"]) == ("a", "b")
        seed_book(venue, TICKER, yes=[(20, 1)], no=[])  # another account's order: no client order id
        (other,) = await recv_json(ws)
        assert other["seq"] == 4 and "client_order_id" not in other["msg"]


async def test_trade_fill_and_ticker_channels(kalshi_sandbox: KalshiSandbox) -> None:
    venue = kalshi_sandbox.venue
    venue.add_market(TICKER)
    seed_book(venue, TICKER, yes=[], no=[(60, 10)])  # YES ask at 40
    async with connect(kalshi_sandbox.handle.ws_url, additional_headers=ws_headers(kalshi_sandbox)) as ws:
        command = {"id": 7, "cmd": "subscribe", "params": {"channels": ["trade", "fill", "ticker"]}}
        await ws.send(orjson.dumps(command).decode())
        acks = await recv_json(ws, 3)
        assert [a["msg"] for a in acks] == [
            {"channel": "trade", "sid": 1},
            {"channel": "fill", "sid": 2},
            {"channel": "ticker", "sid": 3},
        ]
        venue.place(ACCOUNT, limit("yes", "buy", 4, 40, "taker-1", TimeInForce.FAK))
        fill, ticker, trade = sorted(await recv_json(ws, 3), key=lambda m: m["type"])
        assert trade["type"] == "trade" and trade["seq"] == 1
        assert (trade["msg"]["yes_price"], trade["msg"]["count"], trade["msg"]["taker_side"]) == (40, 4, "yes")
        assert fill["type"] == "fill" and fill["sid"] == 2
        assert (fill["msg"]["client_order_id"], fill["msg"]["is_taker"], fill["msg"]["post_position"]) == (
            "taker-1",
            True,
            4,
        )
        assert ticker["type"] == "ticker" and "seq" not in ticker
        assert (ticker["msg"]["price"], ticker["msg"]["yes_bid"], ticker["msg"]["yes_ask"]) == (40, 0, 40)
        assert ticker["msg"]["volume"] == 4


async def test_unsubscribe_and_command_errors(kalshi_sandbox: KalshiSandbox) -> None:
    venue = kalshi_sandbox.venue
    venue.add_market(TICKER)
    async with connect(kalshi_sandbox.handle.ws_url, additional_headers=ws_headers(kalshi_sandbox)) as ws:
        await ws.send('{"id": 1, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"]}}')
        await ws.send('{"id": 2, "cmd": "subscribe", "params": {"channels": ["bogus"]}}')
        await ws.send(
            '{"id": 3, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"], "market_ticker": "NOPE"}}'
        )
        await ws.send('{"id": 4, "cmd": "dance"}')
        await ws.send("not json")
        await ws.send(b"\xff binary")
        codes = [m["msg"]["code"] for m in await recv_json(ws, 6)]
        assert codes == [14, 8, 11, 5, 1, 1]
        assert venue.stream.malformed == 2
        await ws.send(
            orjson.dumps(
                {"id": 5, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"], "market_tickers": [TICKER]}}
            ).decode()
        )
        await recv_json(ws, 2)
        await ws.send('{"id": 6, "cmd": "unsubscribe", "params": {"sids": [1]}}')
        assert await recv_json(ws) == [{"id": 6, "sid": 1, "type": "unsubscribed"}]
        venue.place(ACCOUNT, limit("yes", "buy", 1, 10, "quiet"))
        await ws.send('{"id": 8, "cmd": "list_subscriptions"}')
        assert await recv_json(ws) == [{"id": 8, "type": "ok", "subscriptions": []}]
