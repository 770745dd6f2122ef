from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from domain.models import OrderIntent, OrderStatus, Outcome, Side, TimeInForce, Venue
from venues.errors import (
    AuthenticationError,
    DuplicateOrderError,
    InsufficientBalanceError,
    InvalidOrderError,
    MarketClosedError,
    OrderNotFoundError,
    RateLimitedError,
    UnknownOutcomeError,
    VenueError,
    VenueUnavailableError,
)
from venues.kalshi.auth import KalshiSigner, verify_signature
from venues.kalshi.client import KalshiClient
from venues.kalshi.hosts import DEMO_BASE_URL
from venues.kalshi.orders import KalshiOrderRequest, request_from_intent, to_domain_order
from venues.kalshi.parse import KalshiParseError
from venues.ratelimit import RequestKind, VenueRateLimiter

D = Decimal
TYDOG = "tydog99_polymarket-kalshi-arbitrage-bot/fixtures"
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(scope="module")
def signer() -> KalshiSigner:
    return KalshiSigner("key-1", rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _client(handler: Handler, signer: KalshiSigner, limiter: VenueRateLimiter | None = None) -> KalshiClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return KalshiClient(DEMO_BASE_URL, signer=signer, http=http, limiter=limiter)


def _recorded(shared_data: Path, name: str) -> dict:
    return json.loads((shared_data / TYDOG / name).read_text())


def _replay(recorded: dict) -> httpx.Response:
    response = recorded["response"]
    return httpx.Response(response["status"], content=response["body_raw"].encode(), headers=response["headers"])


def _intent(**overrides: object) -> OrderIntent:
    fields: dict[str, object] = {
        "client_order_id": "a17688896840",
        "venue": Venue.KALSHI,
        "market_id": "KXNEWPOPE-70-PPAR",
        "token_id": "KXNEWPOPE-70-PPAR:yes",
        "outcome": Outcome.YES,
        "side": Side.BUY,
        "price": D("0.09"),
        "quantity": D(200),
        "time_in_force": TimeInForce.FAK,
    }
    fields.update(overrides)
    return OrderIntent.model_validate(fields)


async def test_create_order_sends_the_recorded_body_signed_and_maps_the_real_response(
    shared_data: Path, signer: KalshiSigner
) -> None:
    recorded = _recorded(shared_data, "kalshi_partial_fill_real.json")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _replay(recorded)

    intent = _intent()
    async with _client(handler, signer) as client:
        report = await client.create_order(request_from_intent(intent))
    (request,) = seen
    assert request.method == "POST" and str(request.url) == f"{DEMO_BASE_URL}/portfolio/orders"
    assert json.loads(request.content) == recorded["request"]["body"]
    assert verify_signature(signer.public_key, request.headers, "POST", "/trade-api/v2/portfolio/orders")
    order = to_domain_order(intent, report)
    assert order.venue_order_id == "a26079d4-6844-4b47-ae27-a3cb992de3ce"
    assert order.status is OrderStatus.CANCELED and order.filled_quantity == 114
    assert order.average_price == D("0.09") and order.fees_paid == D("0.66")


@pytest.mark.parametrize(
    ("fixture", "error"),
    [
        ("kalshi_insufficient_balance.json", InsufficientBalanceError),
        ("kalshi_sell_insufficient_position_real.json", InsufficientBalanceError),
        ("kalshi_market_not_found.json", InvalidOrderError),
    ],
)
async def test_recorded_rejections_become_typed_errors(
    shared_data: Path, signer: KalshiSigner, fixture: str, error: type[Exception]
) -> None:
    recorded = _recorded(shared_data, fixture)
    async with _client(lambda _: _replay(recorded), signer) as client:
        with pytest.raises(error) as info:
            await client.create_order(request_from_intent(_intent()))
    assert info.value.status == recorded["response"]["status"]  # type: ignore[attr-defined]


def _error(status: int, code: str | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"error": {"code": code, "message": code or "x"}} if code else {}
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (_error(409, "order_already_exists"), DuplicateOrderError),
        (_error(400, "market_closed"), MarketClosedError),
        (_error(400, "trading_is_paused"), MarketClosedError),
        (_error(400, "invalid_order"), InvalidOrderError),
        (_error(401, "unauthorized"), AuthenticationError),
        (_error(503), UnknownOutcomeError),
        (_error(408), UnknownOutcomeError),
        (httpx.Response(400, json={"code": "insufficient_balance", "message": "m"}), InsufficientBalanceError),
    ],
)
async def test_error_statuses_and_codes_map_to_typed_errors(
    signer: KalshiSigner, response: httpx.Response, error: type[Exception]
) -> None:
    async with _client(lambda _: response, signer) as client:
        with pytest.raises(error):
            await client.create_order(request_from_intent(_intent()))


async def test_read_errors_are_not_unknown_outcomes(signer: KalshiSigner) -> None:
    async with _client(lambda _: _error(502), signer) as client:
        with pytest.raises(VenueUnavailableError):
            await client.get_balance()
    async with _client(lambda _: _error(404, "not_found"), signer) as client:
        with pytest.raises(OrderNotFoundError):
            await client.cancel_order("gone")


async def test_429_raises_with_retry_after_and_pauses_the_limiter(signer: KalshiSigner) -> None:
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = VenueRateLimiter.kalshi(clock=lambda: now[0], sleep=sleep)
    async with _client(lambda _: _error(429, "too_many_requests", {"Retry-After": "3"}), signer, limiter) as client:
        with pytest.raises(RateLimitedError) as info:
            await client.create_order(request_from_intent(_intent()))
    assert info.value.retry_after == 3.0
    await limiter.acquire(RequestKind.WRITE)
    assert now[0] >= 3.0


async def test_timeout_after_sending_an_order_is_an_unknown_outcome(signer: KalshiSigner) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    async with _client(handler, signer) as client:
        with pytest.raises(UnknownOutcomeError):
            await client.create_order(request_from_intent(_intent()))
        with pytest.raises(VenueUnavailableError):
            await client.get_orderbook("T")


async def test_connect_failure_is_unavailable_not_unknown(signer: KalshiSigner) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with _client(handler, signer) as client:
        with pytest.raises(VenueUnavailableError) as info:
            await client.create_order(request_from_intent(_intent()))
    assert not isinstance(info.value, UnknownOutcomeError)


async def test_markets_follow_the_cursor_and_sign_without_query(signer: KalshiSigner) -> None:
    pages = {
        None: {"markets": [{"ticker": "A", "title": "a", "status": "active"}], "cursor": "c2"},
        "c2": {"markets": [{"ticker": "B", "title": "b", "status": "active"}], "cursor": ""},
    }
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert verify_signature(signer.public_key, request.headers, "GET", "/trade-api/v2/markets")
        return httpx.Response(200, json=pages[request.url.params.get("cursor")])

    async with _client(handler, signer) as client:
        markets = await client.get_markets(series_ticker="KXBTC", status="open")
    assert [m.market_id for m in markets] == ["A", "B"]
    assert seen[0].url.params["series_ticker"] == "KXBTC" and "cursor" not in seen[0].url.params


async def test_orderbook_events_fills_positions_balance(shared_data: Path, signer: KalshiSigner) -> None:
    routes = {
        "/trade-api/v2/markets/KXBTC-25MAR15-B100000/orderbook": json.loads(
            (shared_data / "nautilus_trader/kalshi_pr3659_synthetic/http_orderbook.json").read_text()
        ),
        "/trade-api/v2/markets/trades": json.loads(
            (shared_data / "nautilus_trader/kalshi_pr3659_synthetic/http_trades.json").read_text()
        ),
        "/trade-api/v2/events": json.loads((shared_data / "steffenmax_arb-bot/kalshi_nba.json").read_text())
        | {"cursor": ""},
        "/trade-api/v2/portfolio/fills": {
            "fills": [
                {
                    "fill_id": "f",
                    "order_id": "o",
                    "ticker": "T",
                    "side": "yes",
                    "action": "buy",
                    "count": 2,
                    "yes_price": 30,
                    "no_price": 70,
                    "is_taker": True,
                    "created_time": "2026-01-01T00:00:00Z",
                }
            ],
            "cursor": "",
        },
        "/trade-api/v2/portfolio/positions": {
            "market_positions": [{"ticker": "T", "position": 2, "market_exposure": 60, "fees_paid": 1}],
            "event_positions": [],
            "cursor": "",
        },
        "/trade-api/v2/portfolio/balance": {"balance": 1050, "portfolio_value": 60, "updated_ts": 1767225600},
    }

    async with _client(lambda r: httpx.Response(200, json=routes[r.url.path]), signer) as client:
        book = await client.get_orderbook("KXBTC-25MAR15-B100000")
        events = await client.get_events(series_ticker="KXNBAGAME")
        (trade,) = await client.get_trades("KXBTC-25MAR15-B100000")
        (fill,) = await client.get_fills(ticker="T")
        (position,) = await client.get_positions()
        balance = await client.get_balance()
    assert book.no_bids[0] == (D("0.54"), D(400))
    assert len(events) == 27
    assert trade.trade_id == "d91bc706-ee49-470d-82d8-11418bda6fed" and trade.no_price == D("0.64")
    assert fill.price == D("0.30") and fill.quantity == 2
    assert position.quantity == 2 and position.cost_basis == D("0.61")
    assert balance.available == D("10.50")


async def test_batch_create_and_cancel_report_per_item(signer: KalshiSigner) -> None:
    order = {
        "order_id": "o1",
        "ticker": "T",
        "side": "yes",
        "action": "buy",
        "status": "resting",
        "yes_price": 40,
        "fill_count": 0,
        "remaining_count": 1,
        "client_order_id": "c1",
    }

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/trade-api/v2/portfolio/orders/batched"
        body = json.loads(request.content)
        if request.method == "POST":
            assert [o["client_order_id"] for o in body["orders"]] == ["c1", "c2"]
            return httpx.Response(
                201,
                json={
                    "orders": [
                        {"client_order_id": "c1", "order": order, "error": None},
                        {
                            "client_order_id": "c2",
                            "order": None,
                            "error": {"code": "order_already_exists", "message": "dup", "details": ""},
                        },
                    ]
                },
            )
        assert body == {"ids": ["o1"]}
        return httpx.Response(
            200,
            json={
                "orders": [{"order_id": "o1", "order": order | {"status": "canceled"}, "reduced_by": 1, "error": None}]
            },
        )

    requests = [
        KalshiOrderRequest("T", Outcome.YES, Side.BUY, 1, D("0.40"), client_order_id=cid) for cid in ("c1", "c2")
    ]
    async with _client(handler, signer) as client:
        created = await client.batch_create_orders(requests)
        canceled = await client.batch_cancel_orders(["o1"])
    assert getattr(created[0], "order_id", None) == "o1" and isinstance(created[1], DuplicateOrderError)
    assert getattr(canceled[0], "status", None) is OrderStatus.CANCELED


def test_order_request_encoding() -> None:
    gtd = request_from_intent(
        _intent(time_in_force=TimeInForce.GTD, expires_at=datetime(2026, 1, 1, tzinfo=UTC), post_only=True)
    ).to_json()
    assert gtd["expiration_ts"] == 1767225600 and gtd["post_only"] is True and "time_in_force" not in gtd
    no = request_from_intent(_intent(token_id="KXNEWPOPE-70-PPAR:no", outcome=Outcome.NO, price=D("0.915")))
    assert no.to_json()["no_price_dollars"] == "0.9150" and "no_price" not in no.to_json()
    fok = request_from_intent(_intent(time_in_force=TimeInForce.FOK)).to_json()
    assert fok["time_in_force"] == "fill_or_kill" and fok["yes_price"] == 9
    market = KalshiOrderRequest("T", Outcome.YES, Side.BUY, 5, None, order_type="market", buy_max_cost_cents=300)
    assert market.to_json() == {
        "ticker": "T",
        "side": "yes",
        "action": "buy",
        "count": 5,
        "type": "market",
        "buy_max_cost": 300,
    }


@pytest.mark.parametrize(
    "overrides",
    [
        {"quantity": D("1.5")},
        {"token_id": "OTHER:yes"},
        {"venue": Venue.POLYMARKET},
        {"time_in_force": TimeInForce.GTD},
        {"price": D("0.00001")},
        {"price": D(0)},
        {"post_only": True, "time_in_force": TimeInForce.FAK},
    ],
)
def test_orders_that_would_need_rounding_or_are_inconsistent_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(InvalidOrderError):
        request_from_intent(_intent(**overrides))


async def test_public_calls_need_no_key_and_private_calls_refuse_to_go_unsigned() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"orderbook_fp": {"yes_dollars": [["0.4200", "13.00"]], "no_dollars": []}})

    client = KalshiClient(DEMO_BASE_URL, http=httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    book = await client.get_orderbook("T", depth=5)
    assert book.yes_bids == [(D("0.42"), D(13))]
    assert "KALSHI-ACCESS-SIGNATURE" not in seen[0].headers and seen[0].url.params["depth"] == "5"
    with pytest.raises(VenueError, match="credentials"):
        await client.get_balance()
    assert len(seen) == 1
    await client.aclose()


async def test_a_repeating_cursor_is_an_error_not_an_endless_loop(signer: KalshiSigner) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"markets": [], "cursor": "same"})

    async with _client(handler, signer) as client:
        with pytest.raises(KalshiParseError, match="repeated"):
            await client.get_markets()
    assert len(calls) == 2
