"""Kalshi WebSocket fan-out: subscriptions (sid), per-subscription `seq`, channels.

Commands follow the venue: `{"id", "cmd": "subscribe", "params": {"channels": [...],
"market_ticker" | "market_tickers"}}` answers one `subscribed` per channel with its
own `sid`; `unsubscribe` takes `params.sids`. `orderbook_delta` subscriptions get
an `orderbook_snapshot` per market first, then `orderbook_delta`s (carrying the
`client_order_id` for the account whose order made the change); snapshot, delta
and trade messages carry `seq`, counted per subscription (several markets on one
sid share it, as on the venue), `ticker` messages carry none. `fill` is private to
the account that signed the handshake. Error codes are the documented numeric ones
(an unknown market ticker is 11, "Invalid parameter").

Every message is encoded once (`msg` body) and framed per subscriber, and each
connection has its own unbounded outbox drained by one writer task, so a slow
reader never blocks the matching engine; a reader that falls `MAX_BACKLOG`
messages behind is disconnected, as a venue would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from sandbox.faults import FaultInjector

log = logging.getLogger(__name__)

MAX_BACKLOG = 200_000
PUBLIC_CHANNELS = frozenset({"orderbook_delta", "ticker", "trade"})
PRIVATE_CHANNELS = frozenset({"fill"})
MARKET_REQUIRED = frozenset({"orderbook_delta"})

ERR_UNABLE_TO_PROCESS = 1
ERR_PARAMS_REQUIRED = 2
ERR_CHANNELS_REQUIRED = 3
ERR_SIDS_REQUIRED = 4
ERR_UNKNOWN_COMMAND = 5
ERR_UNKNOWN_SID = 7
ERR_UNKNOWN_CHANNEL = 8
ERR_INVALID_PARAMETER = 11
ERR_MARKET_TICKER_REQUIRED = 14

ERROR_TEXT = {
    ERR_UNABLE_TO_PROCESS: "Unable to process message",
    ERR_PARAMS_REQUIRED: "Params required",
    ERR_CHANNELS_REQUIRED: "Channels required",
    ERR_SIDS_REQUIRED: "Subscription IDs required",
    ERR_UNKNOWN_COMMAND: "Unknown command",
    ERR_UNKNOWN_SID: "Unknown subscription ID",
    ERR_UNKNOWN_CHANNEL: "Unknown channel name",
    ERR_INVALID_PARAMETER: "Invalid parameter",
    ERR_MARKET_TICKER_REQUIRED: "Market Ticker required",
}

SnapshotProvider = Callable[[str], dict[str, Any] | None]
"""ticker -> the `msg` body of an orderbook_snapshot, or None for an unknown market."""


@dataclass(slots=True)
class Subscription:
    sid: int
    channel: str
    tickers: set[str] | None
    seq: int = 0

    def wants(self, ticker: str) -> bool:
        return self.tickers is None or ticker in self.tickers


@dataclass(eq=False)
class Connection:
    websocket: WebSocket
    account: str
    subs: dict[int, Subscription] = field(default_factory=dict)
    outbox: deque[bytes] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    sent: int = 0
    next_sid: int = 1
    closed: bool = False

    def push(self, frame: bytes) -> None:
        if self.closed:
            return
        self.outbox.append(frame)
        self.wake.set()

    def by_channel(self, channel: str) -> list[Subscription]:
        return [s for s in self.subs.values() if s.channel == channel]


class KalshiStream:
    """All live connections of one sandbox Kalshi venue."""

    def __init__(self, faults: FaultInjector, snapshot: SnapshotProvider) -> None:
        self.faults = faults
        self.snapshot = snapshot
        self.connections: set[Connection] = set()
        self.malformed = 0

    # -- serving one connection ----------------------------------------------------------------

    async def serve(self, websocket: WebSocket, account: str) -> None:
        conn = Connection(websocket, account)
        self.connections.add(conn)
        handle = self.faults.register_socket(lambda: self._close(conn))
        writer = asyncio.create_task(self._write(conn))
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                raw = message.get("text")
                if raw is None:
                    raw = (message.get("bytes") or b"").decode("utf-8", errors="replace")
                self._command(conn, raw)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            conn.closed = True
            conn.wake.set()
            self.connections.discard(conn)
            self.faults.unregister_socket(handle)
            writer.cancel()

    async def _write(self, conn: Connection) -> None:
        ws = conn.websocket
        try:
            while not conn.closed:
                await conn.wake.wait()
                conn.wake.clear()
                if len(conn.outbox) > MAX_BACKLOG:
                    log.warning("kalshi sandbox: slow reader %s dropped (%d queued)", conn.account, len(conn.outbox))
                    await self._close(conn)
                    return
                while conn.outbox and not conn.closed:
                    await ws.send_text(conn.outbox.popleft().decode())
                    conn.sent += 1
                    if self.faults.should_drop_ws(conn.sent):
                        await self._close(conn)
                        return
        except (WebSocketDisconnect, RuntimeError, OSError):
            conn.closed = True

    async def _close(self, conn: Connection) -> None:
        conn.closed = True
        conn.wake.set()
        if conn.websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError):
                await conn.websocket.close(code=1011)

    # -- commands ------------------------------------------------------------------------------

    def _command(self, conn: Connection, raw: str) -> None:
        try:
            command = orjson.loads(raw)
        except orjson.JSONDecodeError:
            command = None
        if not isinstance(command, dict):
            self.malformed += 1
            log.warning("kalshi sandbox ws: malformed command from %s: %r", conn.account, raw[:200])
            self._error(conn, None, ERR_UNABLE_TO_PROCESS)
            return
        cid = command.get("id")
        cmd = command.get("cmd")
        params = command.get("params")
        if cmd == "subscribe":
            self._subscribe(conn, cid, params)
        elif cmd == "unsubscribe":
            self._unsubscribe(conn, cid, params)
        elif cmd == "list_subscriptions":
            subs = [{"channel": s.channel, "sid": s.sid} for s in conn.subs.values()]
            conn.push(orjson.dumps({"id": cid, "type": "ok", "subscriptions": subs}))
        else:
            self._error(conn, cid, ERR_UNKNOWN_COMMAND)

    def _subscribe(self, conn: Connection, cid: Any, params: Any) -> None:
        if not isinstance(params, dict):
            self._error(conn, cid, ERR_PARAMS_REQUIRED)
            return
        channels = params.get("channels")
        if not isinstance(channels, list) or not channels:
            self._error(conn, cid, ERR_CHANNELS_REQUIRED)
            return
        tickers = _tickers(params)
        for channel in channels:
            if channel not in PUBLIC_CHANNELS | PRIVATE_CHANNELS:
                self._error(conn, cid, ERR_UNKNOWN_CHANNEL)
                return
            if channel in MARKET_REQUIRED and not tickers:
                self._error(conn, cid, ERR_MARKET_TICKER_REQUIRED)
                return
        if "orderbook_delta" in channels and tickers:
            unknown = [t for t in tickers if self.snapshot(t) is None]
            if unknown:
                self._error(conn, cid, ERR_INVALID_PARAMETER)
                return
        for channel in channels:
            sub = Subscription(conn.next_sid, channel, set(tickers) if tickers else None)
            conn.next_sid += 1
            conn.subs[sub.sid] = sub
            conn.push(orjson.dumps({"id": cid, "type": "subscribed", "msg": {"channel": channel, "sid": sub.sid}}))
            if channel == "orderbook_delta":
                for ticker in tickers or []:
                    body = self.snapshot(ticker)
                    if body is not None:
                        conn.push(self._frame("orderbook_snapshot", sub, orjson.dumps(body), sequenced=True))

    def _unsubscribe(self, conn: Connection, cid: Any, params: Any) -> None:
        sids = params.get("sids") if isinstance(params, dict) else None
        if not isinstance(sids, list) or not sids:
            self._error(conn, cid, ERR_SIDS_REQUIRED)
            return
        for sid in sids:
            if conn.subs.pop(sid, None) is None:
                self._error(conn, cid, ERR_UNKNOWN_SID)
                continue
            conn.push(orjson.dumps({"id": cid, "sid": sid, "type": "unsubscribed"}))

    def _error(self, conn: Connection, cid: Any, code: int) -> None:
        conn.push(orjson.dumps({"id": cid, "type": "error", "msg": {"code": code, "msg": ERROR_TEXT[code]}}))

    # -- publishing ----------------------------------------------------------------------------

    def _frame(self, kind: str, sub: Subscription, body: bytes, *, sequenced: bool) -> bytes:
        if not sequenced:
            return b'{"type":"%s","sid":%d,"msg":%s}' % (kind.encode(), sub.sid, body)
        sub.seq += 2 if self.faults.take_seq_gap() else 1
        return b'{"type":"%s","sid":%d,"seq":%d,"msg":%s}' % (kind.encode(), sub.sid, sub.seq, body)

    def backlog(self) -> int:
        """Messages queued for the slowest reader."""
        return max((len(conn.outbox) for conn in self.connections), default=0)

    def wants(self, channel: str, ticker: str) -> bool:
        """Whether anyone listens, so the venue builds no message nobody reads."""
        return any(
            sub.channel == channel and sub.wants(ticker) for conn in self.connections for sub in conn.subs.values()
        )

    def _fanout(self, channel: str, kind: str, ticker: str, msg: dict[str, Any], *, sequenced: bool) -> None:
        body: bytes | None = None
        for conn in self.connections:
            for sub in conn.subs.values():
                if sub.channel == channel and sub.wants(ticker):
                    if body is None:
                        body = orjson.dumps(msg)
                    conn.push(self._frame(kind, sub, body, sequenced=sequenced))

    def book_delta(self, msg: dict[str, Any], cause: tuple[str, str] | None = None) -> None:
        """Fan out one level change; the account whose order `cause`d it also sees its `client_order_id`."""
        ticker = msg["market_ticker"]
        shared: bytes | None = None
        own: bytes | None = None
        for conn in self.connections:
            for sub in conn.subs.values():
                if sub.channel != "orderbook_delta" or not sub.wants(ticker):
                    continue
                if cause is not None and conn.account == cause[0]:
                    own = own or orjson.dumps({**msg, "client_order_id": cause[1]})
                    body = own
                else:
                    shared = shared or orjson.dumps(msg)
                    body = shared
                conn.push(self._frame("orderbook_delta", sub, body, sequenced=True))

    def trade(self, msg: dict[str, Any]) -> None:
        self._fanout("trade", "trade", msg["market_ticker"], msg, sequenced=True)

    def ticker(self, msg: dict[str, Any]) -> None:
        self._fanout("ticker", "ticker", msg["market_ticker"], msg, sequenced=False)

    def fill(self, account: str, msg: dict[str, Any]) -> None:
        body = orjson.dumps(msg)
        for conn in self.connections:
            if conn.account != account:
                continue
            for sub in conn.by_channel("fill"):
                if sub.wants(msg["market_ticker"]):
                    conn.push(self._frame("fill", sub, body, sequenced=False))

    async def close_all(self) -> None:
        for conn in list(self.connections):
            await self._close(conn)


def _tickers(params: dict[str, Any]) -> list[str]:
    found: list[str] = []
    single = params.get("market_ticker")
    if isinstance(single, str) and single:
        found.append(single)
    many = params.get("market_tickers")
    if isinstance(many, list):
        found.extend(t for t in many if isinstance(t, str) and t)
    return found
