"""Polymarket WebSocket streams on the shared reconnecting runner.

* `MarketStream` keeps a `PolymarketBookFeed` current: subscribes to every token of
  its markets, sends the text keep-alive "PING" every 10 s, marks all books out of
  sync the moment the connection drops, resubscribes on reconnect, and re-reads
  each book over REST (`GET /book`) after a reconnect or when the feed detects a
  gap, so a book is never trusted on deltas alone after a blind spell.
* `UserStream` authenticates with the API credentials and hands our order and trade
  events to a callback; after a drop the owner reconciles over REST.
* `RtdsStream` (Real-Time Data Socket) reconnects at once after a drop, since that
  server closes healthy connections routinely.

Parse failures are logged and counted on the stream; they never end it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import orjson
from websockets.asyncio.client import ClientConnection

from domain.models import Market
from venues.errors import VenueError
from venues.polymarket import parse
from venues.polymarket.auth import ApiCreds
from venues.polymarket.book_feed import PolymarketBookFeed
from venues.polymarket.constants import MARKET_WS_URL, RTDS_WS_URL, USER_WS_URL
from venues.polymarket.messages import BookEvent, PolymarketParseError, RtdsMessage, UserEvent
from venues.reconnect import BackoffPolicy, ReconnectingWebSocket, Sleep

log = logging.getLogger(__name__)


class BookSource(Protocol):
    """What the market stream needs from the REST client (`PolymarketClient`) to resync a book."""

    async def get_book(self, token_id: str) -> BookEvent: ...


def _dumps(message: object) -> str:
    return orjson.dumps(message).decode()


async def _call(callback: Callable[[Any], Awaitable[None] | None], value: Any) -> None:
    result = callback(value)
    if inspect.isawaitable(result):
        await result


class MarketStream:
    """Market channel for the markets registered on `feed`; `rest` (a PolymarketClient) enables resyncs."""

    def __init__(
        self,
        feed: PolymarketBookFeed,
        *,
        url: str = MARKET_WS_URL,
        rest: BookSource | None = None,
        custom_features: bool = True,
        ping_interval: float = 10.0,
        policy: BackoffPolicy | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.feed = feed
        self.resyncs = 0
        self.resync_errors = 0
        self._rest = rest
        self._custom = custom_features
        self._pending: dict[str, asyncio.Task[None]] = {}
        feed.on_desync = self.request_resync
        self.runner = ReconnectingWebSocket(
            url,
            feed.on_frame,
            on_connect=self._on_connect,
            on_disconnect=self._on_disconnect,
            ping_payload="PING",
            pong_payload="PONG",
            ping_interval=ping_interval,
            policy=policy,
            sleep=sleep,
            name="polymarket-market",
        )

    async def run(self) -> None:
        try:
            await self.runner.run()
        finally:
            await self._cancel_resyncs()

    async def stop(self) -> None:
        await self.runner.stop()
        await self._cancel_resyncs()

    async def subscribe(self, markets: Iterable[Market]) -> None:
        """Add markets; on a live connection they are subscribed at once (`operation: subscribe`)."""
        markets = list(markets)
        new_assets: list[str] = []
        for market in markets:
            self.feed.add_market(market)
            new_assets += [market.yes_token, market.no_token]
        if new_assets and self.runner.connected.is_set():
            message = {"assets_ids": new_assets, "operation": "subscribe", "custom_feature_enabled": self._custom}
            try:
                await self.runner.send(_dumps(message))
            except (ConnectionError, OSError):
                return  # the next connection subscribes to everything
            for market in markets:
                self.request_resync(market.market_id)

    async def _on_connect(self, ws: ClientConnection) -> None:
        message = {"assets_ids": self.feed.asset_ids, "type": "market", "custom_feature_enabled": self._custom}
        await ws.send(_dumps(message))
        for book in self.feed.books():
            self.request_resync(book.market_id)

    def _on_disconnect(self, error: BaseException | None) -> None:
        self.feed.mark_all_out_of_sync()

    def request_resync(self, market_id: str) -> None:
        """Fetch the market's book over REST (once at a time per market); no-op without a REST client."""
        if self._rest is None or market_id in self._pending:
            return
        task = asyncio.get_running_loop().create_task(self._resync(market_id), name=f"resync-{market_id}")
        self._pending[market_id] = task

    async def _resync(self, market_id: str) -> None:
        assert self._rest is not None
        try:
            event = await self._rest.get_book(self.feed.yes_token(market_id))
            self.feed.apply_rest_snapshot(event)
            self.resyncs += 1
        except (VenueError, PolymarketParseError) as exc:
            self.resync_errors += 1
            log.warning("polymarket book resync of %s failed: %s", market_id, exc)
        finally:
            self._pending.pop(market_id, None)

    async def _cancel_resyncs(self) -> None:
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pending.clear()


class UserStream:
    """User channel for `markets` (condition ids; empty = all); `on_event` gets each parsed order/trade event."""

    def __init__(
        self,
        creds: ApiCreds,
        on_event: Callable[[UserEvent], Awaitable[None] | None],
        *,
        markets: Sequence[str] = (),
        url: str = USER_WS_URL,
        on_disconnect: Callable[[BaseException | None], Awaitable[None] | None] | None = None,
        ping_interval: float = 10.0,
        policy: BackoffPolicy | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.parse_errors = 0
        self._creds = creds
        self._markets = list(markets)
        self._on_event = on_event
        self.runner = ReconnectingWebSocket(
            url,
            self._on_frame,
            on_connect=self._on_connect,
            on_disconnect=on_disconnect,
            ping_payload="PING",
            pong_payload="PONG",
            ping_interval=ping_interval,
            policy=policy,
            sleep=sleep,
            name="polymarket-user",
        )

    async def run(self) -> None:
        await self.runner.run()

    async def stop(self) -> None:
        await self.runner.stop()

    async def _on_connect(self, ws: ClientConnection) -> None:
        auth = {"apiKey": self._creds.api_key, "secret": self._creds.secret, "passphrase": self._creds.passphrase}
        await ws.send(_dumps({"auth": auth, "markets": self._markets, "type": "user"}))

    async def _on_frame(self, frame: str) -> None:
        try:
            events = parse.user_frame(frame)
        except PolymarketParseError as exc:
            self.parse_errors += 1
            log.warning("polymarket user frame rejected: %s: %.200r", exc, frame)
            return
        for event in events:
            await _call(self._on_event, event)


class RtdsStream:
    """RTDS topics (`subscriptions` as the venue expects them, e.g. {"topic": "activity", "type": "trades"})."""

    def __init__(
        self,
        subscriptions: Sequence[Mapping[str, Any]],
        on_message: Callable[[RtdsMessage], Awaitable[None] | None],
        *,
        url: str = RTDS_WS_URL,
        ping_interval: float = 5.0,
        policy: BackoffPolicy | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.parse_errors = 0
        self._subscriptions = [dict(s) for s in subscriptions]
        self._on_message = on_message
        self.runner = ReconnectingWebSocket(
            url,
            self._on_frame,
            on_connect=self._on_connect,
            ping_payload="PING",
            pong_payload="PONG",
            ping_interval=ping_interval,
            policy=policy,
            immediate_reconnect=True,
            sleep=sleep,
            name="polymarket-rtds",
        )

    async def run(self) -> None:
        await self.runner.run()

    async def stop(self) -> None:
        await self.runner.stop()

    async def _on_connect(self, ws: ClientConnection) -> None:
        await ws.send(_dumps({"action": "subscribe", "subscriptions": self._subscriptions}))

    async def _on_frame(self, frame: str) -> None:
        if not frame.strip():
            return
        try:
            messages = parse.rtds_frame(frame)
        except PolymarketParseError as exc:
            self.parse_errors += 1
            log.warning("polymarket RTDS frame rejected: %s: %.200r", exc, frame)
            return
        for message in messages:
            await _call(self._on_message, message)
