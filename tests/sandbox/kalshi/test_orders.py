"""Order entry of the Kalshi sandbox: validation and rejections in the venue's own error shapes."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.kalshi.admin import seed_book
from tests.sandbox.conftest import ACCOUNT, KalshiSandbox, kalshi_call

TICKER = "KXTEST-26DEC31-A"
ORDERS = "/trade-api/v2/portfolio/orders"


def order(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"ticker": TICKER, "side": "yes", "action": "buy", "count": 10, "type": "limit"}
    body.update(overrides)
    return body


async def place(sb: KalshiSandbox, body: dict[str, Any]) -> Any:
    return await kalshi_call(sb, "POST", ORDERS, body)


@pytest.fixture
def market(kalshi_sandbox: KalshiSandbox) -> KalshiSandbox:
    kalshi_sandbox.venue.add_market(TICKER)
    return kalshi_sandbox


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    return error


@pytest.mark.parametrize(
    "price",
    [
        {"yes_price": 0},
        {"yes_price": 100},
        {"no_price": 0},
        {"no_price": 100},
        {"yes_price_dollars": "0.405"},
        {"yes_price_dollars": "0.0000"},
        {"no_price_dollars": "1.0000"},
    ],
)
async def test_price_off_the_tick_or_range_is_invalid_price(market: KalshiSandbox, price: dict[str, Any]) -> None:
    assert_error(await place(market, order(**price)), 400, "invalid_price")
    assert market.venue.orders == {}


@pytest.mark.parametrize(
    "bad",
    [{"yes_price": 40.5}, {"yes_price": "40"}, {"yes_price_dollars": 0.4}, {"count": "10"}, {"post_only": "yes"}],
)
async def test_field_of_the_wrong_type_is_a_top_level_bad_request(market: KalshiSandbox, bad: dict[str, Any]) -> None:
    response = await place(market, order(**{"yes_price": 40, **bad}))
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["message"]) == ("bad_request", "bad request") and "error" not in body
    assert market.venue.orders == {}


async def test_malformed_json_is_a_top_level_bad_request(market: KalshiSandbox) -> None:
    import httpx

    from tests.sandbox.conftest import signed_headers

    async with httpx.AsyncClient(base_url=market.handle.base_url) as client:
        response = await client.post(ORDERS, content=b"{not json", headers=signed_headers(market.creds, "POST", ORDERS))
    assert response.status_code == 400 and response.json()["code"] == "bad_request"


async def test_dollar_price_on_the_tick_is_accepted(market: KalshiSandbox) -> None:
    response = await place(market, order(no_price_dollars="0.6100"))
    assert response.status_code == 201
    placed = response.json()["order"]
    assert (placed["yes_price"], placed["no_price"], placed["no_price_dollars"]) == (39, 61, "0.6100")


async def test_exactly_one_price_is_required(market: KalshiSandbox) -> None:
    error = assert_error(await place(market, order(yes_price=40, no_price=60)), 400, "invalid_order")
    assert "exactly one of" in error["details"]
    assert_error(await place(market, order()), 400, "invalid_order")


async def test_order_larger_than_balance_is_insufficient_balance(market: KalshiSandbox) -> None:
    # 100_000 cents of balance; 2_000 YES at 50c cost 100_000 before the fee.
    assert_error(await place(market, order(count=2_000, yes_price=50)), 400, "insufficient_balance")
    assert market.venue.balance_cents(ACCOUNT) == 100_000
    assert market.venue.book(TICKER) == ([], [])
    assert (await place(market, order(count=1_900, yes_price=50))).status_code == 201


async def test_sell_without_a_position_is_insufficient_balance(market: KalshiSandbox) -> None:
    assert_error(await place(market, order(action="sell", yes_price=60)), 400, "insufficient_balance")


async def test_post_only_that_would_cross_is_rejected(market: KalshiSandbox) -> None:
    seed_book(market.venue, TICKER, yes=[], no=[(55, 10)])
    error = assert_error(await place(market, order(yes_price=45, post_only=True)), 400, "invalid_order")
    assert error["details"] == "post only cross"


async def test_unknown_market_and_missing_ticker(market: KalshiSandbox) -> None:
    assert_error(await place(market, order(ticker="KXNOPE-1", yes_price=40)), 404, "market_not_found")
    body = order(yes_price=40)
    del body["ticker"]
    assert_error(await place(market, body), 400, "missing_parameters")


async def test_ioc_partial_fill_reports_like_the_venue(market: KalshiSandbox) -> None:
    seed_book(market.venue, TICKER, yes=[], no=[(91, 114)])
    response = await place(market, order(count=200, yes_price=9, time_in_force="immediate_or_cancel"))
    placed = response.json()["order"]
    assert response.status_code == 201
    assert (placed["status"], placed["fill_count"], placed["remaining_count"], placed["taker_fees"]) == (
        "canceled",
        114,
        0,
        66,
    )


async def test_fill_or_kill_without_depth_fills_nothing(market: KalshiSandbox) -> None:
    seed_book(market.venue, TICKER, yes=[], no=[(60, 5)])
    response = await place(market, order(count=6, yes_price=40, time_in_force="fill_or_kill"))
    assert response.json()["order"]["status"] == "canceled"
    assert response.json()["order"]["fill_count"] == 0
    assert market.venue.book(TICKER) == ([], [(60, 5)])


async def test_market_buy_respects_buy_max_cost(market: KalshiSandbox) -> None:
    seed_book(market.venue, TICKER, yes=[], no=[(70, 5), (60, 5)])
    response = await place(market, {**order(count=10, type="market"), "buy_max_cost": 350})
    placed = response.json()["order"]
    assert (placed["fill_count"], placed["taker_fill_cost"]) == (5, 150)


async def test_batch_create_and_cancel(market: KalshiSandbox) -> None:
    batch = [order(yes_price=30, client_order_id="b1"), order(yes_price=0, client_order_id="b2")]
    response = await kalshi_call(market, "POST", f"{ORDERS}/batched", {"orders": batch})
    results = response.json()["orders"]
    assert response.status_code == 201
    assert results[0]["order"]["status"] == "resting"
    assert results[1]["order"] is None and results[1]["error"]["code"] == "invalid_price"
    order_id = results[0]["order"]["order_id"]
    response = await kalshi_call(market, "DELETE", f"{ORDERS}/batched", {"ids": [order_id, "missing"]})
    cancels = response.json()["orders"]
    assert cancels[0]["reduced_by"] == 10 and cancels[0]["order"]["status"] == "canceled"
    assert cancels[1]["error"]["code"] == "not_found"


async def test_list_and_get_orders_and_cancel_twice(market: KalshiSandbox) -> None:
    placed = (await place(market, order(yes_price=30))).json()["order"]
    listed = (await kalshi_call(market, "GET", f"{ORDERS}?status=resting")).json()["orders"]
    assert [o["order_id"] for o in listed] == [placed["order_id"]]
    got = (await kalshi_call(market, "GET", f"{ORDERS}/{placed['order_id']}")).json()["order"]
    assert got["client_order_id"] == placed["client_order_id"]
    assert (await kalshi_call(market, "DELETE", f"{ORDERS}/{placed['order_id']}")).status_code == 200
    assert_error(await kalshi_call(market, "DELETE", f"{ORDERS}/{placed['order_id']}"), 404, "not_found")


async def test_resting_order_reserves_balance(market: KalshiSandbox) -> None:
    await place(market, order(count=100, yes_price=40))
    balance = (await kalshi_call(market, "GET", "/trade-api/v2/portfolio/balance")).json()
    # 100 x 40c reserved plus the largest fee the order could pay (0.07 x 100 x 0.4 x 0.6 = 168c).
    assert balance["balance"] == 100_000 - 4_000 - 168


async def test_good_till_date_order_expires(market: KalshiSandbox) -> None:
    import asyncio
    import time

    expires = int(time.time()) + 2
    placed = (await place(market, order(yes_price=30, expiration_ts=expires))).json()["order"]
    assert placed["status"] == "resting" and placed["expiration_time"] is not None
    await asyncio.sleep(max(0.0, expires - time.time()) + 0.3)
    got = (await kalshi_call(market, "GET", f"{ORDERS}/{placed['order_id']}")).json()["order"]
    assert got["status"] == "canceled"
    assert market.venue.balance_cents(ACCOUNT) == 100_000
    past = await place(market, order(yes_price=30, expiration_ts=int(time.time()) - 5))
    assert past.json()["order"]["status"] == "canceled"


async def test_bad_paging_parameters_are_refused(market: KalshiSandbox) -> None:
    for query in ("limit=0", "limit=1001", "cursor=abc"):
        assert_error(await kalshi_call(market, "GET", f"/trade-api/v2/markets?{query}"), 400, "invalid_parameters")
    assert_error(await kalshi_call(market, "GET", "/trade-api/v2/events?limit=201"), 400, "invalid_parameters")
    assert_error(await kalshi_call(market, "GET", "/trade-api/v2/markets/KXNOPE"), 404, "not_found")
