"""Property: whatever orders arrive, snapshot + deltas on the stream rebuild exactly the venue's book."""

from __future__ import annotations

import contextlib
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.models import TimeInForce
from sandbox.kalshi import KalshiVenue
from sandbox.kalshi.stream import Connection
from sandbox.kalshi.venue import KalshiError, OrderInput

TICKER = "KXPROP-26-A"
TIFS = [TimeInForce.GTC, TimeInForce.FAK, TimeInForce.FOK]

orders = st.lists(
    st.tuples(
        st.sampled_from(["alice", "bob"]),
        st.sampled_from(["yes", "no"]),
        st.sampled_from(["buy", "sell"]),
        st.integers(1, 30),
        st.integers(40, 60),  # a narrow band, so orders cross and trade often
        st.sampled_from(TIFS),
        st.booleans(),
    ),
    min_size=10,
    max_size=40,
)


def rebuild(frames: list[bytes]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    book: dict[str, dict[int, int]] = {"yes": {}, "no": {}}
    expected_seq = 1
    for frame in frames:
        message: dict[str, Any] = orjson.loads(frame)
        if "seq" not in message:
            continue
        assert message["seq"] == expected_seq
        expected_seq += 1
        body = message["msg"]
        if message["type"] == "orderbook_snapshot":
            book = {side: dict(map(tuple, body.get(side, []))) for side in ("yes", "no")}
        elif message["type"] == "orderbook_delta":
            level = book[body["side"]]
            level[body["price"]] = level.get(body["price"], 0) + body["delta"]
            assert level[body["price"]] >= 0
            if level[body["price"]] == 0:
                del level[body["price"]]
    return sorted(book["yes"].items()), sorted(book["no"].items())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(orders, st.integers(0, 39))
def test_stream_rebuilds_the_book(ops: list[tuple[Any, ...]], cancel_at: int) -> None:
    venue = KalshiVenue()
    venue.add_market(TICKER)
    for account in ("alice", "bob"):
        venue.fund(account, 50_000)
        venue.grant(account, TICKER, "yes", 50)
        venue.grant(account, TICKER, "no", 50)
    conn = Connection(websocket=None, account="watcher")  # type: ignore[arg-type]
    venue.stream.connections.add(conn)
    venue.stream._command(
        conn,
        orjson.dumps(
            {"id": 1, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"], "market_ticker": TICKER}}
        ).decode(),
    )
    placed: list[tuple[str, str]] = []
    for i, (account, side, action, count, price, tif, post_only) in enumerate(ops):
        yes_price = price if side == "yes" else 100 - price
        try:
            order = venue.place(
                account,
                OrderInput(
                    TICKER,
                    side,
                    action,
                    count,
                    "limit",
                    yes_price,
                    f"c{i}",
                    tif,
                    None,
                    post_only and tif is TimeInForce.GTC,
                ),
            )
            placed.append((account, order.order_id))
        except KalshiError:
            pass
        if i == cancel_at and placed:
            with contextlib.suppress(KalshiError):
                venue.cancel(*placed[0])
    assert rebuild(list(conn.outbox)) == venue.book(TICKER)
    for account in ("alice", "bob"):
        assert venue.ledger.account(account).cash >= 0
