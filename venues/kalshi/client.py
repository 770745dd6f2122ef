"""Kalshi REST client (httpx, async): markets, books, orders, fills, positions, balance.

Transport only: bodies are parsed by `venues.kalshi.parse`, failures become the typed
errors of `venues.errors` (see `venues.kalshi.errors`). The host is the constructor's
`base_url` (production or demo, from config); nothing else differs between them.

Every call takes a token from the rate limiter first, and a 429 pauses the limiter
for the venue's Retry-After. A write whose request may have reached Kalshi without an
answer (timeout after sending, connection dropped mid-response) raises
`UnknownOutcomeError`: the caller reconciles by client_order_id before retrying.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx
import orjson

from domain.models import Balance, Fill, Market, Position, Venue
from venues.errors import RateLimitedError, VenueError
from venues.http import HttpSession
from venues.kalshi.auth import KalshiSigner
from venues.kalshi.errors import error_for_response
from venues.kalshi.hosts import PROD_BASE_URL
from venues.kalshi.orders import KalshiOrderRequest
from venues.kalshi.parse import (
    KalshiEvent,
    KalshiOrder,
    KalshiParseError,
    KalshiSeries,
    OrderbookLevels,
    Page,
    TradeUpdate,
    parse_balance,
    parse_error_body,
    parse_events_page,
    parse_fills_page,
    parse_fills_page_skipping,
    parse_market,
    parse_markets_page,
    parse_order,
    parse_orderbook,
    parse_orders_page,
    parse_positions_page,
    parse_series,
    parse_trades_page,
)
from venues.lane import lane_if
from venues.ratelimit import KALSHI_BATCH_CANCEL_COST, RequestKind, VenueRateLimiter

ORDERS_PATH = "/portfolio/orders"

T = TypeVar("T")


def _clean(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


class KalshiClient(HttpSession):
    """One Kalshi account (or none, for public market data) on one host."""

    venue = Venue.KALSHI

    def __init__(
        self,
        base_url: str = PROD_BASE_URL,
        *,
        signer: KalshiSigner | None = None,
        http: httpx.AsyncClient | None = None,
        limiter: VenueRateLimiter | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._sign_prefix = urlsplit(self.base_url).path
        self._signer = signer
        super().__init__(http, timeout)
        self._limiter = limiter or VenueRateLimiter.kalshi()

    # --- transport -------------------------------------------------------------------------

    def _build(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: object = None,
        kind: RequestKind = RequestKind.READ,
        private: bool = False,
        signed_headers: Mapping[str, str] | None = None,
    ) -> httpx.Request:
        headers = {"accept": "application/json"}
        if signed_headers is not None:
            headers.update(signed_headers)
        elif private or self._signer is not None:
            headers.update(self.signed_headers(method, path))
        content = None
        if body is not None:
            content = orjson.dumps(body)
            headers["content-type"] = "application/json"
        return self._http.build_request(
            method,
            self.base_url + path,
            params=_clean(params or {}),
            content=content,
            headers=headers,
            extensions=lane_if(kind is not RequestKind.READ),
        )

    def _interpret(self, response: httpx.Response, kind: RequestKind, *, order_lookup: bool = False) -> dict[str, Any]:
        """The answer's JSON object, or the venue error it stands for."""
        what = f"{response.request.method} {response.request.url.path}"
        if response.status_code >= 400:
            error = error_for_response(
                response.status_code,
                response.content,
                response.headers,
                write=kind is not RequestKind.READ,
                order_lookup=order_lookup,
            )
            if isinstance(error, RateLimitedError):
                self._limiter.penalize(kind, error.retry_after)
            raise error
        try:
            parsed = orjson.loads(response.content) if response.content else {}
        except orjson.JSONDecodeError as exc:
            raise KalshiParseError(f"{what}: response is not JSON", response.text[:500]) from exc
        if not isinstance(parsed, dict):
            raise KalshiParseError(f"{what}: response is not a JSON object", parsed)
        return parsed

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: object = None,
        kind: RequestKind = RequestKind.READ,
        cost: float = 1.0,
        private: bool = False,
        order_lookup: bool = False,
        signed_headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        request = self._build(
            method, path, params=params, body=body, kind=kind, private=private, signed_headers=signed_headers
        )
        return self._interpret(await self._exchange(request, kind, cost), kind, order_lookup=order_lookup)

    async def _pages(
        self,
        path: str,
        params: dict[str, Any],
        parse: Callable[[dict[str, Any]], Page],
        *,
        private: bool = False,
        max_pages: int | None = None,
    ) -> AsyncIterator[list[Any]]:
        cursor: str | None = None
        seen: set[str] = set()
        pages = 0
        while True:
            body = await self._request("GET", path, params={**params, "cursor": cursor}, private=private)
            page = parse(body)
            yield page.items
            pages += 1
            cursor = page.cursor
            if cursor is None or (max_pages is not None and pages >= max_pages):
                return
            if cursor in seen:  # a cursor that repeats would page forever
                raise KalshiParseError(f"GET {path}: cursor {cursor!r} repeated", body)
            seen.add(cursor)

    async def _collect(self, pages: AsyncIterator[list[T]]) -> list[T]:
        items: list[T] = []
        async for page in pages:
            items.extend(page)
        return items

    # --- market data -----------------------------------------------------------------------

    async def get_series(self, series_ticker: str) -> KalshiSeries:
        return parse_series(await self._request("GET", f"/series/{quote(series_ticker, safe='')}"))

    async def get_events(
        self,
        *,
        series_ticker: str | None = None,
        status: str | None = None,
        with_nested_markets: bool = False,
        limit: int = 200,
        max_pages: int | None = None,
    ) -> list[KalshiEvent]:
        params = {
            "series_ticker": series_ticker,
            "status": status,
            "with_nested_markets": "true" if with_nested_markets else None,
            "limit": limit,
        }
        return await self._collect(self._pages("/events", params, parse_events_page, max_pages=max_pages))

    async def get_markets(
        self,
        *,
        event_ticker: str | None = None,
        series_ticker: str | None = None,
        status: str | None = None,
        tickers: Sequence[str] | None = None,
        limit: int = 1000,
        max_pages: int | None = None,
        fee_multiplier: Decimal | None = None,
    ) -> list[Market]:
        """All markets matching the filters, following the cursor (stop early with `max_pages`)."""
        params = {
            "event_ticker": event_ticker,
            "series_ticker": series_ticker,
            "status": status,
            "tickers": ",".join(tickers) if tickers else None,
            "limit": limit,
        }

        def parse(body: dict[str, Any]) -> Page:
            return parse_markets_page(body, fee_multiplier=fee_multiplier)

        return await self._collect(self._pages("/markets", params, parse, max_pages=max_pages))

    async def get_market(self, ticker: str, *, fee_multiplier: Decimal | None = None) -> Market:
        body = await self._request("GET", f"/markets/{quote(ticker, safe='')}")
        market = body.get("market")
        if not isinstance(market, dict):
            raise KalshiParseError("no market in response", body)
        return parse_market(market, fee_multiplier=fee_multiplier)

    async def get_orderbook(self, ticker: str, *, depth: int | None = None) -> OrderbookLevels:
        body = await self._request("GET", f"/markets/{quote(ticker, safe='')}/orderbook", params={"depth": depth})
        return parse_orderbook(body)

    async def get_trades(
        self, ticker: str, *, min_ts: int | None = None, limit: int = 1000, max_pages: int | None = None
    ) -> list[TradeUpdate]:
        params = {"ticker": ticker, "min_ts": min_ts, "limit": limit}
        return await self._collect(self._pages("/markets/trades", params, parse_trades_page, max_pages=max_pages))

    # --- orders ----------------------------------------------------------------------------

    def signed_headers(self, method: str, path: str) -> dict[str, str]:
        """The auth headers of one request to `path`; Kalshi signs timestamp, method and path, not the body."""
        if self._signer is None:
            raise VenueError(Venue.KALSHI, f"{method} {path} needs API credentials")
        return self._signer.headers(method, self._sign_prefix + path)

    async def create_order(self, request: KalshiOrderRequest, *, prepared: httpx.Request | None = None) -> KalshiOrder:
        """`prepared`: the same order's request from `prepare_create_order` moments before (signed ahead)."""
        return await self._created(self._exchange(prepared or self.prepare_create_order(request), RequestKind.WRITE))

    def prepare_create_order(self, request: KalshiOrderRequest) -> httpx.Request:
        """`create_order`'s request, signed now, for `send_prepared_order` moments later."""
        return self._build("POST", ORDERS_PATH, body=request.to_json(), kind=RequestKind.WRITE, private=True)

    def send_prepared_order(self, prepared: httpx.Request) -> Awaitable[KalshiOrder] | None:
        """Send a prepared order before returning, if the order lane is free; None: nothing was sent."""
        sent = self._send_now(prepared, RequestKind.WRITE)
        return None if sent is None else self._created(sent)

    async def _created(self, answer: Awaitable[httpx.Response]) -> KalshiOrder:
        return parse_order(self._interpret(await answer, RequestKind.WRITE))

    async def cancel_order(self, order_id: str) -> KalshiOrder:
        body = await self._request(
            "DELETE",
            f"/portfolio/orders/{quote(order_id, safe='')}",
            kind=RequestKind.CANCEL,
            private=True,
            order_lookup=True,
        )
        return parse_order(body)

    async def get_order(self, order_id: str) -> KalshiOrder:
        body = await self._request(
            "GET", f"/portfolio/orders/{quote(order_id, safe='')}", private=True, order_lookup=True
        )
        return parse_order(body)

    async def batch_create_orders(self, requests: Sequence[KalshiOrderRequest]) -> list[KalshiOrder | VenueError]:
        """One result per request, in order: the order, or the typed error Kalshi gave for that item."""
        if not requests:
            return []
        body = await self._request(
            "POST",
            "/portfolio/orders/batched",
            body={"orders": [r.to_json() for r in requests]},
            kind=RequestKind.WRITE,
            cost=len(requests),
            private=True,
        )
        return self._batch_results(body)

    async def batch_cancel_orders(self, order_ids: Sequence[str]) -> list[KalshiOrder | VenueError]:
        if not order_ids:
            return []
        body = await self._request(
            "DELETE",
            "/portfolio/orders/batched",
            body={"ids": list(order_ids)},
            kind=RequestKind.CANCEL,
            cost=KALSHI_BATCH_CANCEL_COST * len(order_ids),
            private=True,
        )
        return self._batch_results(body)

    def _batch_results(self, body: dict[str, Any]) -> list[KalshiOrder | VenueError]:
        items = body.get("orders")
        if not isinstance(items, list):
            raise KalshiParseError("batch response without 'orders'", body)
        results: list[KalshiOrder | VenueError] = []
        for item in items:
            if not isinstance(item, dict):
                raise KalshiParseError("batch item is not an object", body)
            error = item.get("error")
            if error:
                code = parse_error_body({"error": error})[0]
                status = 409 if code == "order_already_exists" else 400
                results.append(
                    error_for_response(status, orjson.dumps({"error": error}), {}, write=True, order_lookup=True)
                )
            else:
                results.append(parse_order(item))
        return results

    async def get_orders(
        self, *, ticker: str | None = None, status: str | None = None, max_pages: int | None = None
    ) -> list[KalshiOrder]:
        params = {"ticker": ticker, "status": status, "limit": 200}
        return await self._collect(
            self._pages("/portfolio/orders", params, parse_orders_page, private=True, max_pages=max_pages)
        )

    # --- portfolio -------------------------------------------------------------------------

    async def get_fills(
        self,
        *,
        ticker: str | None = None,
        order_id: str | None = None,
        min_ts: int | None = None,
        max_pages: int | None = None,
    ) -> list[Fill]:
        params = {"ticker": ticker, "order_id": order_id, "min_ts": min_ts, "limit": 200}
        return await self._collect(
            self._pages("/portfolio/fills", params, parse_fills_page, private=True, max_pages=max_pages)
        )

    async def fills_page(
        self, *, min_ts: int, cursor: str | None = None, limit: int = 200
    ) -> tuple[Page, list[KalshiParseError]]:
        """One page of the account's fills since `min_ts` (newest first) and the rows that did not parse.

        A page that is not a fills listing at all raises; a bad row only is reported beside the rest."""
        body = await self._request(
            "GET", "/portfolio/fills", params={"min_ts": min_ts, "limit": limit, "cursor": cursor}, private=True
        )
        return parse_fills_page_skipping(body)

    async def get_positions(self, *, ticker: str | None = None, max_pages: int | None = None) -> list[Position]:
        params = {"ticker": ticker, "limit": 200}
        return await self._collect(
            self._pages("/portfolio/positions", params, parse_positions_page, private=True, max_pages=max_pages)
        )

    async def get_balance(self) -> Balance:
        return parse_balance(await self._request("GET", "/portfolio/balance", private=True))
