"""Fault hooks of the Polymarket sandbox (sandbox.faults plugged into the venue)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import orjson
import pytest
from py_clob_client.order_builder.constants import BUY
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.sandbox.polymarket.helpers import RunningSandbox, funded_client, l2_request, order_body


async def test_http_error_burst_spares_the_admin_api(polymarket: RunningSandbox) -> None:
    token = polymarket.market.yes_token
    async with httpx.AsyncClient(base_url=polymarket.urls.clob) as http:
        await http.post("/_sandbox/faults", json={"http_error_count": 2, "http_error_status": 429, "retry_after_s": 3})
        first = await http.get("/book", params={"token_id": token})
        admin = await http.get("/_sandbox/log")
        second = await http.get("/book", params={"token_id": token})
        third = await http.get("/book", params={"token_id": token})
    assert (first.status_code, first.headers["retry-after"], first.json()) == (429, "3", {"error": "Too Many Requests"})
    assert (admin.status_code, second.status_code, third.status_code) == (200, 429, 200)


async def test_rejected_then_accepted_order(polymarket: RunningSandbox) -> None:
    client = await funded_client(polymarket)
    polymarket.state.faults.configure(reject_orders=1, reject_message="could not run the execution")
    body = await order_body(client, polymarket.market.yes_token, 0.40, 10, BUY)
    async with httpx.AsyncClient(base_url=polymarket.urls.clob) as http:
        headers, content = l2_request(client, "POST", "/order", body)
        rejected = await http.post("/order", headers=headers, content=content)
        headers, content = l2_request(client, "POST", "/order", body)
        accepted = await http.post("/order", headers=headers, content=content)
    assert (rejected.status_code, rejected.json()) == (400, {"error": "could not run the execution"})
    assert accepted.json()["status"] == "live"


async def test_order_placed_while_the_client_times_out(polymarket: RunningSandbox) -> None:
    client = await funded_client(polymarket)
    polymarket.state.faults.configure(timeout_orders=1)
    body = await order_body(client, polymarket.market.yes_token, 0.40, 10, BUY)
    headers, content = l2_request(client, "POST", "/order", body)
    async with httpx.AsyncClient(base_url=polymarket.urls.clob, timeout=0.3) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post("/order", headers=headers, content=content)
    [record] = polymarket.state.orders.values()  # the venue has the order although the client saw a timeout
    assert polymarket.state.order_json(record)["status"] == "LIVE"
    polymarket.state.faults.clear()


async def test_partial_fill_ratio_caps_a_marketable_order(polymarket: RunningSandbox) -> None:
    client = await funded_client(polymarket)
    polymarket.state.faults.configure(partial_fill_ratio="0.5")
    body = await order_body(client, polymarket.market.yes_token, 0.55, 10, BUY)
    headers, content = l2_request(client, "POST", "/order", body)
    async with httpx.AsyncClient(base_url=polymarket.urls.clob) as http:
        placed = (await http.post("/order", headers=headers, content=content)).json()
    assert (placed["status"], placed["takingAmount"]) == ("matched", "5")
    order = polymarket.state.order_json(polymarket.state.orders[placed["orderID"]])
    assert (order["original_size"], order["size_matched"], order["status"]) == ("10", "5", "MATCHED")
    assert polymarket.state.ledger.account(client.get_address()).reserved_cash == Decimal(0)


async def test_socket_dropped_after_n_messages(polymarket: RunningSandbox) -> None:
    polymarket.state.faults.configure(ws_drop_every=2)
    async with connect(polymarket.urls.ws_market) as ws:
        await ws.send(orjson.dumps({"assets_ids": [polymarket.market.yes_token]}).decode())
        await asyncio.wait_for(ws.recv(), 2)
        await ws.send("PING")
        assert await asyncio.wait_for(ws.recv(), 2) == "PONG"
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 2)


async def test_lost_update_and_drop_now(polymarket: RunningSandbox) -> None:
    polymarket.state.faults.configure(seq_gaps=1)
    async with connect(polymarket.urls.ws_market) as ws:
        await ws.send(orjson.dumps({"assets_ids": [polymarket.market.yes_token]}).decode())
        await ws.send("PING")
        assert await asyncio.wait_for(ws.recv(), 2) == "PONG"  # the book snapshot was the lost message
        polymarket.state.faults.configure(drop_ws_now=True)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 2)
    assert polymarket.state.faults.fired["seq_gap"] == 1 and polymarket.state.faults.fired["ws_drop"] == 1
