"""Admin API under `/_sandbox/`: markets, money, wallets, logs, leader trades, faults.

    POST /_sandbox/markets                     create a market, optionally with a book
    POST /_sandbox/markets/seed                from recorded data: {"gamma": {...}, "book": {...}}
    POST /_sandbox/markets/{condition_id}/tick-size   {"tick_size": "0.001"} (sends tick_size_change)
    POST /_sandbox/markets/{condition_id}/resolve     {"winning_asset_id": token} or {"winning_outcome": "Yes"}
    POST /_sandbox/accounts/{address}/fund     {"usdc": micro, "positions": {token_id: "shares"}}
    GET  /_sandbox/accounts/{address}          cash (micro USDC) and positions
    POST /_sandbox/wallets                     {"signer": addr, "funder": addr}: signer trades for funder
    GET  /_sandbox/log                         every order and trade
    POST /_sandbox/leader-trades               {"wallet", "token_id", "side", "price", "size", "execute"}
    POST /_sandbox/expire                      sweep GTD expiries now
    GET|POST|DELETE /_sandbox/faults           fault injection (sandbox.faults)

Admin calls skip authentication and the fault middleware.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.faults import ADMIN_PREFIX, fault_routes
from sandbox.polymarket.seed import SeedError, seed_market
from sandbox.polymarket.state import PolymarketState
from sandbox.polymarket.wire import ClobError, json_response, num, unix_ms


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError as exc:
        raise ClobError(400, "body is not JSON") from exc
    if not isinstance(body, dict):
        raise ClobError(400, "body must be a JSON object")
    return body


def _decimal(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ClobError(400, f"{name} is not a decimal: {value!r}") from exc


def _levels(raw: Any, name: str) -> list[tuple[Decimal, Decimal]]:
    if not isinstance(raw, list):
        raise ClobError(400, f"{name} must be a list of [price, size]")
    return [(_decimal(p, "price"), _decimal(s, "size")) for p, s in raw]


def admin_routes(state: PolymarketState) -> list[Route]:
    async def create_market(request: Request) -> Response:
        body = await _body(request)
        try:
            market = state.add_market(
                question=str(body.get("question", "Sandbox market?")),
                condition_id=body.get("condition_id"),
                yes_token=body.get("yes_token"),
                no_token=body.get("no_token"),
                tick_size=_decimal(body.get("tick_size", "0.01"), "tick_size"),
                min_size=_decimal(body.get("min_size", "5"), "min_size"),
                neg_risk=bool(body.get("neg_risk", False)),
                fee_rate_bps=int(body.get("fee_rate_bps", 0)),
                outcomes=tuple(body.get("outcomes", ("Yes", "No"))),
                end_date=datetime.fromisoformat(body["end_date"]) if body.get("end_date") else None,
                description=str(body.get("description", "")),
                slug=str(body.get("slug", "")),
                active=bool(body.get("active", True)),
                closed=bool(body.get("closed", False)),
            )
            book = body.get("book") or {}
            state.seed_book(market, _levels(book.get("bids", []), "bids"), _levels(book.get("asks", []), "asks"))
        except ValueError as exc:
            raise ClobError(400, str(exc)) from exc
        return json_response(state.clob_market_json(market))

    async def seed(request: Request) -> Response:
        body = await _body(request)
        try:
            market = seed_market(state, body["gamma"], body.get("book"))
        except (KeyError, SeedError, ValueError) as exc:
            raise ClobError(400, f"cannot seed: {exc}") from exc
        return json_response(state.clob_market_json(market))

    async def tick_size(request: Request) -> Response:
        market = state.markets.get(request.path_params["condition_id"])
        if market is None:
            raise ClobError(404, "market not found")
        new = _decimal((await _body(request)).get("tick_size"), "tick_size")
        old = market.tick_size
        market.engine.rules = replace(market.engine.rules, tick_size=new)
        for token in (market.yes_token, market.no_token):
            state.send_market(
                token,
                {
                    "asset_id": token,
                    "event_type": "tick_size_change",
                    "market": market.condition_id,
                    "new_tick_size": num(new),
                    "old_tick_size": num(old),
                    "timestamp": unix_ms(state.clock()),
                },
            )
        return json_response({"old_tick_size": num(old), "new_tick_size": num(new)})

    async def fund(request: Request) -> Response:
        body = await _body(request)
        address = request.path_params["address"]
        positions = {str(t): _decimal(s, "size") for t, s in (body.get("positions") or {}).items()}
        try:
            state.fund(address, int(body.get("usdc", 0)), positions)
        except ValueError as exc:
            raise ClobError(400, str(exc)) from exc
        return json_response(state.account_view(address))

    async def account(request: Request) -> Response:
        try:
            return json_response(state.account_view(request.path_params["address"]))
        except ValueError as exc:
            raise ClobError(400, str(exc)) from exc

    async def wallets(request: Request) -> Response:
        body = await _body(request)
        try:
            state.map_funder(str(body["signer"]), str(body["funder"]))
        except (KeyError, ValueError) as exc:
            raise ClobError(400, f"signer and funder addresses required: {exc}") from exc
        return json_response({"funders": state.funders})

    async def log(_: Request) -> Response:
        return json_response(state.log())

    async def leader_trade(request: Request) -> Response:
        body = await _body(request)
        try:
            result = state.leader_trade(
                str(body["wallet"]),
                str(body["token_id"]),
                str(body["side"]),
                _decimal(body["price"], "price"),
                _decimal(body["size"], "size"),
                execute=bool(body.get("execute", False)),
            )
        except KeyError as exc:
            raise ClobError(400, f"missing {exc}") from exc
        return json_response(result)

    async def resolve(request: Request) -> Response:
        market = state.markets.get(request.path_params["condition_id"])
        if market is None:
            raise ClobError(404, "market not found")
        body = await _body(request)
        winner = body.get("winning_asset_id")
        if winner is None and body.get("winning_outcome") in market.outcomes:
            winner = market.yes_token if body["winning_outcome"] == market.outcomes[0] else market.no_token
        return json_response(state.resolve(market, str(winner)))

    async def expire(_: Request) -> Response:
        state.expire_orders()
        return json_response({"ok": True})

    p = ADMIN_PREFIX
    return [
        Route(f"{p}/markets", create_market, methods=["POST"]),
        Route(f"{p}/markets/seed", seed, methods=["POST"]),
        Route(f"{p}/markets/{{condition_id}}/tick-size", tick_size, methods=["POST"]),
        Route(f"{p}/markets/{{condition_id}}/resolve", resolve, methods=["POST"]),
        Route(f"{p}/accounts/{{address}}/fund", fund, methods=["POST"]),
        Route(f"{p}/accounts/{{address}}", account, methods=["GET"]),
        Route(f"{p}/wallets", wallets, methods=["POST"]),
        Route(f"{p}/log", log, methods=["GET"]),
        Route(f"{p}/leader-trades", leader_trade, methods=["POST"]),
        Route(f"{p}/expire", expire, methods=["POST"]),
        *fault_routes(state.faults),
    ]
