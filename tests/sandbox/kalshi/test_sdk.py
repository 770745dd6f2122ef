"""Done-when: Kalshi's official Python SDK, unmodified, trades against the sandbox.

The SDK is synchronous (urllib3), so its calls run in a worker thread while the
sandbox serves on the test's event loop.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from kalshi_python_sync import Configuration, KalshiClient
from kalshi_python_sync.exceptions import ApiException

from sandbox.kalshi.admin import seed_book
from tests.sandbox.conftest import KalshiSandbox

TICKER = "KXSANDBOX-26DEC31-T50"


def sdk_client(sb: KalshiSandbox) -> KalshiClient:
    config = Configuration(host=sb.handle.api_url)
    config.api_key_id = sb.creds.key_id
    config.private_key_pem = sb.creds.private_key_pem
    return KalshiClient(config)


def list_book_order_cancel(client: KalshiClient) -> dict[str, Any]:
    markets = client.get_markets(limit=10, status="open")
    book = client.get_market_orderbook(TICKER)
    created = client.create_order(
        ticker=TICKER, side="yes", action="buy", count=3, type="limit", yes_price=40, client_order_id=str(uuid.uuid4())
    )
    canceled = client.cancel_order(created.order.order_id)
    balance = client.get_balance()
    return {"markets": markets, "book": book, "created": created, "canceled": canceled, "balance": balance}


async def test_official_sdk_lists_reads_book_creates_and_cancels(kalshi_sandbox: KalshiSandbox) -> None:
    venue = kalshi_sandbox.venue
    venue.add_market(TICKER, title="Will the sandbox pass?")
    venue.add_market("KXSANDBOX-26DEC31-T60")
    seed_book(venue, TICKER, yes=[(35, 100), (38, 20)], no=[(55, 50)])

    out = await asyncio.to_thread(list_book_order_cancel, sdk_client(kalshi_sandbox))

    tickers = [m.ticker for m in out["markets"].markets]
    assert tickers == [TICKER, "KXSANDBOX-26DEC31-T60"]
    first = out["markets"].markets[0]
    assert (first.yes_bid, first.yes_ask, first.no_bid, first.no_ask) == (38, 45, 55, 62)
    book = out["book"].orderbook
    assert book.yes_dollars == [["0.3500", "100.00"], ["0.3800", "20.00"]]
    assert book.no_dollars == [["0.5500", "50.00"]]
    created = out["created"].order
    assert (created.status.value, created.remaining_count, created.yes_price, created.no_price) == (
        "resting",
        3,
        40,
        60,
    )
    canceled = out["canceled"]
    assert canceled.order.status.value == "canceled"
    assert canceled.reduced_by == 3
    assert out["balance"].balance == 100_000


def pages(client: KalshiClient) -> list[list[str]]:
    seen, cursor = [], None
    while True:
        page = client.get_markets(limit=2, cursor=cursor)
        seen.append([m.ticker for m in page.markets])
        cursor = page.cursor
        if not cursor:
            return seen


async def test_sdk_pages_markets_with_cursor(kalshi_sandbox: KalshiSandbox) -> None:
    for i in range(5):
        kalshi_sandbox.venue.add_market(f"KXPAGE-26-M{i}")
    got = await asyncio.to_thread(pages, sdk_client(kalshi_sandbox))
    assert got == [["KXPAGE-26-M0", "KXPAGE-26-M1"], ["KXPAGE-26-M2", "KXPAGE-26-M3"], ["KXPAGE-26-M4"]]


async def test_sdk_sees_a_taker_fill_with_the_kalshi_fee(kalshi_sandbox: KalshiSandbox) -> None:
    venue = kalshi_sandbox.venue
    venue.add_market(TICKER)
    seed_book(venue, TICKER, yes=[], no=[(91, 500)])

    def take() -> tuple[Any, Any, Any]:
        client = sdk_client(kalshi_sandbox)
        order = client.create_order(
            ticker=TICKER,
            side="yes",
            action="buy",
            count=114,
            type="limit",
            yes_price=9,
            client_order_id="a17688896840",
            time_in_force="immediate_or_cancel",
        )
        return order, client.get_fills(ticker=TICKER), client.get_positions()

    order, fills, positions = await asyncio.to_thread(take)
    placed = order.order
    # The recorded real fill (tydog99 kalshi_partial_fill_real): 114 @ 9c -> taker_fees 66, cost 1026.
    assert (placed.status.value, placed.fill_count, placed.taker_fill_cost, placed.taker_fees) == (
        "executed",
        114,
        1026,
        66,
    )
    assert [(f.count, f.yes_price, f.is_taker) for f in fills.fills] == [(114, 9, True)]
    assert positions.market_positions[0].position == 114
    assert venue.balance_cents("trader") == 100_000 - 1026 - 66


async def test_sdk_duplicate_client_order_id_is_409(kalshi_sandbox: KalshiSandbox) -> None:
    kalshi_sandbox.venue.add_market(TICKER)

    def twice() -> None:
        client = sdk_client(kalshi_sandbox)
        for _ in range(2):
            client.create_order(ticker=TICKER, side="no", action="buy", count=1, no_price=30, client_order_id="dup-1")

    with pytest.raises(ApiException) as caught:
        await asyncio.to_thread(twice)
    assert caught.value.status == 409
    assert '"order_already_exists"' in (caught.value.body or "")


async def test_sdk_parses_every_other_endpoint(kalshi_sandbox: KalshiSandbox) -> None:
    venue = kalshi_sandbox.venue
    venue.add_market(TICKER, "KXSANDBOX-26DEC31", "Will the sandbox pass?", series_ticker="KXSANDBOX")
    seed_book(venue, TICKER, yes=[(30, 10)], no=[(65, 10)])

    def calls() -> dict[str, Any]:
        client = sdk_client(kalshi_sandbox)
        batch = client.batch_create_orders(
            orders=[
                {"ticker": TICKER, "side": "yes", "action": "buy", "count": 2, "yes_price": 35},
                {"ticker": TICKER, "side": "yes", "action": "buy", "count": 2, "yes_price": 20},
            ]
        )
        resting = [o.order.order_id for o in batch.orders if o.order and o.order.status.value == "resting"]
        return {
            "status": client.get_exchange_status(),
            "series": client.get_series("KXSANDBOX"),
            "events": client.get_events(with_nested_markets=True),
            "event": client.get_event("KXSANDBOX-26DEC31"),
            "market": client.get_market(TICKER),
            "batch": batch,
            "order": client.get_order(resting[0]),
            "orders": client.get_orders(ticker=TICKER),
            "canceled": client.batch_cancel_orders(ids=resting),
            "fills": client.get_fills(),
            "positions": client.get_positions(),
        }

    out = await asyncio.to_thread(calls)
    assert out["status"].trading_active is True
    assert out["series"].series.fee_multiplier == 0.07
    assert [e.event_ticker for e in out["events"].events] == ["KXSANDBOX-26DEC31"]
    assert out["events"].events[0].markets[0].ticker == TICKER
    assert out["event"].markets[0].yes_bid == 30
    assert out["market"].market.no_ask == 70
    assert [o.order.status.value for o in out["batch"].orders] == ["executed", "resting"]
    assert out["order"].order.yes_price == 20
    assert len(out["orders"].orders) == 2
    assert [c.reduced_by for c in out["canceled"].orders] == [2]
    assert [f.count for f in out["fills"].fills] == [2]
    assert out["positions"].market_positions[0].position == 2
    assert out["positions"].event_positions[0].event_ticker == "KXSANDBOX-26DEC31"
