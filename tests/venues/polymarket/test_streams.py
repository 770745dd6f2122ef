"""Streams against a local WebSocket server that drops the connection mid-stream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection

from domain.models import Market, Venue
from venues.polymarket import parse
from venues.polymarket.auth import ApiCreds
from venues.polymarket.book_feed import PolymarketBookFeed
from venues.polymarket.messages import BookEvent, RtdsMessage, UserEvent, UserTradeEvent
from venues.polymarket.streams import MarketStream, RtdsStream, UserStream

from .ws_server import local_server, receive_into

D = Decimal
BURST = "nautilus_trader/test_data/ws_market_price_change_crossing_burst.json"
NO_TOKEN = "54179564009642723353355316176091991063553046330768303687769988635499280029688"


async def no_wait(delay: float) -> None:
    return None


async def eventually(condition: Callable[[], bool]) -> None:
    """Poll `condition` for up to 5 s (state changes made by the stream's own tasks)."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


class RestBooks:
    """Stands in for PolymarketClient.get_book; records whether the book was out of sync when asked."""

    def __init__(self, feed: PolymarketBookFeed, snapshot: BookEvent) -> None:
        self.feed = feed
        self.snapshot = snapshot
        self.calls: list[tuple[str, bool]] = []

    async def get_book(self, token_id: str) -> BookEvent:
        self.calls.append((token_id, self.feed.book(self.snapshot.market).in_sync))
        return self.snapshot


async def test_market_stream_survives_a_drop_and_ends_on_the_exact_book(shared_data: Path) -> None:
    messages: list[dict[str, Any]] = orjson.loads((shared_data / BURST).read_bytes())
    first, final = messages[0], messages[-1]
    market_id, yes = first["market"], first["asset_id"]
    feed = PolymarketBookFeed()
    feed.add_tokens(market_id, yes, NO_TOKEN)
    rest = RestBooks(feed, parse.book_response(first))
    drop_at = 20

    async def script(conn: ServerConnection, index: int) -> None:
        await receive_into(conn, server.received[index], 1)
        if index == 0:
            for message in messages[: drop_at + 1]:
                await conn.send(orjson.dumps(message).decode())
            return  # drop mid-stream
        await conn.send(orjson.dumps(first).decode())  # the venue sends a fresh book on subscribe
        await conn.send(orjson.dumps(messages[1:-1]).decode())  # and a batch as one JSON array frame
        await conn.wait_closed()

    async with local_server(script) as server:
        stream = MarketStream(feed, url=server.url, rest=rest, sleep=no_wait)
        task = asyncio.create_task(stream.run())
        final_event = parse.market_event(final)
        assert isinstance(final_event, BookEvent)
        await eventually(lambda: feed.book(market_id).snapshot().hash == final_event.hash)
        await stream.stop()
        await asyncio.wait_for(task, 5)

    subscribe = orjson.loads(server.received[0][0])
    assert subscribe == {"assets_ids": [yes, NO_TOKEN], "type": "market", "custom_feature_enabled": True}
    assert server.received[1] == server.received[0]  # resubscribed after the drop
    assert stream.runner.counters.connects == 2 and stream.runner.counters.disconnects == 1
    assert (yes, False) in rest.calls  # REST resync after reconnect, while the book was marked out of sync
    snap = feed.book(market_id).snapshot()
    assert list(snap.yes_bids) == sorted(final_event.bids, key=lambda lvl: -lvl[0])
    assert list(snap.yes_asks) == sorted(final_event.asks)
    assert snap.in_sync and feed.counters.parse_errors == 0


async def test_books_are_out_of_sync_while_disconnected(shared_data: Path) -> None:
    messages: list[dict[str, Any]] = orjson.loads((shared_data / BURST).read_bytes())
    feed = PolymarketBookFeed()
    feed.add_tokens(messages[0]["market"], messages[0]["asset_id"], NO_TOKEN)
    reconnecting = asyncio.Event()
    states: list[bool] = []

    async def held_sleep(delay: float) -> None:
        states.append(feed.book(messages[0]["market"]).snapshot().in_sync)
        reconnecting.set()
        await asyncio.sleep(3600)

    async def script(conn: ServerConnection, index: int) -> None:
        await receive_into(conn, server.received[index], 1)
        await conn.send(orjson.dumps(messages[0]).decode())

    async with local_server(script) as server:
        stream = MarketStream(feed, url=server.url, sleep=held_sleep)
        task = asyncio.create_task(stream.run())
        await asyncio.wait_for(reconnecting.wait(), 5)
        await stream.stop()
        await asyncio.wait_for(task, 5)
    assert feed.counters.messages == 1 and states == [False]


async def test_keepalive_pings_and_live_subscribe() -> None:
    pinged = asyncio.Event()

    async def script(conn: ServerConnection, index: int) -> None:
        async for message in conn:
            server.received[index].append(str(message))
            if message == "PING":
                await conn.send("PONG")
                pinged.set()

    feed = PolymarketBookFeed()
    async with local_server(script) as server:
        stream = MarketStream(feed, url=server.url, ping_interval=0.02, custom_features=False)
        task = asyncio.create_task(stream.run())
        await asyncio.wait_for(stream.runner.connected.wait(), 5)
        market = Market(venue=Venue.POLYMARKET, market_id="0xm", title="t", yes_token="1", no_token="2")
        await stream.subscribe([market])
        await asyncio.wait_for(pinged.wait(), 5)
        await stream.stop()
        await asyncio.wait_for(task, 5)
    sent = server.received[0]
    assert orjson.loads(sent[0]) == {"assets_ids": [], "type": "market", "custom_feature_enabled": False}
    assert orjson.loads(sent[1]) == {
        "assets_ids": ["1", "2"],
        "operation": "subscribe",
        "custom_feature_enabled": False,
    }
    assert "PING" in sent
    assert stream.runner.counters.frames == 0  # PONG is not a frame
    assert feed.asset_ids == ["1", "2"]


async def test_gap_detected_by_the_feed_triggers_a_rest_resync() -> None:
    feed = PolymarketBookFeed()
    feed.add_tokens("m", "yes", "no")
    snapshot = BookEvent("m", "yes", [(D("0.45"), D("1"))], [(D("0.6"), D("1"))], 10, "h")
    rest = RestBooks(feed, snapshot)
    stream = MarketStream(feed, url="ws://127.0.0.1:9", rest=rest)
    feed.on_frame(
        orjson.dumps(
            {
                "event_type": "book",
                "market": "m",
                "asset_id": "yes",
                "timestamp": "1",
                "bids": [{"price": "0.4", "size": "1"}],
                "asks": [{"price": "0.6", "size": "1"}],
            }
        )
    )
    feed.on_frame(
        orjson.dumps(
            {
                "event_type": "price_change",
                "market": "m",
                "timestamp": "2",
                "price_changes": [
                    {
                        "asset_id": "yes",
                        "price": "0.41",
                        "size": "1",
                        "side": "BUY",
                        "best_bid": "0.45",
                        "best_ask": "0.6",
                    }
                ],
            }
        )
    )
    assert not feed.book("m").in_sync
    await eventually(lambda: stream.resyncs == 1)
    assert rest.calls == [("yes", False)]
    assert feed.book("m").snapshot().yes_bids == ((D("0.45"), D("1")),)
    assert feed.book("m").in_sync


async def test_user_stream_authenticates_and_resubscribes(shared_data: Path) -> None:
    trade = (shared_data / "nautilus_trader/ws_messages/user_trade1.json").read_text()

    async def script(conn: ServerConnection, index: int) -> None:
        await receive_into(conn, server.received[index], 1)
        await conn.send(trade)
        await conn.send("{not json")

    events: list[UserEvent] = []

    async def on_event(event: UserEvent) -> None:
        events.append(event)
        if len(events) == 2:
            await stream.stop()

    creds = ApiCreds("k", "s", "p")
    async with local_server(script) as server:
        stream = UserStream(creds, on_event, markets=["0xm"], url=server.url, sleep=no_wait)
        await asyncio.wait_for(stream.run(), 5)
    assert [orjson.loads(r[0]) for r in server.received] == [
        {"auth": {"apiKey": "k", "secret": "s", "passphrase": "p"}, "markets": ["0xm"], "type": "user"}
    ] * 2
    assert all(isinstance(e, UserTradeEvent) for e in events)
    assert stream.parse_errors >= 1


async def test_rtds_reconnects_immediately() -> None:
    async def script(conn: ServerConnection, index: int) -> None:
        await receive_into(conn, server.received[index], 1)
        await conn.send(
            orjson.dumps(
                {"topic": "activity", "type": "trades", "timestamp": 1000 + index, "payload": {"n": index}}
            ).decode()
        )

    received: list[RtdsMessage] = []
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)

    async def on_message(message: RtdsMessage) -> None:
        received.append(message)
        if len(received) == 3:
            await stream.stop()

    subscriptions = [{"topic": "activity", "type": "trades"}]
    async with local_server(script) as server:
        stream = RtdsStream(subscriptions, on_message, url=server.url, sleep=record)
        await asyncio.wait_for(stream.run(), 5)
    assert [m.payload["n"] for m in received] == [0, 1, 2]
    assert delays == []
    assert orjson.loads(server.received[0][0]) == {"action": "subscribe", "subscriptions": subscriptions}
