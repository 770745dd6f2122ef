from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from domain.models import OrderIntent, OrderStatus, Outcome, Side, TimeInForce, Venue
from venues.base import TradingClient
from venues.errors import OrderNotFoundError
from venues.kalshi.auth import KalshiSigner, verify_signature
from venues.kalshi.client import KalshiClient
from venues.kalshi.hosts import DEMO_BASE_URL
from venues.kalshi.trading import KalshiTradingClient
from venues.send_ahead_requests import SEND_AHEAD_FRESH_S

D = Decimal
PREFIX = "/trade-api/v2"


class FakeKalshiOrders:
    """Enough of Kalshi's order endpoints to place, list, cancel and re-read orders."""

    def __init__(self, orderbook: dict) -> None:
        self.orders: dict[str, dict] = {}
        self.orderbook = orderbook

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(PREFIX)
        if request.method == "POST" and path == "/portfolio/orders":
            body = json.loads(request.content)
            order_id = f"o{len(self.orders) + 1}"
            self.orders[order_id] = {
                "order_id": order_id,
                "client_order_id": body["client_order_id"],
                "ticker": body["ticker"],
                "side": body["side"],
                "action": body["action"],
                "type": body["type"],
                "status": "resting",
                "yes_price": body.get("yes_price"),
                "no_price": body.get("no_price"),
                "initial_count": body["count"],
                "fill_count": 0,
                "remaining_count": body["count"],
            }
            return httpx.Response(201, json={"order": self.orders[order_id]})
        if request.method == "GET" and path == "/portfolio/orders":
            ticker = request.url.params.get("ticker")
            orders = [o for o in self.orders.values() if o["ticker"] == ticker]
            return httpx.Response(200, json={"orders": orders, "cursor": ""})
        if path.startswith("/portfolio/orders/"):
            order = self.orders.get(path.rsplit("/", 1)[1])
            if order is None:
                return httpx.Response(404, json={"error": {"code": "not_found", "message": "not found"}})
            if request.method == "DELETE":
                if order["status"] != "resting":
                    return httpx.Response(404, json={"error": {"code": "not_found", "message": "order not found"}})
                order.update(status="canceled", remaining_count=0)
            return httpx.Response(200, json={"order": order})
        if path.endswith("/orderbook"):
            return httpx.Response(200, json=self.orderbook)
        return httpx.Response(404, json={"error": {"code": "not_found", "message": path}})


@pytest.fixture
def venue(shared_data: Path) -> FakeKalshiOrders:
    book = json.loads((shared_data / "nautilus_trader/kalshi_pr3659_synthetic/http_orderbook.json").read_text())
    return FakeKalshiOrders(book)


@pytest.fixture(scope="module")
def signer() -> KalshiSigner:
    return KalshiSigner("k", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture
def trading(venue: FakeKalshiOrders, signer: KalshiSigner) -> KalshiTradingClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(venue.handle))
    return KalshiTradingClient(KalshiClient(DEMO_BASE_URL, signer=signer, http=http))


def _intent(client_order_id: str = "wf-1-leg-k") -> OrderIntent:
    return OrderIntent(
        client_order_id=client_order_id,
        venue=Venue.KALSHI,
        market_id="KXBTC-25MAR15-B100000",
        token_id="KXBTC-25MAR15-B100000:no",
        outcome=Outcome.NO,
        side=Side.BUY,
        price=D("0.55"),
        quantity=D(3),
        time_in_force=TimeInForce.GTC,
    )


async def test_place_find_cancel(trading: KalshiTradingClient, venue: FakeKalshiOrders) -> None:
    assert isinstance(trading, TradingClient)
    intent = _intent()
    assert await trading.find_order(intent) is None
    placed = await trading.place_order(intent)
    assert placed.status is OrderStatus.OPEN and placed.venue_order_id == "o1"
    assert venue.orders["o1"]["no_price"] == 55
    found = await trading.find_order(intent)
    assert found is not None and found.venue_order_id == "o1"
    canceled = await trading.cancel_order(placed)
    assert canceled.status is OrderStatus.CANCELED


async def test_cancel_of_a_filled_order_returns_its_final_state(
    trading: KalshiTradingClient, venue: FakeKalshiOrders
) -> None:
    placed = await trading.place_order(_intent())
    venue.orders["o1"].update(status="executed", fill_count=3, remaining_count=0, taker_fill_cost=165)
    final = await trading.cancel_order(placed)
    assert final.status is OrderStatus.FILLED and final.filled_quantity == 3 and final.average_price == D("0.55")


async def test_cancel_without_venue_id_reconciles_by_client_order_id(trading: KalshiTradingClient) -> None:
    intent = _intent("wf-2")
    placed = await trading.place_order(intent)
    unknown = placed.model_copy(update={"venue_order_id": None, "status": OrderStatus.UNKNOWN})
    assert (await trading.cancel_order(unknown)).status is OrderStatus.CANCELED
    with pytest.raises(OrderNotFoundError):
        await trading.cancel_order(unknown.model_copy(update={"intent": _intent("never-sent")}))


async def test_rest_book_maps_no_bids_to_yes_asks(trading: KalshiTradingClient) -> None:
    snap = await trading.market_book("KXBTC-25MAR15-B100000", "KXBTC-25MAR15-B100000:yes")
    assert snap.in_sync and snap.updated_at is not None
    assert snap.best_bid() == D("0.42") and snap.best_ask() == D("0.44")
    assert snap.yes_asks == ((D("0.44"), D(17)), (D("0.46"), D(400)))


async def test_prepared_order_is_sent_with_the_headers_signed_ahead_while_they_are_fresh(
    venue: FakeKalshiOrders,
) -> None:
    """Signing is done by `prepare_send_ahead` (off the hot path); a stale preparation is signed again."""
    now_ms, now_s = [1_000_000], [100.0]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer = KalshiSigner("k", key, clock_ms=lambda: now_ms[0])
    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return venue.handle(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    trading = KalshiTradingClient(KalshiClient(DEMO_BASE_URL, signer=signer, http=http), clock=lambda: now_s[0])
    await trading.prepare_send_ahead(_intent("fresh"))
    assert sent == []  # preparing sends nothing
    now_ms[0] += 3
    await trading.place_order(_intent("fresh"))
    assert sent[-1].headers["KALSHI-ACCESS-TIMESTAMP"] == "1000000"
    assert verify_signature(key.public_key(), sent[-1].headers, "POST", PREFIX + "/portfolio/orders")

    await trading.prepare_send_ahead(_intent("stale"))
    now_ms[0], now_s[0] = now_ms[0] + 6_000, now_s[0] + SEND_AHEAD_FRESH_S + 1
    await trading.place_order(_intent("stale"))
    assert sent[-1].headers["KALSHI-ACCESS-TIMESTAMP"] == str(now_ms[0])
    assert json.loads(sent[-1].content)["client_order_id"] == "stale"
