"""Malformed requests get the venue's 4xx answers and never a server error."""

from __future__ import annotations

import httpx

from tests.sandbox.polymarket.helpers import RunningSandbox, funded_client, l2_request


async def test_public_and_admin_endpoints_answer_bad_input_with_4xx(polymarket: RunningSandbox) -> None:
    yes = polymarket.market.yes_token
    cases = [
        ("GET", "/book", {}, None, 400, "Invalid token id"),
        ("GET", "/book", {"token_id": "123"}, None, 404, "No orderbook exists for the requested token id"),
        ("GET", "/price", {"token_id": yes, "side": "UP"}, None, 400, "Invalid side"),
        ("POST", "/books", {}, {"token_id": yes}, 400, "Invalid payload"),
        ("GET", "/data-api/activity", {"user": "0xabc", "start": "soon"}, None, 400, "invalid start"),
        ("GET", "/data-api/activity", {}, None, 400, "user is required"),
        ("GET", "/gamma/markets", {"limit": "-1"}, None, 400, "invalid limit"),
        ("GET", "/gamma/markets/nope", {}, None, 404, "market not found"),
        ("POST", "/_sandbox/markets", {}, {"outcomes": ["A", "B", "C"]}, 400, None),
        ("POST", "/_sandbox/accounts/0xnot-an-address/fund", {}, {"usdc": 1}, 400, None),
        ("POST", "/_sandbox/leader-trades", {}, {"wallet": "0x" + "1" * 40, "token_id": yes}, 400, None),
        (
            "POST",
            "/_sandbox/leader-trades",
            {},
            {"wallet": "0x" + "1" * 40, "token_id": yes, "side": "BUY", "price": "1.5", "size": "1"},
            400,
            None,
        ),
        ("GET", "/data/orders", {}, None, 401, "Unauthorized/Invalid api key"),
    ]
    async with httpx.AsyncClient(base_url=polymarket.urls.clob) as http:
        for method, path, params, body, status, message in cases:
            response = await http.request(method, path, params=params, json=body)
            assert response.status_code == status, (path, params, body, response.text)
            if message is not None:
                assert response.json() == {"error": message}, (path, response.text)


async def test_private_endpoints_answer_bad_input_with_4xx(polymarket: RunningSandbox) -> None:
    client = await funded_client(polymarket)
    cases = [
        ("POST", "/order", {"order": {"salt": "x"}, "owner": client.creds.api_key}, 400, "Invalid order payload"),
        ("POST", "/order", ["not", "an", "order"], 400, "Invalid order payload"),
        ("POST", "/orders", [{}] * 16, 400, "Too many orders in payload, max allowed: 15"),
        ("DELETE", "/order", {"orderID": 7}, 400, "Invalid orderID"),
        ("GET", "/data/order/0xmissing", None, 404, "order not found"),
    ]
    async with httpx.AsyncClient(base_url=polymarket.urls.clob) as http:
        for method, path, body, status, message in cases:
            headers, content = l2_request(client, method, path, body)
            response = await http.request(method, path, headers=headers, content=content)
            assert (response.status_code, response.json()) == (status, {"error": message}), path
        headers, content = l2_request(client, "GET", "/data/trades")
        response = await http.get("/data/trades", params={"after": "later"}, headers=headers)
        assert (response.status_code, response.json()) == (400, {"error": "invalid after"})
