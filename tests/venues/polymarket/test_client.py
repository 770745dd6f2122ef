"""REST client against httpx.MockTransport answering with real Polymarket response shapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from domain.models import Market, OrderIntent, OrderStatus, Outcome, Side, TimeInForce, Venue
from venues.base import TradingClient
from venues.errors import (
    AuthenticationError,
    DuplicateOrderError,
    InsufficientBalanceError,
    InvalidOrderError,
    MarketClosedError,
    RateLimitedError,
    UnknownOutcomeError,
    VenueUnavailableError,
)
from venues.polymarket.auth import ApiCreds, hmac_signature
from venues.polymarket.client import PolymarketClient
from venues.polymarket.eip712 import Wallet
from venues.polymarket.orders import OrderSide, OrderType
from venues.ratelimit import RequestKind, VenueRateLimiter

D = Decimal
KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="
CREDS = ApiCreds("api-key-1", SECRET, "pass-1")
FIXTURES = "tydog99_polymarket-kalshi-arbitrage-bot/fixtures"
CLOB, GAMMA, DATA = "http://clob.test", "http://gamma.test", "http://data.test"
YES = "26310511444966676152901239545213464869875480698266972830365142324057733576025"
NO = "53831553061883006530739877284105938919721408776239639687877978808906551086026"

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClob:
    """Routes (method, host+path) to handlers and keeps every request it saw."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, url: str, handler: Handler | httpx.Response | Any) -> None:
        if isinstance(handler, httpx.Response):
            response = handler
            self.routes[(method, url)] = lambda _: response
        elif callable(handler):
            self.routes[(method, url)] = handler
        else:
            self.routes[(method, url)] = lambda _: httpx.Response(200, json=handler)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, f"{request.url.scheme}://{request.url.host}{request.url.path}")
        if key not in self.routes:
            return httpx.Response(404, json={"error": f"no route {key}"})
        return self.routes[key](request)


def make_client(venue: FakeClob, **kw: Any) -> PolymarketClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(venue))
    client = PolymarketClient(CLOB, GAMMA, DATA, wallet=Wallet(KEY), creds=CREDS, http=http, **kw)
    client.remember_market(
        Market(
            venue=Venue.POLYMARKET,
            market_id="0xcond",
            title="Suns vs Grizzlies",
            yes_token=YES,
            no_token=NO,
            tick_size=D("0.01"),
            min_order_size=D(5),
        )
    )
    venue.on("GET", f"{CLOB}/fee-rate", {"base_fee": 0})
    return client


def recorded(shared_data: Path, name: str) -> dict[str, Any]:
    return json.loads((shared_data / FIXTURES / name).read_bytes())


def intent(**kw: Any) -> OrderIntent:
    base: dict[str, Any] = {
        "client_order_id": "wf-7-poly",
        "venue": Venue.POLYMARKET,
        "market_id": "0xcond",
        "token_id": YES,
        "outcome": Outcome.YES,
        "side": Side.BUY,
        "price": D("0.53"),
        "quantity": D(5),
        "time_in_force": TimeInForce.FAK,
    }
    base.update(kw)
    return OrderIntent(**base)


def check_l2(request: httpx.Request) -> None:
    headers = request.headers
    expected = hmac_signature(
        SECRET, headers["POLY_TIMESTAMP"], request.method, request.url.path, request.content.decode() or None
    )
    assert headers["POLY_SIGNATURE"] == expected
    assert headers["POLY_API_KEY"] == CREDS.api_key and headers["POLY_PASSPHRASE"] == CREDS.passphrase
    assert headers["POLY_ADDRESS"] == Wallet(KEY).address


async def test_place_order_full_fill(shared_data: Path) -> None:
    venue = FakeClob()
    fixture = recorded(shared_data, "poly_full_fill_real.json")
    venue.on("POST", f"{CLOB}/order", httpx.Response(200, content=fixture["response"]["body_raw"].encode()))
    client = make_client(venue)
    order = await client.place_order(intent())
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == D(5) and order.average_price == D("0.53")
    assert order.venue_order_id == fixture["response"]["body_parsed"]["orderID"]

    post = next(r for r in venue.requests if r.url.path == "/order")
    check_l2(post)
    sent = orjson.loads(post.content)
    recorded_order = fixture["request"]["body"]["order"]
    assert set(sent) == {"order", "owner", "orderType", "postOnly"}
    assert sent["orderType"] == "FAK" and sent["owner"] == "api-key-1" and sent["postOnly"] is False
    assert set(sent["order"]) == set(recorded_order)
    for field in ("makerAmount", "takerAmount", "tokenId", "side", "expiration", "nonce", "feeRateBps", "taker"):
        assert sent["order"][field] == recorded_order[field], field
    assert isinstance(sent["order"]["salt"], int) and isinstance(sent["order"]["signatureType"], int)


async def test_place_order_partial_fak_fill_kills_the_rest(shared_data: Path) -> None:
    venue = FakeClob()
    fixture = recorded(shared_data, "poly_partial_fill_real.json")
    venue.on("POST", f"{CLOB}/order", httpx.Response(200, content=fixture["response"]["body_raw"].encode()))
    client = make_client(venue)
    order = await client.place_order(intent(token_id=NO, outcome=Outcome.NO, price=D("0.47"), quantity=D(10)))
    assert order.status is OrderStatus.CANCELED
    assert order.filled_quantity == D(5) and order.average_price == D("0.47")
    sent = orjson.loads(next(r for r in venue.requests if r.url.path == "/order").content)
    assert (sent["order"]["makerAmount"], sent["order"]["takerAmount"]) == ("4700000", "10000000")


async def test_retry_sends_the_identical_order(shared_data: Path) -> None:
    venue = FakeClob()
    fixture = recorded(shared_data, "poly_full_fill_real.json")
    venue.on("POST", f"{CLOB}/order", httpx.Response(200, content=fixture["response"]["body_raw"].encode()))
    client = make_client(venue)
    await client.place_order(intent())
    await client.place_order(intent())
    first, second = (orjson.loads(r.content) for r in venue.requests if r.url.path == "/order")
    assert first == second


@pytest.mark.parametrize(
    ("fixture", "status", "filled"),
    [
        ("poly_order_status_full_real.json", OrderStatus.FILLED, D(5)),
        ("poly_order_status_partial_real.json", OrderStatus.CANCELED, D(5)),
    ],
)
async def test_find_order_maps_status(shared_data: Path, fixture: str, status: OrderStatus, filled: D) -> None:
    venue = FakeClob()
    client = make_client(venue)
    body = recorded(shared_data, fixture)["response"]["body_parsed"]
    hashes: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        check_l2(request)
        hashes.append(request.url.path.rsplit("/", 1)[-1])
        return httpx.Response(200, json=body)

    signed = await client._signed(intent())
    venue.on("GET", f"{CLOB}/data/order/{signed.order_hash}", answer)
    order = await client.find_order(intent())
    assert order is not None and order.status is status and order.filled_quantity == filled
    assert hashes == [signed.order_hash]


async def test_find_order_returns_none_when_the_venue_never_saw_it() -> None:
    venue = FakeClob()
    client = make_client(venue)
    signed = await client._signed(intent())
    venue.on("GET", f"{CLOB}/data/order/{signed.order_hash}", httpx.Response(200, content=b"null"))
    assert await client.find_order(intent()) is None
    venue.on("GET", f"{CLOB}/data/order/{signed.order_hash}", httpx.Response(404, json={"error": "not found"}))
    assert await client.find_order(intent()) is None


async def test_insufficient_balance_fixture(shared_data: Path) -> None:
    venue = FakeClob()
    response = recorded(shared_data, "poly_insufficient_balance.json")["response"]
    venue.on("POST", f"{CLOB}/order", httpx.Response(response["status"], content=response["body_raw"].encode()))
    with pytest.raises(InsufficientBalanceError) as caught:
        await make_client(venue).place_order(intent())
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(200, json={"success": False, "errorMsg": "INVALID_ORDER_MIN_TICK_SIZE"}), InvalidOrderError),
        (httpx.Response(200, json={"success": False, "errorMsg": "INVALID_ORDER_DUPLICATED"}), DuplicateOrderError),
        (httpx.Response(400, json={"error": "not enough balance / allowance"}), InsufficientBalanceError),
        (httpx.Response(400, json={"error": "invalid price (0.999), min: 0.01 - max: 0.99"}), InvalidOrderError),
        (httpx.Response(400, json={"error": "market is closed"}), MarketClosedError),
        (httpx.Response(401, json={"error": "Unauthorized/Invalid api key"}), AuthenticationError),
        (httpx.Response(403, text="forbidden"), AuthenticationError),
        (httpx.Response(500, text="oops"), VenueUnavailableError),
        (httpx.Response(503, json={"error": "Trading is currently disabled."}), VenueUnavailableError),
        (httpx.Response(425, text="too early"), VenueUnavailableError),
    ],
)
async def test_error_mapping(response: httpx.Response, error: type[Exception]) -> None:
    venue = FakeClob()
    venue.on("POST", f"{CLOB}/order", response)
    with pytest.raises(error):
        await make_client(venue).place_order(intent())


async def test_rate_limited_carries_retry_after_and_pauses_the_limiter() -> None:
    venue = FakeClob()
    venue.on(
        "POST",
        f"{CLOB}/order",
        httpx.Response(429, headers={"Retry-After": "2.5"}, json={"error": "Too Many Requests"}),
    )
    limiter = VenueRateLimiter.polymarket()
    with pytest.raises(RateLimitedError) as caught:
        await make_client(venue, limiter=limiter).place_order(intent())
    assert caught.value.retry_after == 2.5 and caught.value.retryable
    assert limiter.bucket(RequestKind.WRITE).tokens < 1


async def test_timeouts_after_sending_a_write_are_unknown_outcomes() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    venue = FakeClob()
    client = make_client(venue)
    venue.on("POST", f"{CLOB}/order", timeout)
    with pytest.raises(UnknownOutcomeError):
        await client.place_order(intent())
    venue.on("DELETE", f"{CLOB}/order", timeout)
    with pytest.raises(UnknownOutcomeError):
        await client.cancel("0xabc")
    venue.on("GET", f"{CLOB}/book", timeout)
    with pytest.raises(VenueUnavailableError):
        await client.get_book(YES)
    venue.on("POST", f"{CLOB}/order", refused)
    with pytest.raises(VenueUnavailableError):
        await client.place_order(intent())


async def test_fok_not_filled_is_a_canceled_order_not_an_error() -> None:
    venue = FakeClob()
    venue.on(
        "POST",
        f"{CLOB}/order",
        httpx.Response(400, json={"error": "order couldn't be fully filled. FOK orders are fully filled or killed."}),
    )
    order = await make_client(venue).place_order(intent(time_in_force=TimeInForce.FOK))
    assert order.status is OrderStatus.CANCELED and order.filled_quantity == 0


async def test_post_order_types_and_batch() -> None:
    venue = FakeClob()
    client = make_client(venue)
    assert client.signer is not None
    order, _ = client.signer.sign(
        token_id=YES, side=OrderSide.SELL, price=D("0.6"), size=D(10), tick_size=D("0.01"), neg_risk=False, salt=5
    )
    venue.on(
        "POST",
        f"{CLOB}/order",
        {
            "success": True,
            "orderID": order.order_hash,
            "status": "live",
            "errorMsg": "",
            "makingAmount": "",
            "takingAmount": "",
        },
    )
    for order_type in OrderType:
        result = await client.post_order(order, order_type)
        assert result.status == "live" and result.making_amount is None
    gtd_body = orjson.loads(venue.requests[-1].content)
    assert gtd_body["orderType"] == "FAK"
    venue.on(
        "POST",
        f"{CLOB}/orders",
        [
            {"success": True, "orderID": "0x1", "status": "live", "errorMsg": ""},
            {"success": False, "orderID": "", "status": "", "errorMsg": "not enough balance / allowance"},
        ],
    )
    results = await client.post_orders([(order, OrderType.GTC, True), (order, OrderType.GTD, False)])
    assert results[0].order_id == "0x1"  # type: ignore[union-attr]
    assert isinstance(results[1], InsufficientBalanceError)
    batch = venue.requests[-1]
    check_l2(batch)
    assert [b["postOnly"] for b in orjson.loads(batch.content)] == [True, False]


async def test_cancels() -> None:
    venue = FakeClob()
    client = make_client(venue)
    venue.on("DELETE", f"{CLOB}/order", {"canceled": ["0xa"], "not_canceled": {}})
    venue.on("DELETE", f"{CLOB}/orders", {"canceled": ["0xa"], "not_canceled": {"0xb": "already filled"}})
    venue.on("DELETE", f"{CLOB}/cancel-all", {"canceled": [], "not_canceled": {}})
    assert (await client.cancel("0xa")).canceled == ("0xa",)
    many = await client.cancel_many(["0xa", "0xb"])
    assert many.not_canceled == {"0xb": "already filled"}
    await client.cancel_all()
    bodies = [r.content for r in venue.requests]
    assert bodies == [b'{"orderID":"0xa"}', b'["0xa","0xb"]', b""]
    for request in venue.requests:
        check_l2(request)


async def test_open_orders_and_trades_paginate(shared_data: Path) -> None:
    venue = FakeClob()
    client = make_client(venue)
    status = recorded(shared_data, "poly_order_status_partial_real.json")["response"]["body_parsed"]
    pages = {"MA==": {"data": [status], "next_cursor": "MTAw"}, "MTAw": {"data": [status], "next_cursor": "LTE="}}
    venue.on("GET", f"{CLOB}/data/orders", lambda r: httpx.Response(200, json=pages[r.url.params["next_cursor"]]))
    orders = await client.get_open_orders(market="0xm")
    assert len(orders) == 2 and orders[0].size_matched == D(5)
    assert {r.url.params["market"] for r in venue.requests} == {"0xm"}
    assert all(r.url.path == "/data/orders" and "?" not in r.url.path for r in venue.requests)

    trade = json.loads((shared_data / "nautilus_trader/ws_messages/trades.json").read_bytes())
    venue.on("GET", f"{CLOB}/data/trades", {"data": [trade], "next_cursor": "LTE="})
    trades = await client.get_trades()
    assert trades[0].status == "CONFIRMED"


async def test_markets_pagination(shared_data: Path) -> None:
    venue = FakeClob()
    client = make_client(venue)
    first = json.loads((shared_data / "nautilus_trader/http_responses/markets.json").read_bytes())
    last = {"data": first["data"][:3], "next_cursor": "LTE="}
    venue.on(
        "GET",
        f"{CLOB}/markets",
        lambda r: httpx.Response(200, json=first if r.url.params["next_cursor"] == "MA==" else last),
    )
    pages = [page async for page in client.iter_markets()]
    assert [len(p.markets) for p in pages] == [99, 3]
    assert [r.url.params["next_cursor"] for r in venue.requests] == ["MA==", "MTAw"]


async def test_gamma_pagination(shared_data: Path) -> None:
    venue = FakeClob()
    client = make_client(venue)
    events = json.loads((shared_data / "steffenmax_arb-bot/poly_nba.json").read_bytes())
    venue.on(
        "GET",
        f"{GAMMA}/events",
        lambda r: httpx.Response(
            200, json=events[int(r.url.params["offset"]) : int(r.url.params["offset"]) + int(r.url.params["limit"])]
        ),
    )
    pages = [page async for page in client.iter_gamma_events({"closed": "false"}, page_size=20)]
    assert sum(len(p.markets) for p in pages) == 738
    assert [r.url.params["offset"] for r in venue.requests] == ["0", "20", "40"]
    market = json.loads((shared_data / "jm709_pscanner/market.json").read_bytes())
    venue.on("GET", f"{GAMMA}/markets", [market])
    (page,) = [p async for p in client.iter_gamma_markets()]
    assert page.markets[0].market_id == market["conditionId"]


async def test_book_and_market(shared_data: Path) -> None:
    venue = FakeClob()
    client = make_client(venue)
    venue.on("GET", f"{CLOB}/book", json.loads((shared_data / "nautilus_trader/http_responses/book.json").read_bytes()))
    market = json.loads((shared_data / "nautilus_trader/http_responses/market.json").read_bytes())
    venue.on("GET", f"{CLOB}/markets/{market['condition_id']}", market)
    book = await client.get_book("123")
    assert book.bids[0] == (D("0.01"), D("1000"))
    assert venue.requests[0].url.params["token_id"] == "123"
    assert (await client.get_market(market["condition_id"])).neg_risk
    await client.get_market(market["condition_id"])
    assert len(venue.requests) == 2  # cached


async def test_api_credentials_create_then_derive() -> None:
    venue = FakeClob()
    client = PolymarketClient(CLOB, wallet=Wallet(KEY), http=httpx.AsyncClient(transport=httpx.MockTransport(venue)))
    venue.on("POST", f"{CLOB}/auth/api-key", httpx.Response(400, json={"error": "Could not create api key"}))
    venue.on("GET", f"{CLOB}/auth/derive-api-key", {"apiKey": "k", "secret": SECRET, "passphrase": "p"})
    creds = await client.create_or_derive_api_key(nonce=2)
    assert creds == ApiCreds("k", SECRET, "p") and client.creds == creds
    for request in venue.requests:
        assert request.headers["POLY_ADDRESS"] == Wallet(KEY).address
        assert request.headers["POLY_NONCE"] == "2" and request.headers["POLY_SIGNATURE"].startswith("0x")


async def test_balance_and_positions(shared_data: Path) -> None:
    venue = FakeClob()
    client = make_client(venue)
    venue.on("GET", f"{CLOB}/balance-allowance", {"balance": "12500000", "allowances": {}})
    live = {
        "id": "0x1",
        "market": "0xm",
        "asset_id": YES,
        "side": "BUY",
        "price": "0.5",
        "original_size": "10",
        "size_matched": "4",
        "status": "LIVE",
        "order_type": "GTC",
    }
    venue.on("GET", f"{CLOB}/data/orders", {"data": [live], "next_cursor": "LTE="})
    balance = await client.get_balance()
    assert (balance.total, balance.available) == (D("12.5"), D("9.5"))
    assert venue.requests[0].url.params["asset_type"] == "COLLATERAL"

    raw = json.loads((shared_data / "jm709_pscanner/positions.json").read_bytes())
    venue.on("GET", f"{DATA}/positions", raw)
    positions = await client.get_positions()
    assert len(positions) == len(raw)
    assert positions[0].outcome is Outcome.NO and positions[0].quantity == D("271790.1")
    assert venue.requests[-1].url.params["user"] == Wallet(KEY).address


async def test_market_book_is_a_normalized_snapshot(shared_data: Path) -> None:
    venue = FakeClob()
    client = make_client(venue)
    raw = json.loads((shared_data / "nautilus_trader/http_responses/book.json").read_bytes())
    venue.on("GET", f"{CLOB}/book", raw)
    yes_view = await client.market_book("0xcond", YES)
    assert yes_view.in_sync and yes_view.best_bid() == D("0.1") and yes_view.best_ask() == D("0.14")
    assert yes_view.hash == raw["hash"] and yes_view.market_id == "0xcond"
    no_view = await client.market_book("0xcond", NO)  # NO token: its bids are YES asks
    assert no_view.best_ask() == D("0.9") and no_view.best_bid() == D("0.86")


async def test_a_retry_keeps_the_signed_order_even_if_the_fee_rate_moves(shared_data: Path) -> None:
    venue = FakeClob()
    fixture = recorded(shared_data, "poly_full_fill_real.json")
    venue.on("POST", f"{CLOB}/order", httpx.Response(200, content=fixture["response"]["body_raw"].encode()))
    client = make_client(venue)
    await client.place_order(intent())
    client._fee_rates.clear()
    venue.on("GET", f"{CLOB}/fee-rate", {"base_fee": 1000})  # the venue changed the market's fee meanwhile
    await client.place_order(intent())
    first, second = (orjson.loads(r.content) for r in venue.requests if r.url.path == "/order")
    assert first == second and first["order"]["feeRateBps"] == "0"


async def test_client_is_a_trading_client() -> None:
    async with PolymarketClient(CLOB) as client:
        assert isinstance(client, TradingClient)


async def test_prepared_order_is_signed_once_and_sent_as_signed(shared_data: Path) -> None:
    """`prepare_send_ahead` signs (and sends nothing); `place_order` sends exactly that signed order."""
    venue = FakeClob()
    fixture = recorded(shared_data, "poly_full_fill_real.json")
    venue.on("POST", f"{CLOB}/order", httpx.Response(200, content=fixture["response"]["body_raw"].encode()))
    client = make_client(venue)
    signer = client.signer
    assert signer is not None
    signed: list[Any] = []
    sign_intent = signer.sign_intent

    def counting(*args: Any, **kwargs: Any) -> Any:
        signed.append(sign_intent(*args, **kwargs))
        return signed[-1]

    signer.sign_intent = counting  # type: ignore[method-assign]
    await client.prepare_send_ahead(intent())
    assert len(signed) == 1 and not [r for r in venue.requests if r.url.path == "/order"]
    await client.place_order(intent())
    post = next(r for r in venue.requests if r.url.path == "/order")
    assert len(signed) == 1
    assert orjson.loads(post.content)["order"]["signature"] == signed[0].signature
