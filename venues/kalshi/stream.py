"""Kalshi WebSocket market data: signed handshake, subscriptions, books that resync themselves.

Transport is `venues.reconnect.ReconnectingWebSocket` (backoff, reconnect); this class
supplies what is Kalshi's: handshake headers signed over ``GET /trade-api/ws/v2``
(fresh for every reconnect), the subscribe command, and the rules for books.

A book is only trusted between a snapshot and the next sign of trouble. Losing the
connection blinds every book until the new connection's snapshots arrive; a seq gap
or an impossible delta blinds that subscription's books and triggers unsubscribe +
subscribe, which makes Kalshi send fresh snapshots. Malformed frames are logged and
counted, and never stop the stream.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from domain.book import OrderBook
from venues.kalshi.auth import KalshiSigner
from venues.kalshi.books import KalshiBooks, Resync
from venues.kalshi.parse import (
    ErrorMessage,
    KalshiParseError,
    OrderbookDelta,
    OrderbookSnapshot,
    Subscribed,
    WsMessage,
    parse_ws_message,
)
from venues.reconnect import BackoffPolicy, ReconnectingWebSocket, Sleep

log = logging.getLogger(__name__)

BOOK_CHANNEL = "orderbook_delta"
MAX_TICKERS_PER_SUBSCRIBE = 256
"""Kalshi accepts at most 256 markets per subscribe command (as documented by ssmd's Kalshi schema notes)."""

BookListener = Callable[[OrderBook], None]
MessageListener = Callable[[WsMessage], None]


@dataclass(slots=True)
class StreamStats:
    parse_errors: int = 0
    venue_errors: int = 0
    resyncs: int = 0
    listener_errors: int = 0


class KalshiStream:
    """Books (and optionally ticker/trade/fill messages) for `tickers`; run `run()` as a task, end with `stop()`.

    Without tickers (private channels only, e.g. `fill`) it subscribes account-wide.

    `on_book` is called with the book after every change, including when it is
    marked out of sync; `on_message` receives every non-book message (ticker, trade,
    fill, ...). Both run on the stream's task and must not block.
    """

    def __init__(
        self,
        url: str,
        tickers: Sequence[str],
        *,
        signer: KalshiSigner | None = None,
        channels: Sequence[str] = (BOOK_CHANNEL,),
        books: KalshiBooks | None = None,
        on_book: BookListener | None = None,
        on_message: MessageListener | None = None,
        policy: BackoffPolicy | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        if not tickers and BOOK_CHANNEL in channels:
            raise ValueError("subscribe to at least one market")
        self.tickers = tuple(tickers)
        self.channels = tuple(channels)
        self.books = books or KalshiBooks()
        self.stats = StreamStats()
        self._on_book = on_book
        self._on_message = on_message
        self._ids = itertools.count(1)
        self._request_tickers: dict[int, tuple[str, ...]] = {}
        self._sid_tickers: dict[int, tuple[str, ...]] = {}
        self._resubscribing: set[int] = set()
        self._ws = ReconnectingWebSocket(
            url,
            self._on_frame,
            on_connect=self._on_connect,
            on_disconnect=self._on_disconnect,
            headers=signer.ws_headers if signer is not None else None,
            policy=policy,
            sleep=sleep,
            name="kalshi-ws",
        )

    @property
    def transport(self) -> ReconnectingWebSocket:
        return self._ws

    async def run(self) -> None:
        await self._ws.run()

    async def stop(self) -> None:
        await self._ws.stop()

    def _command(self, cmd: str, params: dict[str, object], tickers: tuple[str, ...] = ()) -> str:
        """Commands go out as text frames: Kalshi's API speaks JSON text, not binary frames."""
        request_id = next(self._ids)
        if tickers:
            self._request_tickers[request_id] = tickers
        return orjson.dumps({"id": request_id, "cmd": cmd, "params": params}).decode()

    def _subscribe(self, channels: Sequence[str], tickers: tuple[str, ...]) -> str:
        """No tickers: the account-wide form of a private channel (every market's fills)."""
        params: dict[str, object] = {"channels": list(channels)}
        if tickers:
            params["market_tickers"] = list(tickers)
        return self._command("subscribe", params, tickers)

    async def _on_connect(self, ws: ClientConnection) -> None:
        """A new connection has no subscriptions: books stay blind until its snapshots arrive."""
        self._forget_subscriptions()
        if not self.tickers:
            await ws.send(self._subscribe(self.channels, ()))
        for start in range(0, len(self.tickers), MAX_TICKERS_PER_SUBSCRIBE):
            await ws.send(self._subscribe(self.channels, self.tickers[start : start + MAX_TICKERS_PER_SUBSCRIBE]))

    def _on_disconnect(self, error: BaseException | None) -> None:
        self._forget_subscriptions()
        self._notify_all()

    def _forget_subscriptions(self) -> None:
        self.books.mark_all_out_of_sync()
        self._request_tickers.clear()
        self._sid_tickers.clear()
        self._resubscribing.clear()

    async def _on_frame(self, text: str) -> None:
        resync = self.apply_frame(text)
        if resync is not None:
            await self._resync(resync)

    def apply_frame(self, text: str | bytes) -> Resync | None:
        """Apply one frame to the books (and tell the listeners); a `Resync` asks for fresh snapshots.

        Synchronous, so a replay or a benchmark drives the very path the connection does; only
        resubscribing needs the connection (`_on_frame` does it)."""
        if not self._resubscribing and self.books.native:
            book = self.books.on_frame(text)  # the plain delta, applied in C; None: parse it below
            if book is not None:
                self._tell(book)
                return None
        try:
            msg = parse_ws_message(text)
        except KalshiParseError as exc:
            self.stats.parse_errors += 1
            log.warning("kalshi-ws: dropped malformed frame (%s): %.300r", exc, text)
            return None
        resync = None
        if isinstance(msg, OrderbookDelta):
            if msg.sid is not None and msg.sid in self._resubscribing:
                return None  # in flight from the subscription being replaced
            resync = self.books.on_delta(msg)
            self._notify(msg.ticker)
        elif isinstance(msg, OrderbookSnapshot):
            if msg.sid is not None and msg.sid in self._resubscribing:
                return None
            resync = self.books.on_snapshot(msg)
            self._notify(msg.ticker)
        elif isinstance(msg, Subscribed):
            tickers = self._request_tickers.get(msg.request_id) if msg.request_id is not None else None
            if msg.channel == BOOK_CHANNEL and msg.sid is not None and tickers is not None:
                self._sid_tickers[msg.sid] = tickers
        elif isinstance(msg, ErrorMessage):
            self.stats.venue_errors += 1
            log.error("kalshi-ws: command %s failed: code %s %s", msg.request_id, msg.code, msg.message)
        elif self._on_message is not None:
            try:
                self._on_message(msg)
            except Exception:
                self.stats.listener_errors += 1
                log.exception("kalshi-ws: message listener failed")
        return resync

    async def _resync(self, resync: Resync) -> None:
        """Replace the subscription the bad books came from; Kalshi answers with fresh snapshots."""
        sid = resync.sid
        if sid is not None and sid in self._resubscribing:
            return
        known = set(resync.tickers) | self.books.subscription_tickers(sid)
        if sid is not None:
            known.update(self._sid_tickers.get(sid, ()))
        tickers = tuple(sorted(known))
        self.stats.resyncs += 1
        log.warning("kalshi-ws: resubscribing %s: %s", ", ".join(tickers), resync.reason)
        for ticker in tickers:  # unsubscribed books get no more deltas: none of them may look current
            self.books.book(ticker).mark_out_of_sync()
        try:
            if sid is not None:
                self._resubscribing.add(sid)
                self._sid_tickers.pop(sid, None)
                self.books.forget_subscription(sid)
                await self._ws.send(self._command("unsubscribe", {"sids": [sid]}))
            await self._ws.send(self._subscribe((BOOK_CHANNEL,), tuple(tickers)))
        except (ConnectionError, ConnectionClosed):
            log.warning("kalshi-ws: connection lost during resubscribe; reconnect will resubscribe")
        for ticker in tickers:
            self._notify(ticker)

    def _notify(self, ticker: str) -> None:
        book = self.books.get(ticker)
        if book is not None:
            self._tell(book)

    def _tell(self, book: OrderBook) -> None:
        if self._on_book is None:
            return
        try:
            self._on_book(book)
        except Exception:
            self.stats.listener_errors += 1
            log.exception("kalshi-ws: book listener failed")

    def _notify_all(self) -> None:
        for ticker in self.books.tickers:
            self._notify(ticker)
