"""Gamma, Data API, admin API and seeding from recorded venue data."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import orjson
from py_clob_client.clob_types import OrderArgs
from py_clob_client.exceptions import PolyApiException
from py_clob_client.order_builder.constants import BUY

from sandbox.polymarket import PolymarketState
from sandbox.polymarket.seed import load_recorded, seed_market
from tests.sandbox.polymarket.helpers import RunningSandbox, funded_client, place


async def test_gamma_markets_and_events_page_with_limit_offset(polymarket: RunningSandbox) -> None:
    for n in range(3):
        polymarket.state.add_market(question=f"Extra {n}?", tick_size=Decimal("0.001"))
    async with httpx.AsyncClient(base_url=polymarket.urls.gamma) as gamma:
        first = (await gamma.get("/markets", params={"limit": 2, "offset": 0})).json()
        rest = (await gamma.get("/markets", params={"limit": 2, "offset": 2})).json()
        events = (await gamma.get("/events", params={"limit": 10})).json()
        one = (await gamma.get(f"/markets/{first[0]['id']}")).json()
    assert len(first) == 2 and len(rest) == 2
    assert len({m["conditionId"] for m in first + rest}) == 4
    market = first[0]
    assert orjson.loads(market["clobTokenIds"]) == [polymarket.market.yes_token, polymarket.market.no_token]
    assert (market["orderPriceMinTickSize"], market["orderMinSize"], market["negRisk"]) == (0.01, 5, False)
    assert (market["bestBid"], market["bestAsk"], market["active"], market["closed"]) == (0.45, 0.55, True, False)
    assert one["conditionId"] == market["conditionId"]
    assert len(events) == 4 and all(len(e["markets"]) == 1 for e in events)


async def test_wallet_trades_show_in_the_data_api(polymarket: RunningSandbox) -> None:
    client = await funded_client(polymarket)
    await place(client, polymarket.market.yes_token, 0.55, 10, BUY, "FOK")
    wallet = client.get_address().lower()
    async with httpx.AsyncClient(base_url=polymarket.urls.data_api) as data:
        activity = (await data.get("/activity", params={"user": wallet})).json()
        trades = (await data.get("/trades", params={"user": wallet})).json()
        positions = (await data.get("/positions", params={"user": wallet})).json()
        nobody = (await data.get("/activity", params={"user": "0x" + "0" * 40})).json()
    assert [(a["type"], a["side"], a["size"], a["price"], a["usdcSize"]) for a in activity] == [
        ("TRADE", "BUY", 10.0, 0.55, 5.5)
    ]
    assert activity[0]["asset"] == polymarket.market.yes_token and activity[0]["outcome"] == "Yes"
    assert trades[0]["transactionHash"] == activity[0]["transactionHash"] and "type" not in trades[0]
    assert [(p["asset"], p["size"]) for p in positions] == [(polymarket.market.yes_token, 10.0)]
    assert nobody == []

    await place(client, polymarket.market.yes_token, 0.50, 5, BUY)  # rests, then a leader sells into it
    seller = "0x2222222222222222222222222222222222222222"
    polymarket.state.fund(seller, 0, {polymarket.market.yes_token: Decimal(5)})
    polymarket.state.leader_trade(
        seller, polymarket.market.yes_token, "SELL", Decimal("0.50"), Decimal(5), execute=True
    )
    async with httpx.AsyncClient(base_url=polymarket.urls.data_api) as data:
        activity = (await data.get("/activity", params={"user": wallet})).json()
        taker_only = (await data.get("/trades", params={"user": wallet})).json()
        all_fills = (await data.get("/trades", params={"user": wallet, "takerOnly": "false"})).json()
    assert len(activity) == 2 and len(taker_only) == 1 and len(all_fills) == 2


async def test_admin_api_markets_accounts_wallets_leader_trades(polymarket: RunningSandbox) -> None:
    leader = "0x1111111111111111111111111111111111111111"
    async with httpx.AsyncClient(base_url=polymarket.urls.clob) as http:
        created = (
            await http.post(
                "/_sandbox/markets",
                json={"question": "Admin market?", "tick_size": "0.001", "book": {"bids": [["0.301", "50"]]}},
            )
        ).json()
        yes = created["tokens"][0]["token_id"]
        book = (await http.get("/book", params={"token_id": yes})).json()
        funded = (
            await http.post(f"/_sandbox/accounts/{leader}/fund", json={"usdc": 5_000_000, "positions": {yes: "20"}})
        ).json()
        recorded = await http.post(
            "/_sandbox/leader-trades",
            json={"wallet": leader, "token_id": yes, "side": "BUY", "price": "0.4", "size": "12"},
        )
        executed = await http.post(
            "/_sandbox/leader-trades",
            json={"wallet": leader, "token_id": yes, "side": "SELL", "price": "0.301", "size": "20", "execute": True},
        )
        activity = (await http.get("/data-api/activity", params={"user": leader, "sortDirection": "ASC"})).json()
        account = (await http.get(f"/_sandbox/accounts/{leader}")).json()
        log = (await http.get("/_sandbox/log")).json()
        bad = await http.post("/_sandbox/markets", json={"tick_size": "abc"})
    assert book["bids"] == [{"price": "0.301", "size": "50"}] and book["tick_size"] == "0.001"
    assert (funded["usdc"], funded["positions"][yes]["size"]) == (5_000_000, "20")
    assert recorded.status_code == 200 and executed.json()["filled"] == "20"
    assert sorted((a["side"], a["size"]) for a in activity) == [("BUY", 12.0), ("SELL", 20.0)]
    assert account["usdc"] == 5_000_000 + 6_020_000 and yes not in account["positions"]
    assert len(log["trades"]) == 1
    assert bad.status_code == 400 and "error" in bad.json()


async def test_seeded_recorded_book_is_served_as_recorded(shared_data: Path) -> None:
    burst = orjson.loads(
        (shared_data / "nautilus_trader/test_data/ws_market_price_change_crossing_burst.json").read_bytes()
    )
    book = burst[0]
    tokens = sorted(
        {c["asset_id"] for m in burst[1:-1] for c in m["price_changes"]}, key=lambda t: t != book["asset_id"]
    )
    gamma = {
        "conditionId": book["market"],
        "question": "Recorded neg-risk market",
        "clobTokenIds": orjson.dumps(tokens).decode(),
        "orderPriceMinTickSize": 0.001,
        "orderMinSize": 5,
        "negRisk": True,
    }
    state = PolymarketState()
    market = seed_market(state, gamma, book)
    served = state.book_summary(book["asset_id"])
    norm = lambda levels: [(Decimal(x["price"]), Decimal(x["size"])) for x in levels]  # noqa: E731
    assert norm(served["bids"]) == norm(book["bids"]) and norm(served["asks"]) == norm(book["asks"])
    assert served["neg_risk"] is True and market.no_token == tokens[1]
    no_side = state.book_summary(market.no_token)
    assert Decimal(no_side["bids"][-1]["price"]) == 1 - Decimal(book["asks"][-1]["price"])


async def test_recorded_gamma_market_becomes_a_sandbox_market(shared_data: Path) -> None:
    state = PolymarketState()
    market = load_recorded(state, shared_data / "nautilus_trader/test_data/gamma_market.json")
    assert market.condition_id == "0x78443f961b9a65869dcb39359de9960165c7e5cbad0904eac7f29cd77872a63b"
    assert (market.tick_size, market.min_size, market.neg_risk) == (Decimal("0.01"), Decimal(5), False)
    assert market.outcomes == ("Up", "Down") and market.fee_rate_bps == 1000
    assert market.yes_token.startswith("10423989803880713605")


async def test_gtd_order_expires_and_is_reported(polymarket: RunningSandbox) -> None:
    client = await funded_client(polymarket)
    now = int(polymarket.state.clock().timestamp())
    signed = await asyncio.to_thread(
        client.create_order,
        OrderArgs(token_id=polymarket.market.yes_token, price=0.40, size=10, side=BUY, expiration=now + 70),
    )
    placed = await asyncio.to_thread(client.post_order, signed, "GTD")
    assert placed["status"] == "live"
    short = await asyncio.to_thread(
        client.create_order,
        OrderArgs(token_id=polymarket.market.yes_token, price=0.40, size=11, side=BUY, expiration=now + 30),
    )
    try:
        await asyncio.to_thread(client.post_order, short, "GTD")
    except PolyApiException as exc:
        assert exc.error_msg == {"error": "invalid expiration"}
    else:
        raise AssertionError("an expiration inside the security minute must be refused")
    assert {"price": "0.4", "size": "10"} in polymarket.state.book_summary(polymarket.market.yes_token)["bids"]
    # Ten seconds of margin either side: on a loaded machine signing and posting can take seconds.
    later = polymarket.state.clock() + timedelta(seconds=11)
    polymarket.state.clock = lambda: later
    async with httpx.AsyncClient(base_url=polymarket.urls.clob) as http:  # any request sweeps expiries first
        book = (await http.get("/book", params={"token_id": polymarket.market.yes_token})).json()
    assert {"price": "0.4", "size": "10"} not in book["bids"]
    assert polymarket.state.order_json(polymarket.state.orders[placed["orderID"]])["status"] == "CANCELED"


async def test_admin_seeds_a_recorded_gamma_market(polymarket: RunningSandbox, shared_data: Path) -> None:
    gamma = orjson.loads((shared_data / "jm709_pscanner/market.json").read_bytes())
    async with httpx.AsyncClient(base_url=polymarket.urls.clob) as http:
        seeded = await http.post("/_sandbox/markets/seed", json={"gamma": gamma})
        again = await http.post("/_sandbox/markets/seed", json={"gamma": gamma})
        listed = (await http.get("/gamma/markets", params={"condition_ids": gamma["conditionId"]})).json()
    assert seeded.status_code == 200 and seeded.json()["condition_id"] == gamma["conditionId"]
    assert again.status_code == 400
    assert [m["clobTokenIds"] for m in listed] == [gamma["clobTokenIds"]]
    assert listed[0]["question"] == gamma["question"] and listed[0]["slug"] == gamma["slug"]
