"""`/_sandbox/...` admin API of the Kalshi sandbox: listings, books, accounts, keys, logs, leader trades.

    POST /_sandbox/series                      {"ticker", "title"?}
    POST /_sandbox/events                      {"event_ticker", "series_ticker"?, "title"?}
    POST /_sandbox/markets                     {"ticker", "event_ticker"?, "series_ticker"?, "title"?, ...}
    POST /_sandbox/markets/{ticker}/book       {"yes": [[cents, count]], "no": [...], "account"?, "replace"?}
    POST /_sandbox/markets/{ticker}/resolve    {"result": "yes" | "no"}: close, cancel, pay out
    GET  /_sandbox/accounts                    every account
    GET  /_sandbox/accounts/{account}          balance, reservations, positions, open orders
    POST /_sandbox/accounts/{account}/fund     {"cents": n}
    POST /_sandbox/accounts/{account}/positions {"ticker", "side", "count"}: grant contracts
    POST /_sandbox/keys                        {"account", "public_key_pem", "key_id"?} -> {"key_id"}
    GET  /_sandbox/log[?account=]              every order and fill
    POST /_sandbox/leader-trades               {"account", "ticker", "side", "action", "count", "price"}
    GET|POST|DELETE /_sandbox/faults           fault injection (sandbox.faults)

Unauthenticated on purpose (the sandbox binds to loopback) and outside the fault
middleware. Names match the Polymarket sandbox's where the operation is the same;
sandbox/README.md has the full reference. Errors use Kalshi's error shape.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from domain.models import TimeInForce
from sandbox.faults import ADMIN_PREFIX, fault_routes
from sandbox.kalshi.venue import HOUSE, KalshiError, KalshiOrder, KalshiVenue, OrderInput
from sandbox.kalshi.wire import error_response, json_response

HOUSE_FUNDING_CENTS = 10_000_000_000

Handler = Callable[[Request], Awaitable[Response]]


def seed_book(
    venue: KalshiVenue,
    ticker: str,
    yes: list[tuple[int, int]],
    no: list[tuple[int, int]],
    *,
    account: str = HOUSE,
    replace: bool = False,
) -> None:
    """Rest bids for `account` (the house by default, funded on demand) so the book shows these levels."""
    market = venue.market(ticker)
    top_yes = max((p for p, _ in yes), default=0)
    top_no = max((p for p, _ in no), default=0)
    if top_yes and top_no and top_yes + top_no >= 100:
        raise KalshiError(400, "invalid_parameters", details="seeded YES and NO bids cross")
    if replace:
        venue.apply_engine_events(market, market.engine.cancel_owner(account))
    if account == HOUSE and venue.balance_cents(HOUSE) < HOUSE_FUNDING_CENTS // 2:
        venue.fund(HOUSE, HOUSE_FUNDING_CENTS)
    for side, levels in (("yes", yes), ("no", no)):
        for cents, count in levels:
            yes_price = cents if side == "yes" else 100 - cents
            venue.place(account, _limit(ticker, side, "buy", count, yes_price, TimeInForce.GTC))


def leader_trade(
    venue: KalshiVenue, account: str, ticker: str, side: str, action: str, count: int, price: int
) -> KalshiOrder:
    """A followed trader's trade: the house rests the counterparty, then the leader takes it (IOC).

    `price` is in the leader's own side terms (cents of `side`). The leader's fills then show on
    its own `/portfolio/fills` and `fill` channel, exactly as for any taker.
    """
    if side not in ("yes", "no") or action not in ("buy", "sell") or not 1 <= price <= 99 or count < 1:
        raise KalshiError(400, "invalid_order", details="side yes|no, action buy|sell, price 1..99, count >= 1")
    yes_price = price if side == "yes" else 100 - price
    other = "no" if side == "yes" else "yes"
    house_side = other if action == "buy" else side
    if venue.balance_cents(HOUSE) < HOUSE_FUNDING_CENTS // 2:
        venue.fund(HOUSE, HOUSE_FUNDING_CENTS)
    house = venue.place(HOUSE, _limit(ticker, house_side, "buy", count, yes_price, TimeInForce.GTC))
    taken = venue.place(account, _limit(ticker, side, action, count, yes_price, TimeInForce.FAK))
    if house.status == "resting":
        venue.cancel(HOUSE, house.order_id)
    return taken


def _limit(ticker: str, side: str, action: str, count: int, yes_price: int, tif: TimeInForce) -> OrderInput:
    return OrderInput(ticker, side, action, count, "limit", yes_price, str(uuid.uuid4()), tif, None, False)


def admin_routes(venue: KalshiVenue) -> list[BaseRoute]:
    def handler(fn: Callable[[dict[str, Any], Request], Any]) -> Handler:
        async def run(request: Request) -> Response:
            try:
                raw = await request.body()
                body = orjson.loads(raw) if raw else {}
                if not isinstance(body, dict):
                    raise KalshiError(400, "bad_request", details="body must be a JSON object")
                return json_response(fn(body, request))
            except KalshiError as exc:
                return error_response(exc.status, exc.code, exc.message, exc.details)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                return error_response(400, "bad_request", details=f"{type(exc).__name__}: {exc}")

        return run

    def create_series(body: dict[str, Any], _: Request) -> Any:
        series = venue.add_series(body["ticker"], body.get("title", ""))
        return {"ticker": series.ticker}

    def create_event(body: dict[str, Any], _: Request) -> Any:
        event = venue.add_event(body["event_ticker"], body.get("series_ticker"), body.get("title", ""))
        return {"event_ticker": event.event_ticker, "series_ticker": event.series_ticker}

    def create_market(body: dict[str, Any], _: Request) -> Any:
        extra: dict[str, Any] = {
            k: body[k] for k in ("subtitle", "yes_sub_title", "no_sub_title", "rules_primary") if k in body
        }
        if "close_time" in body:
            extra["close_time"] = datetime.fromisoformat(body["close_time"]).astimezone(UTC)
        market = venue.add_market(
            body["ticker"],
            body.get("event_ticker"),
            body.get("title", ""),
            series_ticker=body.get("series_ticker"),
            **extra,
        )
        return {"ticker": market.ticker, "event_ticker": market.event_ticker, "market_id": market.market_id}

    def put_book(body: dict[str, Any], request: Request) -> Any:
        ticker = request.path_params["ticker"]
        seed_book(
            venue,
            ticker,
            [(int(p), int(q)) for p, q in body.get("yes", [])],
            [(int(p), int(q)) for p, q in body.get("no", [])],
            account=body.get("account", HOUSE),
            replace=bool(body.get("replace", False)),
        )
        yes, no = venue.book(ticker)
        return {"ticker": ticker, "yes": yes, "no": no}

    def fund(body: dict[str, Any], request: Request) -> Any:
        account = request.path_params["account"]
        cents = body["cents"]
        if not isinstance(cents, int) or cents <= 0:
            raise KalshiError(400, "invalid_parameters", details="cents must be a positive integer")
        venue.fund(account, cents)
        return account_json(venue, account)

    def grant(body: dict[str, Any], request: Request) -> Any:
        account = request.path_params["account"]
        venue.grant(account, body["ticker"], body["side"], int(body["count"]))
        return account_json(venue, account)

    def show_account(_: dict[str, Any], request: Request) -> Any:
        return account_json(venue, request.path_params["account"])

    def list_accounts(_: dict[str, Any], __: Request) -> Any:
        return {"accounts": [account_json(venue, a.account_id) for a in venue.ledger.accounts()]}

    def register_key(body: dict[str, Any], _: Request) -> Any:
        key_id = venue.keys.register(body["account"], body["public_key_pem"], body.get("key_id"))
        return {"key_id": key_id, "account": body["account"]}

    def log(_: dict[str, Any], request: Request) -> Any:
        account = request.query_params.get("account")
        return {
            "orders": [
                {**o.to_json(), "account": o.account}
                for o in venue.orders.values()
                if account is None or o.account == account
            ],
            "fills": [
                {**f.to_json(), "account": f.account} for f in venue.fills if account is None or f.account == account
            ],
        }

    def resolve(body: dict[str, Any], request: Request) -> Any:
        market = venue.resolve(request.path_params["ticker"], str(body["result"]))
        return {"ticker": market.ticker, "status": market.status, "result": market.result}

    def trade(body: dict[str, Any], _: Request) -> Any:
        order = leader_trade(
            venue,
            body["account"],
            body["ticker"],
            body["side"],
            body["action"],
            int(body["count"]),
            int(body["price"]),
        )
        return {"order": order.to_json()}

    p = ADMIN_PREFIX
    return [
        Route(f"{p}/series", handler(create_series), methods=["POST"]),
        Route(f"{p}/events", handler(create_event), methods=["POST"]),
        Route(f"{p}/markets", handler(create_market), methods=["POST"]),
        Route(f"{p}/markets/{{ticker}}/book", handler(put_book), methods=["POST"]),
        Route(f"{p}/accounts", handler(list_accounts), methods=["GET"]),
        Route(f"{p}/accounts/{{account}}", handler(show_account), methods=["GET"]),
        Route(f"{p}/accounts/{{account}}/fund", handler(fund), methods=["POST"]),
        Route(f"{p}/accounts/{{account}}/positions", handler(grant), methods=["POST"]),
        Route(f"{p}/keys", handler(register_key), methods=["POST"]),
        Route(f"{p}/markets/{{ticker}}/resolve", handler(resolve), methods=["POST"]),
        Route(f"{p}/log", handler(log), methods=["GET"]),
        Route(f"{p}/leader-trades", handler(trade), methods=["POST"]),
        *fault_routes(venue.faults),
    ]


def account_json(venue: KalshiVenue, account: str) -> dict[str, Any]:
    acct = venue.ledger.account(account)
    positions = [
        {"ticker": t, "side": o.value, "count": int(h.quantity), "reserved": int(h.reserved)}
        for (t, o), h in acct.positions.items()
        if h.quantity or h.reserved
    ]
    return {
        "account": account,
        "balance_cents": venue.balance_cents(account),
        "cash": str(acct.cash),
        "reserved_cash": str(acct.reserved_cash),
        "positions": positions,
        "open_orders": sum(1 for o in venue.orders.values() if o.account == account and o.status == "resting"),
    }
