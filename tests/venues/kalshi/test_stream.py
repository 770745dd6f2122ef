from __future__ import annotations

import asyncio
import json
import random
from decimal import Decimal
from http import HTTPStatus

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from websockets.asyncio.server import Request, Response, ServerConnection, serve

from domain.book import OrderBook
from venues.kalshi.auth import KalshiSigner, verify_signature
from venues.kalshi.parse import TradeUpdate, levels_as_json
from venues.kalshi.stream import KalshiStream
from venues.reconnect import BackoffPolicy

D = Decimal
TICKERS = ("KXA-1", "KXB-2")
WS_PATH = "/trade-api/ws/v2"


class FakeKalshi:
    """A Kalshi WebSocket that keeps the true books and misbehaves on a script.

    Subscription 1: snapshots, 10 deltas, then the connection is cut.
    Subscription 2 (after reconnect): snapshots, 5 deltas, one delta applied but never
    sent (a seq gap), 5 more deltas. Subscription 3 (the client's resubscribe):
    a malformed frame, snapshots, 6 deltas, a trade; then `done` is set.
    """

    def __init__(self, public_key: rsa.RSAPublicKey) -> None:
        self.public_key = public_key
        self.rng = random.Random(7)
        self.truth: dict[str, dict[str, dict[Decimal, Decimal]]] = {
            t: {
                "yes": {D("0.40"): D(10), D("0.39"): D(20)},
                "no": {D("0.55"): D(5), D("0.50"): D("7.5")},
            }
            for t in TICKERS
        }
        self.subscriptions = 0
        self.rejected_handshakes = 0
        self.commands: list[dict] = []
        self.done = asyncio.Event()

    def check_signature(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path != WS_PATH or not verify_signature(self.public_key, request.headers, "GET", request.path):
            self.rejected_handshakes += 1
            return connection.respond(HTTPStatus.UNAUTHORIZED, "bad signature\n")
        return None

    def _delta(self) -> tuple[str, str, Decimal, Decimal]:
        ticker = self.rng.choice(TICKERS)
        side = self.rng.choice(("yes", "no"))
        levels = self.truth[ticker][side]
        price = D(self.rng.randint(30, 45) if side == "yes" else self.rng.randint(50, 65)) / 100
        current = levels.get(price, D(0))
        delta = D(self.rng.randint(1, 30)) if current == 0 or self.rng.random() < 0.5 else -current
        levels[price] = current + delta
        if levels[price] == 0:
            del levels[price]
        return ticker, side, price, delta

    async def handler(self, ws: ServerConnection) -> None:
        async for raw in ws:
            command = json.loads(raw)
            self.commands.append(command)
            if command["cmd"] == "unsubscribe":
                await ws.send(
                    json.dumps({"id": command["id"], "type": "unsubscribed", "sid": command["params"]["sids"][0]})
                )
                continue
            self.subscriptions += 1
            sid = self.subscriptions
            await ws.send(
                json.dumps(
                    {"id": command["id"], "type": "subscribed", "msg": {"channel": "orderbook_delta", "sid": sid}}
                )
            )
            if sid == 3:
                await ws.send("{not json")
            seq = 0
            for ticker in command["params"]["market_tickers"]:
                seq += 1
                book = self.truth[ticker]
                msg = {
                    "market_ticker": ticker,
                    "yes_dollars_fp": levels_as_json(sorted(book["yes"].items())),
                    "no_dollars_fp": levels_as_json(sorted(book["no"].items())),
                }
                await ws.send(json.dumps({"type": "orderbook_snapshot", "sid": sid, "seq": seq, "msg": msg}))
            plans: dict[int, list[int | str]] = {1: [10], 2: [5, "skip", 5], 3: [6]}
            plan = plans[sid]
            for step in plan:
                if step == "skip":
                    self._delta()
                    seq += 1
                    continue
                for _ in range(int(step)):
                    ticker, side, price, delta = self._delta()
                    seq += 1
                    msg = {
                        "market_ticker": ticker,
                        "price_dollars": f"{price:.4f}",
                        "delta_fp": f"{delta:.2f}",
                        "side": side,
                    }
                    await ws.send(json.dumps({"type": "orderbook_delta", "sid": sid, "seq": seq, "msg": msg}))
            if sid == 1:
                ws.transport.abort()
                return
            if sid == 3:
                trade = {
                    "trade_id": "t1",
                    "market_ticker": TICKERS[0],
                    "yes_price_dollars": "0.4000",
                    "no_price_dollars": "0.6000",
                    "count_fp": "3.00",
                    "taker_side": "yes",
                    "ts": 1,
                }
                await ws.send(json.dumps({"type": "trade", "sid": 9, "seq": 1, "msg": trade}))
                self.done.set()


def _matches(book: OrderBook, truth: dict[str, dict[Decimal, Decimal]]) -> bool:
    snap = book.snapshot()
    return (
        snap.in_sync
        and dict(snap.yes_bids) == truth["yes"]
        and dict(snap.yes_asks) == {1 - p: s for p, s in truth["no"].items()}
    )


@pytest.fixture(scope="module")
def signer() -> KalshiSigner:
    return KalshiSigner("key-1", rsa.generate_private_key(public_exponent=65537, key_size=2048))


async def test_books_survive_drops_and_gaps_and_end_correct(signer: KalshiSigner) -> None:
    fake = FakeKalshi(signer.public_key)
    history: dict[str, list[bool]] = {t: [] for t in TICKERS}
    trades: list[TradeUpdate] = []

    def on_book(book: OrderBook) -> None:
        if not history[book.market_id] or history[book.market_id][-1] != book.in_sync:
            history[book.market_id].append(book.in_sync)

    def on_message(msg: object) -> None:
        if isinstance(msg, TradeUpdate):
            trades.append(msg)

    async with serve(fake.handler, "127.0.0.1", 0, process_request=fake.check_signature) as server:
        port = server.sockets[0].getsockname()[1]
        stream = KalshiStream(
            f"ws://127.0.0.1:{port}{WS_PATH}",
            TICKERS,
            signer=signer,
            channels=("orderbook_delta", "trade"),
            on_book=on_book,
            on_message=on_message,
            policy=BackoffPolicy(initial=0.01, maximum=0.05, jitter=0),
        )
        task = asyncio.create_task(stream.run())
        try:
            await asyncio.wait_for(fake.done.wait(), timeout=10)
            for _ in range(200):
                if all(_matches(stream.books.book(t), fake.truth[t]) for t in TICKERS):
                    break
                await asyncio.sleep(0.01)
        finally:
            await stream.stop()
            await asyncio.wait_for(task, timeout=5)

    for ticker in TICKERS:
        assert _matches(stream.books.book(ticker), fake.truth[ticker]), ticker
        # in sync, blind after the drop, in sync, blind after the gap, in sync again
        assert history[ticker] == [True, False, True, False, True], (ticker, history[ticker])
    assert fake.rejected_handshakes == 0
    assert stream.transport.counters.connects == 2
    assert stream.stats.resyncs == 1 and stream.books.counters.gaps == 1
    assert stream.stats.parse_errors == 1
    first = fake.commands[0]
    assert first["cmd"] == "subscribe"
    assert first["params"] == {"channels": ["orderbook_delta", "trade"], "market_tickers": list(TICKERS)}
    unsubscribe, resubscribe = fake.commands[2], fake.commands[3]
    assert unsubscribe["cmd"] == "unsubscribe" and unsubscribe["params"] == {"sids": [2]}
    assert resubscribe["params"] == {"channels": ["orderbook_delta"], "market_tickers": list(TICKERS)}
    assert [t.trade_id for t in trades] == ["t1"]


async def test_unsigned_handshake_is_refused_and_retried(signer: KalshiSigner) -> None:
    fake = FakeKalshi(signer.public_key)
    async with serve(fake.handler, "127.0.0.1", 0, process_request=fake.check_signature) as server:
        port = server.sockets[0].getsockname()[1]
        stream = KalshiStream(
            f"ws://127.0.0.1:{port}{WS_PATH}", TICKERS, policy=BackoffPolicy(initial=0.01, maximum=0.02, jitter=0)
        )
        task = asyncio.create_task(stream.run())
        try:
            for _ in range(200):
                if stream.transport.counters.connect_failures >= 2:
                    break
                await asyncio.sleep(0.01)
        finally:
            await stream.stop()
            await asyncio.wait_for(task, timeout=5)
    assert fake.rejected_handshakes >= 2 and fake.subscriptions == 0
    assert stream.transport.counters.connects == 0


async def test_one_impossible_delta_blinds_every_book_of_its_subscription() -> None:
    """Resubscribing stops deltas for the whole sid, so none of its books may keep looking current."""
    stream = KalshiStream("ws://127.0.0.1:9/unused", TICKERS)
    await stream._on_frame(json.dumps({"id": 1, "type": "subscribed", "msg": {"channel": "orderbook_delta", "sid": 4}}))
    for seq, ticker in enumerate(TICKERS, start=1):
        msg = {"market_ticker": ticker, "yes_dollars_fp": [["0.4000", "10.00"]], "no_dollars_fp": []}
        await stream._on_frame(json.dumps({"type": "orderbook_snapshot", "sid": 4, "seq": seq, "msg": msg}))
    assert all(stream.books.book(t).in_sync for t in TICKERS)
    bad = {"market_ticker": TICKERS[0], "price_dollars": "0.4000", "delta_fp": "-11.00", "side": "yes"}
    await stream._on_frame(json.dumps({"type": "orderbook_delta", "sid": 4, "seq": 3, "msg": bad}))
    assert not any(stream.books.book(t).in_sync for t in TICKERS)
    assert stream.books.book(TICKERS[0]).snapshot().yes_bids == ((D("0.40"), D(10)),)
    assert stream.stats.resyncs == 1
