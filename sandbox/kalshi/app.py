"""The sandbox Kalshi venue as a Starlette app: trade API v2, WebSocket v2 and the admin API.

`build_app(venue)` serves `/trade-api/v2/...` with the venue's paths, bodies,
statuses and error shapes (checked against kalshi-python-sync 3.2.0's models, so
the official SDK works unmodified), `/trade-api/ws/v2` with the signed handshake,
and `/_sandbox/...` (see `sandbox.kalshi.admin` and sandbox/README.md). Every
non-admin request goes through the fault middleware.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from domain.money import CENT, Rounding, dollars_to_cents
from sandbox.faults import FaultMiddleware
from sandbox.kalshi.admin import admin_routes
from sandbox.kalshi.auth import AuthFailure
from sandbox.kalshi.venue import (
    BadRequest,
    KalshiError,
    KalshiEvent,
    KalshiMarket,
    KalshiOrder,
    KalshiVenue,
    Series,
    parse_order,
)
from sandbox.kalshi.wire import (
    count_fp,
    dollars_str,
    error_body,
    error_response,
    http_fault_body,
    iso,
    json_response,
)

API = "/trade-api/v2"
WS_PATH = "/trade-api/ws/v2"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

Handler = Callable[[Request], Awaitable[Response]]


def build_app(venue: KalshiVenue) -> Starlette:
    api = KalshiApi(venue)
    routes: list[BaseRoute] = [
        Route(f"{API}/exchange/status", api.exchange_status),
        Route(f"{API}/series/{{ticker}}", api.series),
        Route(f"{API}/events", api.list_events),
        Route(f"{API}/events/{{ticker}}", api.event),
        Route(f"{API}/markets", api.list_markets),
        Route(f"{API}/markets/{{ticker}}", api.market),
        Route(f"{API}/markets/{{ticker}}/orderbook", api.orderbook),
        Route(f"{API}/portfolio/orders/batched", api.private(api.batch_create), methods=["POST"]),
        Route(f"{API}/portfolio/orders/batched", api.private(api.batch_cancel), methods=["DELETE"]),
        Route(f"{API}/portfolio/orders", api.private(api.create_order), methods=["POST"]),
        Route(f"{API}/portfolio/orders", api.private(api.list_orders), methods=["GET"]),
        Route(f"{API}/portfolio/orders/{{order_id}}", api.private(api.get_order), methods=["GET"]),
        Route(f"{API}/portfolio/orders/{{order_id}}", api.private(api.cancel_order), methods=["DELETE"]),
        Route(f"{API}/portfolio/fills", api.private(api.fills)),
        Route(f"{API}/portfolio/positions", api.private(api.positions)),
        Route(f"{API}/portfolio/balance", api.private(api.balance)),
        WebSocketRoute(WS_PATH, api.websocket),
        *admin_routes(venue),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(FaultMiddleware, faults=venue.faults, error_body=http_fault_body)],
        exception_handlers={KalshiError: _on_kalshi_error, AuthFailure: _on_auth_failure},
    )


async def _on_kalshi_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, KalshiError)
    return kalshi_error_response(exc)


async def _on_auth_failure(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthFailure)
    return _auth_error(exc)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _limit(request: Request, maximum: int = MAX_LIMIT) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise KalshiError(400, "invalid_parameters", details=f"limit must be between 1 and {maximum}")
    return int(raw)


def _page(request: Request, items: list[Any], maximum: int = MAX_LIMIT) -> tuple[list[Any], str]:
    """Cursor pagination: the cursor is the opaque offset of the next page, "" at the end."""
    limit = _limit(request, maximum)
    cursor = request.query_params.get("cursor") or "0"
    if not cursor.isdigit():
        raise KalshiError(400, "invalid_parameters", details="bad cursor")
    start = int(cursor)
    page = items[start : start + limit]
    nxt = start + limit
    return page, str(nxt) if nxt < len(items) else ""


def _timestamp(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise KalshiError(400, "invalid_parameters", details=f"{name} must be a Unix timestamp in seconds")
    return int(raw)


def _csv(request: Request, name: str) -> set[str] | None:
    raw = request.query_params.get(name)
    return {t for t in raw.split(",") if t} if raw else None


class KalshiApi:
    def __init__(self, venue: KalshiVenue) -> None:
        self.venue = venue

    # -- plumbing ------------------------------------------------------------------------------

    def private(self, handler: Callable[[Request, str], Awaitable[Response]]) -> Handler:
        async def guarded(request: Request) -> Response:
            account = self.venue.keys.authenticate(request.headers, request.method, request.url.path, _now_ms())
            self.venue.expire_due()
            return await handler(request, account)

        return guarded

    # -- public market data --------------------------------------------------------------------

    async def exchange_status(self, _: Request) -> Response:
        return json_response({"exchange_active": True, "trading_active": True})

    async def series(self, request: Request) -> Response:
        found = self.venue.series.get(request.path_params["ticker"])
        if found is None:
            return error_response(404, "not_found", "not found")
        return json_response({"series": series_json(found)})

    async def list_events(self, request: Request) -> Response:
        series = request.query_params.get("series_ticker")
        status = request.query_params.get("status")
        nested = request.query_params.get("with_nested_markets") == "true"
        events = [
            e
            for e in self.venue.events.values()
            if (series is None or e.series_ticker == series)
            and (status is None or any(_status_matches(m, status) for m in self._event_markets(e.event_ticker)))
        ]
        page, cursor = _page(request, events, maximum=200)
        out = []
        for event in page:
            body = event_json(event)
            if nested:
                body["markets"] = [market_json(m) for m in self._event_markets(event.event_ticker)]
            out.append(body)
        return json_response({"events": out, "cursor": cursor, "milestones": []})

    async def event(self, request: Request) -> Response:
        found = self.venue.events.get(request.path_params["ticker"])
        if found is None:
            return error_response(404, "not_found", "not found")
        markets = [market_json(m) for m in self._event_markets(found.event_ticker)]
        return json_response({"event": event_json(found), "markets": markets})

    def _event_markets(self, event_ticker: str) -> list[KalshiMarket]:
        return [m for m in self.venue.markets.values() if m.event_ticker == event_ticker]

    async def list_markets(self, request: Request) -> Response:
        q = request.query_params
        tickers = _csv(request, "tickers")
        event_tickers = _csv(request, "event_ticker")
        series = q.get("series_ticker")
        status = q.get("status")
        markets = [
            m
            for m in self.venue.markets.values()
            if (tickers is None or m.ticker in tickers)
            and (event_tickers is None or m.event_ticker in event_tickers)
            and (series is None or self.venue.events[m.event_ticker].series_ticker == series)
            and (status is None or _status_matches(m, status))
        ]
        page, cursor = _page(request, markets)
        return json_response({"markets": [market_json(m) for m in page], "cursor": cursor})

    async def market(self, request: Request) -> Response:
        found = self.venue.markets.get(request.path_params["ticker"])
        if found is None:
            return error_response(404, "not_found", "not found")
        return json_response({"market": market_json(found)})

    async def orderbook(self, request: Request) -> Response:
        ticker = request.path_params["ticker"]
        if ticker not in self.venue.markets:
            return error_response(404, "not_found", "not found")
        yes, no = self.venue.book(ticker)
        depth_raw = request.query_params.get("depth")
        if depth_raw is not None and depth_raw.isdigit() and int(depth_raw) > 0:
            depth = int(depth_raw)
            yes, no = yes[-depth:], no[-depth:]
        yes_dollars = [[dollars_str(p), count_fp(q)] for p, q in yes]
        no_dollars = [[dollars_str(p), count_fp(q)] for p, q in no]
        return json_response(
            {
                "orderbook": {
                    "yes": [[p, q] for p, q in yes],
                    "no": [[p, q] for p, q in no],
                    "yes_dollars": yes_dollars,
                    "no_dollars": no_dollars,
                },
                "orderbook_fp": {"yes_dollars": yes_dollars, "no_dollars": no_dollars},
            }
        )

    # -- orders --------------------------------------------------------------------------------

    async def create_order(self, request: Request, account: str) -> Response:
        body = await _json_body(request)
        order, stalled = self._place(account, body)
        if stalled:
            await self.venue.faults.stall()
        return json_response({"order": order.to_json()}, status=201)

    def _place(self, account: str, body: Any) -> tuple[KalshiOrder, bool]:
        """Place one order through the fault checks; True when its answer must stall (order placed)."""
        order = parse_order(body, self.venue.clock())
        rejection = self.venue.faults.take_rejection()
        if rejection is not None:
            code, message = rejection
            raise KalshiError(400, code or "insufficient_balance", message or "insufficient balance")
        stalled = self.venue.faults.take_order_timeout()
        placed = self.venue.place(account, order, fill_ratio=self.venue.faults.partial_fill_ratio)
        return placed, stalled

    async def batch_create(self, request: Request, account: str) -> Response:
        body = await _json_body(request)
        orders = body.get("orders") if isinstance(body, dict) else None
        if not isinstance(orders, list) or not orders:
            raise KalshiError(400, "invalid_parameters", details="orders must be a non-empty list")
        if len(orders) > 20:
            raise KalshiError(400, "invalid_parameters", details="at most 20 orders per batch")
        results: list[dict[str, Any]] = []
        any_stalled = False
        for item in orders:
            coid = item.get("client_order_id") if isinstance(item, dict) else None
            try:
                placed, stalled = self._place(account, item)
                any_stalled = any_stalled or stalled
                results.append({"client_order_id": placed.client_order_id, "order": placed.to_json(), "error": None})
            except KalshiError as exc:
                error = error_body(exc.code, exc.message, exc.details or "")["error"]
                error.setdefault("details", "")
                results.append({"client_order_id": coid, "order": None, "error": error})
        if any_stalled:
            await self.venue.faults.stall()
        return json_response({"orders": results}, status=201)

    async def batch_cancel(self, request: Request, account: str) -> Response:
        body = await _json_body(request)
        ids: list[Any] = []
        if isinstance(body, dict):
            if isinstance(body.get("ids"), list):
                ids = body["ids"]
            elif isinstance(body.get("orders"), list):
                ids = [o.get("order_id") for o in body["orders"] if isinstance(o, dict)]
        if not ids:
            raise KalshiError(400, "invalid_parameters", details="ids must be a non-empty list")
        results: list[dict[str, Any]] = []
        for order_id in ids:
            try:
                record, reduced = self.venue.cancel(account, str(order_id))
                results.append({"order_id": order_id, "order": record.to_json(), "reduced_by": reduced, "error": None})
            except KalshiError as exc:
                error = error_body(exc.code, exc.message, exc.details or "")["error"]
                error.setdefault("details", "")
                results.append({"order_id": order_id, "order": None, "reduced_by": 0, "error": error})
        return json_response({"orders": results})

    async def cancel_order(self, request: Request, account: str) -> Response:
        record, reduced = self.venue.cancel(account, request.path_params["order_id"])
        return json_response({"order": record.to_json(), "reduced_by": reduced})

    async def get_order(self, request: Request, account: str) -> Response:
        record = self.venue.orders.get(request.path_params["order_id"])
        if record is None or record.account != account:
            raise KalshiError(404, "not_found", "not found")
        return json_response({"order": record.to_json()})

    async def list_orders(self, request: Request, account: str) -> Response:
        q = request.query_params
        ticker, event_ticker, status = q.get("ticker"), q.get("event_ticker"), q.get("status")
        orders = [
            o
            for o in reversed(self.venue.orders.values())
            if o.account == account
            and (ticker is None or o.ticker == ticker)
            and (event_ticker is None or self.venue.markets[o.ticker].event_ticker == event_ticker)
            and (status is None or o.status == status)
        ]
        page, cursor = _page(request, orders)
        return json_response({"orders": [o.to_json() for o in page], "cursor": cursor})

    async def fills(self, request: Request, account: str) -> Response:
        q = request.query_params
        ticker, order_id = q.get("ticker"), q.get("order_id")
        min_ts, max_ts = _timestamp(request, "min_ts"), _timestamp(request, "max_ts")
        fills = [
            f
            for f in reversed(self.venue.fills)
            if f.account == account
            and (ticker is None or f.ticker == ticker)
            and (order_id is None or f.order_id == order_id)
            and (min_ts is None or f.created_time.timestamp() >= min_ts)
            and (max_ts is None or f.created_time.timestamp() <= max_ts)
        ]
        page, cursor = _page(request, fills)
        return json_response({"fills": [f.to_json() for f in page], "cursor": cursor})

    async def positions(self, request: Request, account: str) -> Response:
        q = request.query_params
        ticker, event_ticker = q.get("ticker"), q.get("event_ticker")
        only_open = "position" in (q.get("count_filter") or "")
        rows = [
            r
            for r in position_rows(self.venue, account)
            if (ticker is None or r["ticker"] == ticker)
            and (event_ticker is None or self.venue.markets[r["ticker"]].event_ticker == event_ticker)
            and (not only_open or r["position"] != 0)
        ]
        page, cursor = _page(request, rows)
        return json_response(
            {"market_positions": page, "event_positions": event_rows(self.venue, page), "cursor": cursor}
        )

    async def balance(self, _: Request, account: str) -> Response:
        return json_response(
            {
                "balance": self.venue.balance_cents(account),
                "portfolio_value": portfolio_value_cents(self.venue, account),
                "updated_ts": int(time.time()),
            }
        )

    # -- WebSocket -----------------------------------------------------------------------------

    async def websocket(self, websocket: WebSocket) -> None:
        try:
            account = self.venue.keys.authenticate(websocket.headers, "GET", WS_PATH, _now_ms())
        except AuthFailure as exc:
            try:
                await websocket.send_denial_response(_auth_error(exc))
            except RuntimeError:
                await websocket.close(code=1008)
            return
        await websocket.accept()
        await self.venue.stream.serve(websocket, account)


def _auth_error(exc: AuthFailure) -> Response:
    return error_response(
        401,
        "authentication_error",
        "authentication_error",
        f"rpc error: code = Unauthenticated desc = {exc.reason}",
    )


async def _json_body(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise BadRequest(str(exc)) from exc


def kalshi_error_response(exc: KalshiError) -> Response:
    if exc.top_level:
        return json_response({"code": exc.code, "message": exc.message, "details": exc.details or ""}, exc.status)
    return error_response(exc.status, exc.code, exc.message, exc.details)


def _status_matches(market: KalshiMarket, status: str) -> bool:
    """Query statuses (unopened/open/closed/settled) against the listed market status."""
    wanted = {s.strip() for s in status.split(",")}
    listed = {"active": "open", "initialized": "unopened", "determined": "closed"}.get(market.status, market.status)
    return listed in wanted or market.status in wanted


def series_json(series: Series) -> dict[str, Any]:
    return {
        "ticker": series.ticker,
        "frequency": series.frequency,
        "title": series.title,
        "category": series.category,
        "tags": [],
        "settlement_sources": [{"name": "Sandbox", "url": "http://127.0.0.1/"}],
        "contract_url": "",
        "contract_terms_url": "",
        "fee_type": "quadratic",
        "fee_multiplier": float(series.fee_multiplier),
        "additional_prohibitions": [],
    }


def event_json(event: KalshiEvent) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_ticker": event.event_ticker,
        "series_ticker": event.series_ticker,
        "sub_title": event.sub_title,
        "title": event.title,
        "collateral_return_type": "",
        "mutually_exclusive": event.mutually_exclusive,
        "category": event.category,
        "available_on_brokers": False,
        "product_metadata": None,
    }
    if event.strike_date is not None:
        body["strike_date"] = iso(event.strike_date)
    return body


def market_json(market: KalshiMarket) -> dict[str, Any]:
    bid, ask = market.best_cents()
    last = market.last_price_cents()
    close = iso(market.close_time)
    return {
        "ticker": market.ticker,
        "event_ticker": market.event_ticker,
        "market_type": "binary",
        "title": market.title,
        "subtitle": market.subtitle,
        "yes_sub_title": market.yes_sub_title,
        "no_sub_title": market.no_sub_title,
        "created_time": iso(market.created_time),
        "open_time": iso(market.open_time),
        "close_time": close,
        "expected_expiration_time": close,
        "expiration_time": close,
        "latest_expiration_time": close,
        "settlement_timer_seconds": 300,
        "status": market.status,
        "response_price_units": "usd_cent",
        "yes_bid": bid,
        "yes_bid_dollars": dollars_str(bid),
        "yes_ask": ask,
        "yes_ask_dollars": dollars_str(ask),
        "no_bid": 100 - ask,
        "no_bid_dollars": dollars_str(100 - ask),
        "no_ask": 100 - bid,
        "no_ask_dollars": dollars_str(100 - bid),
        "last_price": last,
        "last_price_dollars": dollars_str(last),
        "volume": market.volume,
        "volume_fp": count_fp(market.volume),
        "volume_24h": market.volume,
        "result": market.result,
        "can_close_early": True,
        "open_interest": market.open_interest,
        "open_interest_fp": count_fp(market.open_interest),
        "notional_value": 100,
        "notional_value_dollars": "1.0000",
        "previous_yes_bid": 0,
        "previous_yes_bid_dollars": "0.0000",
        "previous_yes_ask": 0,
        "previous_yes_ask_dollars": "0.0000",
        "previous_price": 0,
        "previous_price_dollars": "0.0000",
        "liquidity": 0,
        "liquidity_dollars": "0.0000",
        "expiration_value": "",
        "category": "",
        "risk_limit_cents": 0,
        "tick_size": 1,
        "rules_primary": market.rules_primary,
        "rules_secondary": market.rules_secondary,
        "price_level_structure": "linear_cent",
        "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}],
    }


def position_rows(venue: KalshiVenue, account: str) -> list[dict[str, Any]]:
    """One row per market the account traded or holds, in Kalshi's MarketPosition shape."""
    traded: dict[str, int] = {}
    fees: dict[str, int] = {}
    exposure: dict[str, int] = {}
    last: dict[str, int] = {}
    for fill in venue.fills:
        if fill.account != account:
            continue
        own = fill.yes_price if fill.side == "yes" else 100 - fill.yes_price
        cost = own * fill.count
        traded[fill.ticker] = traded.get(fill.ticker, 0) + cost
        fees[fill.ticker] = fees.get(fill.ticker, 0) + fill.fee
        exposure[fill.ticker] = exposure.get(fill.ticker, 0) + (cost if fill.action == "buy" else -cost)
        last[fill.ticker] = int(fill.created_time.timestamp())
    resting: dict[str, int] = {}
    for order in venue.orders.values():
        if order.account == account and order.status == "resting":
            resting[order.ticker] = resting.get(order.ticker, 0) + 1
    held = {t for (t, _), h in venue.ledger.account(account).positions.items() if h.quantity}
    rows = []
    for ticker in sorted(set(traded) | set(resting) | held):
        exp = max(exposure.get(ticker, 0), 0)
        rows.append(
            {
                "ticker": ticker,
                "total_traded": traded.get(ticker, 0),
                "total_traded_dollars": dollars_str(traded.get(ticker, 0)),
                "position": venue.position(account, ticker),
                "position_fp": count_fp(venue.position(account, ticker)),
                "market_exposure": exp,
                "market_exposure_dollars": dollars_str(exp),
                "realized_pnl": 0,
                "realized_pnl_dollars": "0.0000",
                "resting_orders_count": resting.get(ticker, 0),
                "fees_paid": fees.get(ticker, 0),
                "fees_paid_dollars": dollars_str(fees.get(ticker, 0)),
            }
        )
    return rows


def event_rows(venue: KalshiVenue, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    by_event: dict[str, dict[str, Any]] = {}
    for row in rows:
        event = venue.markets[row["ticker"]].event_ticker
        agg = by_event.setdefault(event, {"event_ticker": event, "total_cost": 0, "exposure": 0, "fees": 0, "n": 0})
        agg["total_cost"] += row["total_traded"]
        agg["exposure"] += row["market_exposure"]
        agg["fees"] += row["fees_paid"]
        agg["n"] += abs(row["position"])
    return [
        {
            "event_ticker": a["event_ticker"],
            "total_cost": a["total_cost"],
            "total_cost_dollars": dollars_str(a["total_cost"]),
            "total_cost_shares": a["n"],
            "event_exposure": a["exposure"],
            "event_exposure_dollars": dollars_str(a["exposure"]),
            "realized_pnl": 0,
            "realized_pnl_dollars": "0.0000",
            "fees_paid": a["fees"],
            "fees_paid_dollars": dollars_str(a["fees"]),
        }
        for a in by_event.values()
    ]


def portfolio_value_cents(venue: KalshiVenue, account: str) -> int:
    """Positions marked at the best bid of their own side (what selling now would fetch)."""
    total = Decimal(0)
    for (ticker, outcome), holding in venue.ledger.account(account).positions.items():
        market = venue.markets.get(ticker)
        if market is None or not holding.quantity:
            continue
        bid, ask = market.best_cents()
        own_bid = bid if outcome.value == "yes" else 100 - ask
        total += holding.quantity * own_bid * CENT
    return dollars_to_cents(total, Rounding.DOWN)
