"""Gamma (markets, events) and Data API (wallet activity, trades, positions) on the sandbox server.

The real services live on their own hosts; here they sit under two base paths of
the same server, so a client configured with separate base URLs reaches them:

    Gamma     https://gamma-api.polymarket.com  ->  http://127.0.0.1:PORT/gamma
    Data API  https://data-api.polymarket.com   ->  http://127.0.0.1:PORT/data-api

(`/data` is taken by the CLOB's `/data/orders` and `/data/trades`.) Both use
`limit`/`offset` paging and JSON numbers, like the real services.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.models import Outcome
from domain.money import ONE, ZERO
from sandbox.polymarket.state import HOUSE, PolymarketState, SandboxMarket
from sandbox.polymarket.wire import ClobError, int_param, json_response, num, wire_float

GAMMA_PREFIX = "/gamma"
DATA_PREFIX = "/data-api"


def _json_string(items: list[str]) -> str:
    """Gamma nests some lists as JSON text, written with ", " between items (`"[\"Yes\", \"No\"]"`)."""
    return json.dumps(items)


def _iso(market: SandboxMarket) -> str | None:
    return market.end_date.strftime("%Y-%m-%dT%H:%M:%SZ") if market.end_date else None


def _int_param(request: Request, name: str, default: int, maximum: int) -> int:
    value = int_param(request.query_params.get(name), name)
    value = default if value is None else value
    if value < 0:
        raise ClobError(400, f"invalid {name}")
    return min(value, maximum)


def _flag(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    return None if raw is None else raw.lower() == "true"


def gamma_market_json(state: PolymarketState, market: SandboxMarket) -> dict[str, Any]:
    bids, asks = state.levels(market, market.yes_token)
    best_bid = bids[0][0] if bids else None
    best_ask = asks[0][0] if asks else None
    mid = (best_bid + best_ask) / 2 if best_bid is not None and best_ask is not None else None
    last = market.engine.last_trade_price
    yes_price = last if last is not None else mid
    if market.winner is not None:
        yes_price = ONE if market.winner is Outcome.YES else ZERO
    prices = [num(yes_price), num(ONE - yes_price)] if yes_price is not None else ["0", "0"]
    ours: dict[str, Any] = {
        "id": market.gamma_id,
        "question": market.question,
        "conditionId": market.condition_id,
        "slug": market.slug,
        "endDate": _iso(market),
        "description": market.description,
        "outcomes": _json_string(list(market.outcomes)),
        "outcomePrices": _json_string(prices),
        "active": market.active,
        "closed": market.closed,
        "archived": market.gamma_extra.get("archived", False),
        "enableOrderBook": True,
        "acceptingOrders": market.active and not market.closed,
        "orderPriceMinTickSize": wire_float(market.tick_size),
        "orderMinSize": wire_float(market.min_size),
        "clobTokenIds": _json_string([market.yes_token, market.no_token]),
        "negRisk": market.neg_risk,
        "makerBaseFee": 0,
        "takerBaseFee": market.fee_rate_bps,
        "bestBid": wire_float(best_bid) if best_bid is not None else None,
        "bestAsk": wire_float(best_ask) if best_ask is not None else None,
        "lastTradePrice": wire_float(last) if last is not None else None,
        "events": [{"id": market.event_id, "slug": market.event_slug, "title": market.event_title}],
    }
    return market.gamma_extra | ours


def _events(state: PolymarketState) -> dict[str, list[SandboxMarket]]:
    grouped: dict[str, list[SandboxMarket]] = {}
    for market in state.markets.values():
        grouped.setdefault(market.event_id, []).append(market)
    return grouped


def gamma_event_json(state: PolymarketState, markets: list[SandboxMarket]) -> dict[str, Any]:
    first = markets[0]
    ends = [m.end_date for m in markets if m.end_date]
    return {
        "id": first.event_id,
        "ticker": first.event_slug,
        "slug": first.event_slug,
        "title": first.event_title,
        "description": first.description,
        "endDate": max(ends).strftime("%Y-%m-%dT%H:%M:%SZ") if ends else None,
        "active": any(m.active for m in markets),
        "closed": all(m.closed for m in markets),
        "archived": False,
        "negRisk": first.neg_risk,
        "markets": [gamma_market_json(state, m) for m in markets],
    }


def gamma_routes(state: PolymarketState) -> list[Route]:
    def matches(market: SandboxMarket, request: Request) -> bool:
        params = request.query_params
        active, closed = _flag(request, "active"), _flag(request, "closed")
        if active is not None and market.active != active:
            return False
        if closed is not None and market.closed != closed:
            return False
        if params.getlist("id") and market.gamma_id not in params.getlist("id"):
            return False
        if params.getlist("slug") and market.slug not in params.getlist("slug"):
            return False
        if params.getlist("condition_ids") and market.condition_id not in params.getlist("condition_ids"):
            return False
        tokens = params.getlist("clob_token_ids")
        return not tokens or market.yes_token in tokens or market.no_token in tokens

    async def markets(request: Request) -> Response:
        limit = _int_param(request, "limit", 100, 500)
        offset = _int_param(request, "offset", 0, 10**9)
        found = [m for m in state.markets.values() if matches(m, request)]
        return json_response([gamma_market_json(state, m) for m in found[offset : offset + limit]])

    async def market(request: Request) -> Response:
        wanted = request.path_params["market_id"]
        for found in state.markets.values():
            if wanted in (found.gamma_id, found.condition_id):
                return json_response(gamma_market_json(state, found))
        raise ClobError(404, "market not found")

    async def events(request: Request) -> Response:
        limit = _int_param(request, "limit", 100, 500)
        offset = _int_param(request, "offset", 0, 10**9)
        listing = []
        for group in _events(state).values():
            kept = [m for m in group if matches(m, request)]
            if kept:
                listing.append(gamma_event_json(state, group))
        return json_response(listing[offset : offset + limit])

    async def event(request: Request) -> Response:
        group = _events(state).get(request.path_params["event_id"])
        if group is None:
            raise ClobError(404, "event not found")
        return json_response(gamma_event_json(state, group))

    return [
        Route(f"{GAMMA_PREFIX}/markets", markets, methods=["GET"]),
        Route(f"{GAMMA_PREFIX}/markets/{{market_id}}", market, methods=["GET"]),
        Route(f"{GAMMA_PREFIX}/events", events, methods=["GET"]),
        Route(f"{GAMMA_PREFIX}/events/{{event_id}}", event, methods=["GET"]),
    ]


_TRADE_KEYS = (
    "proxyWallet",
    "side",
    "asset",
    "conditionId",
    "size",
    "price",
    "timestamp",
    "title",
    "slug",
    "icon",
    "eventSlug",
    "outcome",
    "outcomeIndex",
    "name",
    "pseudonym",
    "bio",
    "profileImage",
    "profileImageOptimized",
    "transactionHash",
)


def data_routes(state: PolymarketState) -> list[Route]:
    def wallet_activity(request: Request, *, taker_only: bool = False) -> list[dict[str, Any]]:
        params = request.query_params
        user = params.get("user", "").lower()
        if not user:
            raise ClobError(400, "user is required")
        markets = {m for value in params.getlist("market") for m in value.split(",") if m}
        side = params.get("side", "").upper()
        kinds = {k.upper() for value in params.getlist("type") for k in value.split(",") if k}
        start, end = int_param(params.get("start"), "start"), int_param(params.get("end"), "end")
        found = []
        for entry in state.activity:
            item = entry.row
            if taker_only and not entry.taker:
                continue
            if item["proxyWallet"] != user or (markets and item["conditionId"] not in markets):
                continue
            if (kinds and item["type"] not in kinds) or (side and item["side"] != side):
                continue
            if (start is not None and item["timestamp"] < start) or (end is not None and item["timestamp"] > end):
                continue
            found.append(item)
        ascending = params.get("sortDirection", "DESC").upper() == "ASC"
        found.sort(key=lambda i: i["timestamp"], reverse=not ascending)
        limit = _int_param(request, "limit", 100, 500)
        offset = state.faults.page_start(_int_param(request, "offset", 0, 10_000))
        return found[offset : offset + limit]

    async def activity(request: Request) -> Response:
        return json_response(wallet_activity(request))

    async def trades(request: Request) -> Response:
        taker_only = _flag(request, "takerOnly") is not False  # the Data API defaults takerOnly to true
        rows = wallet_activity(request, taker_only=taker_only)
        return json_response([{key: item[key] for key in _TRADE_KEYS} for item in rows])

    async def positions(request: Request) -> Response:
        user = request.query_params.get("user", "")
        if not user:
            raise ClobError(400, "user is required")
        listing = []
        for acct in state.ledger.accounts():
            if acct.account_id.lower() != user.lower() or acct.account_id == HOUSE:
                continue
            for (condition_id, outcome), holding in acct.positions.items():
                market = state.markets.get(condition_id)
                if market is None or holding.quantity == 0:
                    continue
                listing.append(
                    {
                        "proxyWallet": user.lower(),
                        "asset": market.token_of(outcome),
                        "conditionId": condition_id,
                        "size": wire_float(holding.quantity),
                        "title": market.question,
                        "slug": market.slug,
                        "eventSlug": market.event_slug,
                        "outcome": market.label(outcome),
                        "outcomeIndex": 0 if outcome is Outcome.YES else 1,
                        "negativeRisk": market.neg_risk,
                        "endDate": _iso(market),
                    }
                )
        return json_response(listing)

    return [
        Route(f"{DATA_PREFIX}/activity", activity, methods=["GET"]),
        Route(f"{DATA_PREFIX}/trades", trades, methods=["GET"]),
        Route(f"{DATA_PREFIX}/positions", positions, methods=["GET"]),
    ]
