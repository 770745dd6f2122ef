"""CLOB REST routes, with the venue's paths, payloads, status codes and `{"error": ...}` bodies.

Public: `/`, `/time`, `/book`, `/books`, `/price`, `/prices`, `/midpoint`,
`/last-trade-price`, `/markets`, `/markets/{condition_id}`, `/tick-size`,
`/neg-risk`, `/fee-rate`. L1 (ClobAuth signature): `POST /auth/api-key`,
`GET /auth/derive-api-key`. L2 (HMAC): orders, cancels, `/data/*`,
`/balance-allowance`, `/v1/heartbeats` (dead-man switch). The L2 signature covers
the path without its query string, exactly what py-clob-client signs.

Fault hooks (`sandbox.faults`): every order consults `take_rejection()` (400 with
the configured message), `take_order_timeout()` (the order is placed, then the
answer stalls until the faults are cleared) and `partial_fill_ratio` (the order
trades only that share, the rest is cancelled). HTTP latency, hangs and 5xx/429
bursts come from `FaultMiddleware` around the whole app.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from domain.money import MICRO
from sandbox.polymarket.signing import ApiCredentials, exchange_address
from sandbox.polymarket.state import PolymarketState
from sandbox.polymarket.wire import ClobError, int_param, json_response, num, page, unix_s

BATCH_LIMIT = 15
PAGE_SIZE = 100
MAX_UINT256 = str(2**256 - 1)


def _headers(request: Request) -> dict[str, str]:
    return {key.lower(): value for key, value in request.headers.items()}


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError as exc:
        raise ClobError(400, "Invalid order payload") from exc


def clob_routes(state: PolymarketState) -> list[Route]:
    faults = state.faults

    async def authenticated(request: Request) -> ApiCredentials:
        body = (await request.body()).decode()
        return state.authenticate(_headers(request), request.method, request.url.path, body)

    async def ok(_: Request) -> Response:
        return PlainTextResponse("OK")

    async def server_time(_: Request) -> Response:
        return json_response(unix_s(state.clock()))

    async def create_api_key(request: Request) -> Response:
        return json_response(state.create_api_key(_headers(request)))

    async def derive_api_key(request: Request) -> Response:
        return json_response(state.derive_api_key(_headers(request)))

    async def book(request: Request) -> Response:
        return json_response(state.book_summary(request.query_params.get("token_id", "")))

    async def books(request: Request) -> Response:
        body = await _json_body(request)
        if not isinstance(body, list) or not all(isinstance(b, dict) and "token_id" in b for b in body):
            raise ClobError(400, "Invalid payload")
        if len(body) > 500:
            raise ClobError(400, "Payload exceeds the limit")
        return json_response([state.book_summary(str(b["token_id"])) for b in body])

    def best_price(token_id: str, side: str) -> str:
        market = state.market_for_token(token_id)
        bids, asks = state.levels(market, token_id)
        side = side.upper()
        if side not in ("BUY", "SELL"):
            raise ClobError(400, "Invalid side")
        levels = bids if side == "BUY" else asks  # BUY quotes the best bid, SELL the best ask (as the venue)
        return num(levels[0][0]) if levels else "0"

    async def price(request: Request) -> Response:
        params = request.query_params
        return json_response({"price": best_price(params.get("token_id", ""), params.get("side", ""))})

    async def prices(request: Request) -> Response:
        body = await _json_body(request)
        if not isinstance(body, list):
            raise ClobError(400, "Invalid payload")
        result: dict[str, dict[str, str]] = {}
        for item in body:
            token, side = str(item.get("token_id", "")), str(item.get("side", ""))
            result.setdefault(token, {})[side.upper()] = best_price(token, side)
        return json_response(result)

    async def midpoint(request: Request) -> Response:
        token = request.query_params.get("token_id", "")
        market = state.market_for_token(token)
        bids, asks = state.levels(market, token)
        mid = (bids[0][0] + asks[0][0]) / 2 if bids and asks else None
        return json_response({"mid": num(mid) if mid is not None else "0"})

    async def last_trade_price(request: Request) -> Response:
        token = request.query_params.get("token_id", "")
        last = state.last_trade_price(state.market_for_token(token), token)
        return json_response({"price": num(last) if last is not None else "0.5", "side": ""})

    async def markets(request: Request) -> Response:
        listing = [state.clob_market_json(m) for m in state.markets.values()]
        return json_response(page(listing, request.query_params.get("next_cursor"), PAGE_SIZE))

    async def market(request: Request) -> Response:
        found = state.markets.get(request.path_params["condition_id"])
        if found is None:
            raise ClobError(404, "market not found")
        return json_response(state.clob_market_json(found))

    async def tick_size(request: Request) -> Response:
        found = state.market_for_token(request.query_params.get("token_id", ""))
        return json_response({"minimum_tick_size": float(found.tick_size)})

    async def neg_risk(request: Request) -> Response:
        found = state.market_for_token(request.query_params.get("token_id", ""))
        return json_response({"neg_risk": found.neg_risk})

    async def fee_rate(request: Request) -> Response:
        found = state.market_for_token(request.query_params.get("token_id", ""))
        return json_response({"base_fee": found.fee_rate_bps})

    async def place_one(creds: ApiCredentials, payload: Any) -> dict[str, Any]:
        rejection = faults.take_rejection()
        if rejection is not None:
            raise ClobError(400, rejection[1] or "could not insert order")
        stalled = faults.take_order_timeout()
        result = state.place_order(creds, payload, fill_ratio=faults.partial_fill_ratio)
        if stalled:
            await faults.stall()
        return result.body

    async def post_order(request: Request) -> Response:
        creds = await authenticated(request)
        return json_response(await place_one(creds, await _json_body(request)))

    async def post_orders(request: Request) -> Response:
        creds = await authenticated(request)
        body = await _json_body(request)
        if not isinstance(body, list):
            raise ClobError(400, "Invalid order payload")
        if len(body) > BATCH_LIMIT:
            raise ClobError(400, f"Too many orders in payload, max allowed: {BATCH_LIMIT}")
        results = []
        for payload in body:
            try:
                results.append(await place_one(creds, payload))
            except ClobError as exc:
                results.append(
                    {
                        "errorMsg": exc.message,
                        "orderID": "",
                        "takingAmount": "",
                        "makingAmount": "",
                        "status": "",
                        "transactionsHashes": [],
                        "success": False,
                    }
                )
        return json_response(results)

    async def cancel_order(request: Request) -> Response:
        creds = await authenticated(request)
        body = await _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("orderID"), str):
            raise ClobError(400, "Invalid orderID")
        return json_response(state.cancel(creds, [body["orderID"]]))

    async def cancel_orders(request: Request) -> Response:
        creds = await authenticated(request)
        body = await _json_body(request)
        if not isinstance(body, list) or not all(isinstance(i, str) for i in body):
            raise ClobError(400, "Invalid orderID")
        return json_response(state.cancel(creds, body))

    async def cancel_all(request: Request) -> Response:
        creds = await authenticated(request)
        return json_response(state.cancel_where(creds))

    async def cancel_market_orders(request: Request) -> Response:
        creds = await authenticated(request)
        body = await _json_body(request) or {}
        if not isinstance(body, dict):
            raise ClobError(400, "Invalid payload")
        return json_response(state.cancel_where(creds, body.get("market"), body.get("asset_id")))

    async def get_order(request: Request) -> Response:
        creds = await authenticated(request)
        record = state.orders.get(request.path_params["order_id"])
        if record is None or record.signer != creds.address:
            raise ClobError(404, "order not found")
        return json_response(state.order_json(record))

    async def get_orders(request: Request) -> Response:
        creds = await authenticated(request)
        params = request.query_params
        found = state.open_orders(creds, params.get("market"), params.get("asset_id"), params.get("id"))
        listing = [state.order_json(r) for r in found]
        return json_response(page(listing, params.get("next_cursor"), PAGE_SIZE))

    async def get_trades(request: Request) -> Response:
        creds = await authenticated(request)
        params = request.query_params
        after, before = int_param(params.get("after"), "after"), int_param(params.get("before"), "before")
        listing = []
        for trade in state.trades_for(creds):
            if params.get("id") and trade.trade_id != params["id"]:
                continue
            if params.get("market") and trade.market.condition_id != params["market"]:
                continue
            if params.get("asset_id") and params["asset_id"] not in (trade.taker.token_id, trade.maker.token_id):
                continue
            if (after is not None and unix_s(trade.match_time) <= after) or (
                before is not None and unix_s(trade.match_time) >= before
            ):
                continue
            listing.append(state.trade_json(trade, creds.api_key))
        return json_response(page(listing, params.get("next_cursor"), PAGE_SIZE))

    async def balance_allowance(request: Request) -> Response:
        creds = await authenticated(request)
        params = request.query_params
        signature_type = int_param(params.get("signature_type"), "signature_type") or 0
        owner = creds.address if signature_type == 0 else state.funders.get(creds.address, creds.address)
        acct = state.ledger.account(owner)
        if params.get("asset_type", "COLLATERAL").upper() == "COLLATERAL":
            balance = acct.available_cash
        else:
            token = params.get("token_id", "")
            found = state.market_for_token(token)
            balance = acct.holding(found.condition_id, found.outcome_of(token)).available
        spenders = [exchange_address(state.chain_id, neg) for neg in (False, True)]
        return json_response({"balance": str(int(balance / MICRO)), "allowances": dict.fromkeys(spenders, MAX_UINT256)})

    async def heartbeat(request: Request) -> Response:
        creds = await authenticated(request)
        body = await _json_body(request)
        return json_response(state.heartbeat(creds, body.get("heartbeat_id") if isinstance(body, dict) else None))

    async def update_balance_allowance(request: Request) -> Response:
        await authenticated(request)
        return PlainTextResponse("")

    return [
        Route("/", ok, methods=["GET"]),
        Route("/time", server_time, methods=["GET"]),
        Route("/auth/api-key", create_api_key, methods=["POST"]),
        Route("/auth/derive-api-key", derive_api_key, methods=["GET"]),
        Route("/book", book, methods=["GET"]),
        Route("/books", books, methods=["POST"]),
        Route("/price", price, methods=["GET"]),
        Route("/prices", prices, methods=["POST"]),
        Route("/midpoint", midpoint, methods=["GET"]),
        Route("/last-trade-price", last_trade_price, methods=["GET"]),
        Route("/markets", markets, methods=["GET"]),
        Route("/markets/{condition_id}", market, methods=["GET"]),
        Route("/tick-size", tick_size, methods=["GET"]),
        Route("/neg-risk", neg_risk, methods=["GET"]),
        Route("/fee-rate", fee_rate, methods=["GET"]),
        Route("/order", post_order, methods=["POST"]),
        Route("/order", cancel_order, methods=["DELETE"]),
        Route("/orders", post_orders, methods=["POST"]),
        Route("/orders", cancel_orders, methods=["DELETE"]),
        Route("/cancel-all", cancel_all, methods=["DELETE"]),
        Route("/cancel-market-orders", cancel_market_orders, methods=["DELETE"]),
        Route("/data/order/{order_id}", get_order, methods=["GET"]),
        Route("/data/orders", get_orders, methods=["GET"]),
        Route("/data/trades", get_trades, methods=["GET"]),
        Route("/v1/heartbeats", heartbeat, methods=["POST"]),
        Route("/heartbeats", heartbeat, methods=["POST"]),
        Route("/balance-allowance", balance_allowance, methods=["GET"]),
        Route("/balance-allowance/update", update_balance_allowance, methods=["GET"]),
    ]
