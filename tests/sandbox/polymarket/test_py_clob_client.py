"""Done-when: unmodified py-clob-client against the sandbox, and the venue's rejections."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from eth_account import Account
from py_clob_client.client import ClobClient
from py_clob_client.clob_types import (
    ApiCreds,
    AssetType,
    BalanceAllowanceParams,
    CreateOrderOptions,
    MarketOrderArgs,
    OpenOrderParams,
    OrderArgs,
    OrderType,
    PostOrdersArgs,
    RequestArgs,
)
from py_clob_client.exceptions import PolyApiException
from py_clob_client.headers.headers import create_level_1_headers, create_level_2_headers
from py_clob_client.order_builder.constants import BUY, SELL
from py_clob_client.signer import Signer
from py_clob_client.signing.hmac import build_hmac_signature

from sandbox.engine import BookSide
from tests.sandbox.polymarket.helpers import RunningSandbox


def _client(sandbox: RunningSandbox, key: str | None = None, creds: ApiCreds | None = None) -> ClobClient:
    return ClobClient(host=sandbox.urls.clob, key=key or Account.create().key.hex(), chain_id=137, creds=creds)


async def _funded_client(sandbox: RunningSandbox, usdc: int = 1_000_000_000) -> ClobClient:
    client = _client(sandbox)
    creds = await asyncio.to_thread(client.create_or_derive_api_creds)
    client.set_api_creds(creds)
    sandbox.state.fund(client.get_address(), usdc)
    return client


async def _rejection(call, *args) -> PolyApiException:
    with pytest.raises(PolyApiException) as caught:
        await asyncio.to_thread(call, *args)
    return caught.value


async def test_py_clob_client_full_cycle(polymarket: RunningSandbox) -> None:
    client = _client(polymarket)
    yes = polymarket.market.yes_token
    assert await asyncio.to_thread(client.get_ok) == "OK"

    creds = await asyncio.to_thread(client.create_or_derive_api_creds)
    assert creds is not None and creds.api_key
    again = await asyncio.to_thread(client.create_or_derive_api_creds)  # create fails, derive answers
    assert again == creds
    client.set_api_creds(creds)
    polymarket.state.fund(client.get_address(), 100_000_000)

    book = await asyncio.to_thread(client.get_order_book, yes)
    assert [(b.price, b.size) for b in book.bids] == [("0.44", "200"), ("0.45", "100")]
    assert [(a.price, a.size) for a in book.asks] == [("0.56", "200"), ("0.55", "100")]
    assert book.hash == client.get_order_book_hash(book)
    no_book = await asyncio.to_thread(client.get_order_book, polymarket.market.no_token)
    assert no_book.bids[-1].price == "0.45" and no_book.asks[-1].price == "0.55"

    signed = await asyncio.to_thread(client.create_order, OrderArgs(token_id=yes, price=0.40, size=10, side=BUY))
    placed = await asyncio.to_thread(client.post_order, signed, OrderType.GTC)
    assert placed["success"] is True and placed["status"] == "live" and placed["errorMsg"] == ""
    order_id = placed["orderID"]

    open_orders = await asyncio.to_thread(client.get_orders, OpenOrderParams(asset_id=yes))
    assert [(o["id"], o["status"], o["price"], o["original_size"]) for o in open_orders] == [
        (order_id, "LIVE", "0.4", "10")
    ]
    assert (await asyncio.to_thread(client.get_order, order_id))["status"] == "LIVE"
    account = polymarket.state.account_view(client.get_address())
    assert account["usdc_available"] == 96_000_000

    cancelled = await asyncio.to_thread(client.cancel, order_id)
    assert cancelled == {"canceled": [order_id], "not_canceled": {}}
    assert await asyncio.to_thread(client.get_orders) == []
    assert polymarket.state.account_view(client.get_address())["usdc_available"] == 100_000_000


async def test_marketable_order_fills_and_reports_amounts(polymarket: RunningSandbox) -> None:
    client = await _funded_client(polymarket)
    yes = polymarket.market.yes_token
    signed = await asyncio.to_thread(client.create_order, OrderArgs(token_id=yes, price=0.56, size=150, side=BUY))
    placed = await asyncio.to_thread(client.post_order, signed, OrderType.FAK)
    assert placed["status"] == "matched"
    assert (placed["takingAmount"], placed["makingAmount"]) == ("150", "83")  # 100 @ 0.55 + 50 @ 0.56
    trades = await asyncio.to_thread(client.get_trades)
    assert sorted((t["price"], t["size"], t["trader_side"]) for t in trades) == [
        ("0.55", "100", "TAKER"),
        ("0.56", "50", "TAKER"),
    ]
    order = await asyncio.to_thread(client.get_order, placed["orderID"])
    assert (order["status"], order["size_matched"], len(order["associate_trades"])) == ("MATCHED", "150", 2)
    sell = await asyncio.to_thread(client.create_order, OrderArgs(token_id=yes, price=0.45, size=20, side=SELL))
    sold = await asyncio.to_thread(client.post_order, sell, OrderType.FOK)
    assert (sold["status"], sold["makingAmount"], sold["takingAmount"]) == ("matched", "20", "9")


async def test_tampered_signature_is_rejected(polymarket: RunningSandbox) -> None:
    client = await _funded_client(polymarket)
    signed = await asyncio.to_thread(
        client.create_order, OrderArgs(token_id=polymarket.market.yes_token, price=0.40, size=10, side=BUY)
    )
    signed.order["makerAmount"] = signed.order["makerAmount"] + 1  # amounts changed after signing
    error = await _rejection(client.post_order, signed)
    assert (error.status_code, error.error_msg) == (400, {"error": "invalid signature"})


async def test_order_signed_by_another_key_is_rejected(polymarket: RunningSandbox) -> None:
    client = await _funded_client(polymarket)
    other = await _funded_client(polymarket)
    signed = await asyncio.to_thread(
        other.create_order, OrderArgs(token_id=polymarket.market.yes_token, price=0.40, size=10, side=BUY)
    )
    error = await _rejection(client.post_order, signed)
    assert error.status_code == 400
    assert error.error_msg == {"error": "the order signer address has to be the address of the API KEY"}


async def test_bad_hmac_and_stale_timestamp_are_unauthorized(polymarket: RunningSandbox) -> None:
    client = await _funded_client(polymarket)
    wrong = ApiCreds(client.creds.api_key, "c2VjcmV0LXRoYXQtaXMtd3Jvbmc=", client.creds.api_passphrase)
    forged = _client(polymarket, key=client.signer.private_key, creds=wrong)
    error = await _rejection(forged.get_orders)
    assert (error.status_code, error.error_msg) == (401, {"error": "Unauthorized/Invalid api key"})

    unknown = ApiCreds("00000000-0000-4000-8000-000000000000", client.creds.api_secret, "x")
    error = await _rejection(_client(polymarket, key=client.signer.private_key, creds=unknown).get_orders)
    assert error.status_code == 401

    signer = Signer(client.signer.private_key, 137)
    headers = create_level_2_headers(signer, client.creds, RequestArgs(method="GET", request_path="/data/orders"))
    async with httpx.AsyncClient(base_url=polymarket.urls.clob) as http:
        fresh = await http.get("/data/orders", headers=headers)
        assert fresh.status_code == 200
        stale_ts = str(int(time.time()) - 3600)
        stale = headers | {
            "POLY_TIMESTAMP": stale_ts,
            "POLY_SIGNATURE": build_hmac_signature(client.creds.api_secret, stale_ts, "GET", "/data/orders"),
        }
        response = await http.get("/data/orders", headers=stale)
    assert (response.status_code, response.json()) == (401, {"error": "Unauthorized/Invalid api key"})


async def test_price_off_the_tick_is_rejected(polymarket: RunningSandbox) -> None:
    client = await _funded_client(polymarket)
    off_tick = client.builder.create_order(  # the client's own check would refuse it, so build it directly
        OrderArgs(token_id=polymarket.market.yes_token, price=0.405, size=10, side=BUY),
        CreateOrderOptions(tick_size="0.001", neg_risk=False),
    )
    error = await _rejection(client.post_order, off_tick)
    assert (error.status_code, error.error_msg) == (400, {"error": "Price (0.405) breaks minimum tick size rule: 0.01"})


async def test_order_larger_than_balance_is_rejected(polymarket: RunningSandbox) -> None:
    client = await _funded_client(polymarket, usdc=3_000_000)
    signed = await asyncio.to_thread(
        client.create_order, OrderArgs(token_id=polymarket.market.yes_token, price=0.40, size=10, side=BUY)
    )
    error = await _rejection(client.post_order, signed)
    assert (error.status_code, error.error_msg) == (400, {"error": "not enough balance / allowance"})
    assert polymarket.state.orders == {}


async def test_size_below_minimum_and_fok_without_depth(polymarket: RunningSandbox) -> None:
    client = await _funded_client(polymarket)
    yes = polymarket.market.yes_token
    small = await asyncio.to_thread(client.create_order, OrderArgs(token_id=yes, price=0.40, size=4, side=BUY))
    error = await _rejection(client.post_order, small)
    assert error.error_msg == {"error": "Size (4) lower than the minimum: 5"}
    big = await asyncio.to_thread(client.create_order, OrderArgs(token_id=yes, price=0.55, size=101, side=BUY))
    error = await _rejection(client.post_order, big, OrderType.FOK)
    assert error.error_msg == {"error": "order couldn't be fully filled. FOK orders are fully filled or killed."}
    assert polymarket.market.engine.levels(BookSide.ASK)[0] == (Decimal("0.55"), Decimal(100))


async def test_buying_no_against_a_yes_bid_mints_a_pair(polymarket: RunningSandbox) -> None:
    yes_buyer, no_buyer = await _funded_client(polymarket), await _funded_client(polymarket)
    market = polymarket.market  # the YES bid at 0.52 sits inside the seeded 0.45/0.55 spread
    bid = await asyncio.to_thread(
        yes_buyer.create_order, OrderArgs(token_id=market.yes_token, price=0.52, size=10, side=BUY)
    )
    assert (await asyncio.to_thread(yes_buyer.post_order, bid))["status"] == "live"
    no = await asyncio.to_thread(
        no_buyer.create_order, OrderArgs(token_id=market.no_token, price=0.50, size=10, side=BUY)
    )
    placed = await asyncio.to_thread(no_buyer.post_order, no, OrderType.FOK)
    assert (placed["status"], placed["makingAmount"], placed["takingAmount"]) == (
        "matched",
        "4.8",
        "10",
    )  # NO at 0.50 improves to 1 - 0.52
    yes_view = polymarket.state.account_view(yes_buyer.get_address())
    no_view = polymarket.state.account_view(no_buyer.get_address())
    assert yes_view["positions"][market.yes_token]["size"] == "10" and yes_view["usdc"] == 1_000_000_000 - 5_200_000
    assert no_view["positions"][market.no_token]["size"] == "10" and no_view["usdc"] == 1_000_000_000 - 4_800_000
    [trade] = await asyncio.to_thread(no_buyer.get_trades)
    assert (trade["asset_id"], trade["price"], trade["maker_orders"][0]["price"]) == (market.no_token, "0.48", "0.52")


async def test_market_orders_built_from_a_usdc_amount_are_accepted(polymarket: RunningSandbox) -> None:
    client = await _funded_client(polymarket, usdc=20_000_000)
    yes = polymarket.market.yes_token
    buy = await asyncio.to_thread(client.create_market_order, MarketOrderArgs(token_id=yes, amount=10, side=BUY))
    bought = await asyncio.to_thread(client.post_order, buy, OrderType.FOK)
    # 10 USDC at 0.55 signs 18.1818 shares: the implied 0.5500005 limit is rounded down to the tick, never up
    assert (bought["status"], bought["takingAmount"], bought["makingAmount"]) == ("matched", "18.1818", "9.99999")
    sell = await asyncio.to_thread(client.create_market_order, MarketOrderArgs(token_id=yes, amount=7.3, side=SELL))
    sold = await asyncio.to_thread(client.post_order, sell, OrderType.FAK)
    assert (sold["status"], sold["makingAmount"], sold["takingAmount"]) == ("matched", "7.3", "3.285")
    assert polymarket.state.account_view(client.get_address())["usdc"] == 20_000_000 - 9_999_990 + 3_285_000


async def test_l1_headers_must_be_signed_by_the_claimed_address(polymarket: RunningSandbox) -> None:
    claimed, actual = Account.create(), Account.create()
    headers = create_level_1_headers(Signer(actual.key.hex(), 137), nonce=0) | {"POLY_ADDRESS": claimed.address}
    async with httpx.AsyncClient(base_url=polymarket.urls.clob) as http:
        created = await http.post("/auth/api-key", headers=headers)
        derived = await http.get("/auth/derive-api-key", headers=headers)
    assert (created.status_code, created.json()) == (401, {"error": "Invalid L1 Request headers"})
    assert derived.status_code == 401
    nobody = _client(polymarket)
    error = await _rejection(nobody.derive_api_key)
    assert (error.status_code, error.error_msg) == (400, {"error": "Could not derive api key!"})


async def test_missed_heartbeat_cancels_the_keys_orders(polymarket: RunningSandbox) -> None:
    client = await _funded_client(polymarket)
    signed = await asyncio.to_thread(
        client.create_order, OrderArgs(token_id=polymarket.market.yes_token, price=0.40, size=10, side=BUY)
    )
    order_id = (await asyncio.to_thread(client.post_order, signed))["orderID"]
    beat = await asyncio.to_thread(client.post_heartbeat, None)
    assert beat["status"] == "ok" and beat["heartbeat_id"]
    state = polymarket.state
    state.expire_orders()
    assert state.order_json(state.orders[order_id])["status"] == "LIVE"
    later = state.clock() + timedelta(seconds=11)
    state.clock = lambda: later
    state.expire_orders()
    assert state.order_json(state.orders[order_id])["status"] == "CANCELED"


async def test_batch_orders_cancel_many_and_balances(polymarket: RunningSandbox) -> None:
    client = await _funded_client(polymarket, usdc=10_000_000)
    yes = polymarket.market.yes_token

    async def signed(price: float, size: float) -> PostOrdersArgs:
        order = await asyncio.to_thread(client.create_order, OrderArgs(token_id=yes, price=price, size=size, side=BUY))
        return PostOrdersArgs(order=order, orderType=OrderType.GTC)

    batch = [await signed(0.40, 10), await signed(0.41, 10), await signed(0.30, 100)]
    results = await asyncio.to_thread(client.post_orders, batch)
    assert [(r["success"], r["errorMsg"]) for r in results] == [
        (True, ""),
        (True, ""),
        (False, "not enough balance / allowance"),
    ]
    collateral = BalanceAllowanceParams(asset_type=AssetType.COLLATERAL)
    balance = await asyncio.to_thread(client.get_balance_allowance, collateral)
    assert balance["balance"] == str(10_000_000 - 4_000_000 - 4_100_000)
    first, second = results[0]["orderID"], results[1]["orderID"]
    cancelled = await asyncio.to_thread(client.cancel_orders, [first, "0xunknown"])
    assert cancelled == {"canceled": [first], "not_canceled": {"0xunknown": "order not found"}}
    assert await asyncio.to_thread(client.cancel_all) == {"canceled": [second], "not_canceled": {}}
    assert (await asyncio.to_thread(client.get_balance_allowance, collateral))["balance"] == "10000000"


async def test_proxy_wallet_orders_need_the_funder_mapping(polymarket: RunningSandbox) -> None:
    key, proxy = Account.create(), Account.create().address
    client = ClobClient(host=polymarket.urls.clob, key=key.key.hex(), chain_id=137, signature_type=2, funder=proxy)
    client.set_api_creds(await asyncio.to_thread(client.create_or_derive_api_creds))
    polymarket.state.fund(proxy, 10_000_000)
    args = OrderArgs(token_id=polymarket.market.yes_token, price=0.40, size=10, side=BUY)
    unmapped = await asyncio.to_thread(client.create_order, args)
    error = await _rejection(client.post_order, unmapped)
    assert error.error_msg == {"error": "invalid signature"}
    async with httpx.AsyncClient(base_url=polymarket.urls.clob) as http:
        mapped = await http.post("/_sandbox/wallets", json={"signer": key.address, "funder": proxy})
    assert mapped.status_code == 200
    placed = await asyncio.to_thread(client.post_order, await asyncio.to_thread(client.create_order, args))
    assert placed["status"] == "live"
    assert polymarket.state.account_view(proxy)["usdc_available"] == 6_000_000  # the funder pays, not the signer
    order = await asyncio.to_thread(client.get_order, placed["orderID"])
    assert order["maker_address"] == proxy


async def test_neg_risk_market_orders_are_signed_for_the_neg_risk_exchange(polymarket: RunningSandbox) -> None:
    market = polymarket.state.add_market(question="Neg-risk leg?", neg_risk=True, tick_size=Decimal("0.001"))
    client = await _funded_client(polymarket)
    args = OrderArgs(token_id=market.yes_token, price=0.123, size=10, side=BUY)
    placed = await asyncio.to_thread(client.post_order, await asyncio.to_thread(client.create_order, args))
    assert placed["status"] == "live"
    plain_exchange = client.builder.create_order(args, CreateOrderOptions(tick_size="0.001", neg_risk=False))
    error = await _rejection(client.post_order, plain_exchange)
    assert error.error_msg == {"error": "invalid signature"}
