"""Polymarket REST client (httpx, async): CLOB, Gamma and Data API; implements `TradingClient`.

Transport only: bodies are parsed by `venues.polymarket.parse`, failures become the
typed errors of `venues.errors` (see `venues.polymarket.errors`). Hosts come from the
constructor, so the same code talks to production, a sandbox or a test transport.

Every call takes a token from the rate limiter first; a 429 pauses the limiter for
the venue's Retry-After. A write that may have reached the venue without an answer
(timeout after sending, connection dropped mid-response) raises
`UnknownOutcomeError`: the caller reconciles with `find_order` before retrying, and
because the order's salt comes from the intent's client order id, a retry re-sends
the identical order (same hash, same venue order id) rather than a second one.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson

from domain.book import BookSnapshot, OrderBook
from domain.models import Balance, Market, Order, OrderIntent, OrderStatus, Outcome, Position, Side, TimeInForce, Venue
from domain.money import micro_to_dollars
from venues.errors import OrderNotFoundError, RateLimitedError, VenueError
from venues.http import HttpSession
from venues.lane import lane_if
from venues.polymarket import parse
from venues.polymarket.auth import ApiCreds, l1_headers, l2_headers
from venues.polymarket.constants import CLOB_URL, DATA_API_URL, GAMMA_URL, POLYGON
from venues.polymarket.eip712 import Wallet
from venues.polymarket.errors import FOK_NOT_FILLED, error_for_message, error_for_response
from venues.polymarket.messages import (
    BookEvent,
    CancelResult,
    OpenOrder,
    PolymarketParseError,
    PostOrderResult,
    UserTradeEvent,
    WalletActivity,
)
from venues.polymarket.orders import ORDER_TYPE_FOR, OrderSigner, OrderType, SignatureType, SignedOrder, order_body
from venues.ratelimit import RequestKind, VenueRateLimiter
from venues.send_ahead_requests import SendAheadRequests

log = logging.getLogger(__name__)
V = Venue.POLYMARKET
ONE = Decimal(1)
SIGNED_ORDERS_KEPT = 10_000
FIRST_CURSOR = "MA=="

_FOK_KILLED = (FOK_NOT_FILLED.lower(), "fully filled or killed", "couldn't be fully filled")

_OPEN_ORDER_STATUS = {
    "LIVE": OrderStatus.OPEN,
    "DELAYED": OrderStatus.PENDING,
    "CANCELED": OrderStatus.CANCELED,
    "CANCELED_MARKET_RESOLVED": OrderStatus.CANCELED,
    "UNMATCHED": OrderStatus.REJECTED,
    "INVALID": OrderStatus.REJECTED,
}


def _json(body: object) -> str:
    """Compact JSON exactly as py-clob-client serializes (and signs) request bodies."""
    return orjson.dumps(body).decode()


class PolymarketClient(HttpSession):
    """One Polymarket account (or none, for public data).

    `wallet` signs orders and L1 requests; `creds` (API key) signs L2 requests. With
    a proxy wallet or safe, `funder` is the address holding the funds.
    """

    venue = V

    def __init__(
        self,
        clob_url: str = CLOB_URL,
        gamma_url: str = GAMMA_URL,
        data_url: str = DATA_API_URL,
        *,
        wallet: Wallet | None = None,
        creds: ApiCreds | None = None,
        chain_id: int = POLYGON,
        funder: str | None = None,
        signature_type: SignatureType = SignatureType.EOA,
        http: httpx.AsyncClient | None = None,
        limiter: VenueRateLimiter | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clob_url = clob_url.rstrip("/")
        self.gamma_url = gamma_url.rstrip("/")
        self.data_url = data_url.rstrip("/")
        self.wallet = wallet
        self.creds = creds
        self.chain_id = chain_id
        self.signer = (
            OrderSigner(wallet, chain_id=chain_id, funder=funder, signature_type=signature_type) if wallet else None
        )
        super().__init__(http, timeout)
        self._limiter = limiter or VenueRateLimiter.polymarket()
        self._markets: dict[str, Market] = {}
        self._fee_rates: dict[str, int] = {}
        self._signed_orders: OrderedDict[str, SignedOrder] = OrderedDict()
        self._prepared: SendAheadRequests[tuple[httpx.Request, SignedOrder]] = SendAheadRequests(clock=clock)

    # --- transport -------------------------------------------------------------------------

    def _build(
        self,
        method: str,
        url: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: object = None,
        kind: RequestKind = RequestKind.READ,
        auth: str = "",
        nonce: int = 0,
    ) -> httpx.Request:
        content = _json(body) if body is not None else None
        headers = {"accept": "application/json"}
        if content is not None:
            headers["content-type"] = "application/json"
        if auth == "l1":
            headers.update(l1_headers(self._need_wallet(), chain_id=self.chain_id, nonce=nonce))
        elif auth == "l2":
            headers.update(l2_headers(self._need_creds(), self._need_wallet().address, method, path, content))
        query = {k: v for k, v in (params or {}).items() if v is not None}
        return self._http.build_request(
            method,
            url + path,
            params=query,
            content=content,
            headers=headers,
            extensions=lane_if(kind is not RequestKind.READ),
        )

    def _interpret(self, response: httpx.Response, kind: RequestKind, *, order_lookup: bool = False) -> Any:
        """The answer's JSON, or the venue error it stands for."""
        what = f"{response.request.method} {response.request.url.path}"
        if response.status_code >= 400:
            failure = error_for_response(
                response.status_code, response.content, response.headers, order_lookup=order_lookup
            )
            if isinstance(failure, RateLimitedError):
                self._limiter.penalize(kind, failure.retry_after)
            raise failure
        if not response.content:
            return None
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            if order_lookup:
                return None
            raise PolymarketParseError(f"{what}: response is not JSON: {response.text[:200]!r}") from None

    async def _request(
        self,
        method: str,
        url: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: object = None,
        kind: RequestKind = RequestKind.READ,
        cost: float = 1.0,
        auth: str = "",
        nonce: int = 0,
        order_lookup: bool = False,
    ) -> Any:
        request = self._build(method, url, path, params=params, body=body, kind=kind, auth=auth, nonce=nonce)
        response = await self._exchange(request, kind, cost)
        return self._interpret(response, kind, order_lookup=order_lookup)

    def _need_wallet(self) -> Wallet:
        if self.wallet is None:
            raise VenueError(V, "this call needs a wallet (private key)")
        return self.wallet

    def _need_signer(self) -> OrderSigner:
        if self.signer is None:
            raise VenueError(V, "placing orders needs a wallet (private key)")
        return self.signer

    def _need_creds(self) -> ApiCreds:
        if self.creds is None:
            raise VenueError(V, "this call needs API credentials (create or derive them first)")
        return self.creds

    async def _clob(self, method: str, path: str, **kw: Any) -> Any:
        return await self._request(method, self.clob_url, path, **kw)

    # --- API credentials (L1) ----------------------------------------------------------------

    @staticmethod
    def _creds(body: Any) -> ApiCreds:
        try:
            return ApiCreds(body["apiKey"], body["secret"], body["passphrase"])
        except (KeyError, TypeError):
            raise PolymarketParseError(f"API credentials answer malformed: {str(body)[:200]}") from None

    async def create_api_key(self, nonce: int = 0) -> ApiCreds:
        return self._creds(await self._clob("POST", "/auth/api-key", auth="l1", nonce=nonce, kind=RequestKind.WRITE))

    async def derive_api_key(self, nonce: int = 0) -> ApiCreds:
        return self._creds(await self._clob("GET", "/auth/derive-api-key", auth="l1", nonce=nonce))

    async def create_or_derive_api_key(self, nonce: int = 0) -> ApiCreds:
        """Creating fails when a key already exists for the nonce; then derive it. Sets `creds`."""
        try:
            self.creds = await self.create_api_key(nonce)
        except VenueError as exc:
            if exc.retryable:
                raise
            self.creds = await self.derive_api_key(nonce)
        return self.creds

    # --- public market data --------------------------------------------------------------------

    async def get_book(self, token_id: str) -> BookEvent:
        return parse.book_response(await self._clob("GET", "/book", params={"token_id": token_id}))

    async def get_markets_page(self, cursor: str = FIRST_CURSOR) -> parse.MarketPage:
        return parse.clob_markets_page(await self._clob("GET", "/markets", params={"next_cursor": cursor}))

    async def iter_markets(self, cursor: str = FIRST_CURSOR) -> AsyncIterator[parse.MarketPage]:
        """Every page of CLOB `GET /markets` until the `LTE=` end cursor."""
        while True:
            page = await self.get_markets_page(cursor)
            yield page
            if page.is_last or page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def get_market(self, condition_id: str) -> Market:
        market = self._markets.get(condition_id)
        if market is None:
            market = parse.clob_market(await self._clob("GET", f"/markets/{condition_id}"))
            self._markets[condition_id] = market
        return market

    def remember_market(self, market: Market) -> None:
        """Seed the market cache (e.g. from Gamma) so placing an order needs no extra lookup."""
        self._markets[market.market_id] = market

    async def get_fee_rate_bps(self, token_id: str) -> int:
        """The fee rate the venue requires in signed orders for this token (0 on fee-free markets)."""
        rate = self._fee_rates.get(token_id)
        if rate is None:
            body = await self._clob("GET", "/fee-rate", params={"token_id": token_id})
            rate = int((body or {}).get("base_fee") or 0)
            self._fee_rates[token_id] = rate
        return rate

    async def _gamma_pages(
        self, path: str, params: Mapping[str, Any], page_size: int, convert: Any
    ) -> AsyncIterator[parse.MarketPage]:
        offset = 0
        while True:
            raw = await self._request(
                "GET", self.gamma_url, path, params={**params, "limit": page_size, "offset": offset}
            )
            page = convert(raw)
            yield page
            count = len(raw) if isinstance(raw, list) else 0
            if count < page_size:
                return
            offset += page_size

    def iter_gamma_markets(
        self, params: Mapping[str, Any] | None = None, *, page_size: int = 100
    ) -> AsyncIterator[parse.MarketPage]:
        """Gamma `GET /markets` (filters such as `closed=false`, `tag_id`) page by page (offset paging)."""
        return self._gamma_pages("/markets", params or {}, page_size, parse.gamma_markets)

    def iter_gamma_events(
        self, params: Mapping[str, Any] | None = None, *, page_size: int = 100
    ) -> AsyncIterator[parse.MarketPage]:
        """Gamma `GET /events` page by page; each page holds the markets of its events."""
        return self._gamma_pages("/events", params or {}, page_size, parse.gamma_events)

    # --- orders (L2) ---------------------------------------------------------------------------

    async def post_order(
        self, order: SignedOrder, order_type: OrderType = OrderType.GTC, *, post_only: bool = False
    ) -> PostOrderResult:
        raw = await self._clob(
            "POST", "/order", body=self._order_body(order, order_type, post_only), auth="l2", kind=RequestKind.WRITE
        )
        return _post_result(raw)

    def _order_body(self, order: SignedOrder, order_type: OrderType, post_only: bool) -> dict[str, Any]:
        return order_body(order, self._need_creds().api_key, order_type, post_only)

    async def post_orders(
        self, orders: Sequence[tuple[SignedOrder, OrderType, bool]]
    ) -> list[PostOrderResult | VenueError]:
        """Batch `POST /orders`; each element is the order's result or its typed rejection."""
        owner = self._need_creds().api_key
        body = [order_body(order, owner, order_type, post_only) for order, order_type, post_only in orders]
        raw = await self._clob("POST", "/orders", body=body, auth="l2", kind=RequestKind.WRITE, cost=len(body))
        if not isinstance(raw, list):
            raise PolymarketParseError(f"POST /orders answered {str(raw)[:200]}")
        results: list[PostOrderResult | VenueError] = []
        for item in raw:
            result = parse.post_order_result(item)
            if result.success or _is_fok_kill(result.error_msg):
                results.append(result)
            else:
                results.append(error_for_message(result.error_msg or "order rejected", body=str(item)[:2000]))
        return results

    async def cancel(self, order_id: str) -> CancelResult:
        body = {"orderID": order_id}
        return parse.cancel_result(await self._clob("DELETE", "/order", body=body, auth="l2", kind=RequestKind.CANCEL))

    async def cancel_many(self, order_ids: Sequence[str]) -> CancelResult:
        raw = await self._clob(
            "DELETE", "/orders", body=list(order_ids), auth="l2", kind=RequestKind.CANCEL, cost=max(1, len(order_ids))
        )
        return parse.cancel_result(raw)

    async def cancel_all(self) -> CancelResult:
        return parse.cancel_result(await self._clob("DELETE", "/cancel-all", auth="l2", kind=RequestKind.CANCEL))

    async def get_order(self, order_id: str) -> OpenOrder:
        raw = await self._clob("GET", f"/data/order/{order_id}", auth="l2", order_lookup=True)
        if not raw:
            raise OrderNotFoundError(V, f"order {order_id} not found")
        return parse.open_order(raw)

    async def _cursor_pages(self, path: str, params: Mapping[str, Any]) -> AsyncIterator[list[Any]]:
        cursor = FIRST_CURSOR
        while cursor != parse.END_CURSOR:
            raw = await self._clob("GET", path, params={**params, "next_cursor": cursor}, auth="l2")
            if not isinstance(raw, dict) or not isinstance(raw.get("data"), list):
                raise PolymarketParseError(f"GET {path} answered {str(raw)[:200]}")
            yield raw["data"]
            cursor = raw.get("next_cursor") or parse.END_CURSOR

    async def get_open_orders(self, *, market: str | None = None, asset_id: str | None = None) -> list[OpenOrder]:
        orders: list[OpenOrder] = []
        async for page in self._cursor_pages("/data/orders", {"market": market, "asset_id": asset_id}):
            orders.extend(parse.open_order(o) for o in page)
        return orders

    async def get_trades(
        self, *, market: str | None = None, asset_id: str | None = None, after: int | None = None
    ) -> list[UserTradeEvent]:
        trades: list[UserTradeEvent] = []
        async for page in self._cursor_pages("/data/trades", {"market": market, "asset_id": asset_id, "after": after}):
            trades.extend(parse.trade(t) for t in page)
        return trades

    # --- TradingClient -------------------------------------------------------------------------

    async def _signed(self, intent: OrderIntent) -> SignedOrder:
        """The signed order of `intent`, remembered so every retry in this process re-sends those exact bytes.

        Re-signing gives the same order only while the market's tick size and fee
        rate stay the same; remembering it removes that condition within a process.
        """
        signed = self._signed_orders.get(intent.client_order_id)
        if signed is None:
            market = await self.get_market(intent.market_id)
            fee = await self.get_fee_rate_bps(intent.token_id)
            signed = self._need_signer().sign_intent(intent, market, fee_rate_bps=fee)
            self._signed_orders[intent.client_order_id] = signed
            if len(self._signed_orders) > SIGNED_ORDERS_KEPT:
                self._signed_orders.popitem(last=False)
        return signed

    async def prepare_send_ahead(self, intent: OrderIntent) -> None:
        """Sign the order (the EIP-712 signature is ~0.25 ms) and build its signed request, ready to go."""
        request, signed = await self._order_request(intent)
        self._prepared.keep(intent.client_order_id, (self.ahead(request), signed))

    async def _order_request(self, intent: OrderIntent) -> tuple[httpx.Request, SignedOrder]:
        """`POST /order` of the intent's signed order, with its L2 headers."""
        signed = await self._signed(intent)
        body = self._order_body(signed, ORDER_TYPE_FOR[intent.time_in_force], intent.post_only)
        return self._build("POST", self.clob_url, "/order", body=body, kind=RequestKind.WRITE, auth="l2"), signed

    def send_ahead(self, intent: OrderIntent) -> Awaitable[Order] | None:
        prepared = self._prepared.peek(intent.client_order_id)
        sent = None if prepared is None else self._send_now(prepared[0], RequestKind.WRITE)
        if prepared is None or sent is None:
            return None
        self._prepared.take(intent.client_order_id)
        return self._placed(intent, prepared[1], sent)

    async def place_order(self, intent: OrderIntent) -> Order:
        request, signed = self._prepared.take(intent.client_order_id) or await self._order_request(intent)
        return await self._placed(intent, signed, self._exchange(request, RequestKind.WRITE))

    async def _placed(self, intent: OrderIntent, signed: SignedOrder, answer: Awaitable[httpx.Response]) -> Order:
        """The order as placed, from its `POST /order` answer; a killed FOK order is a cancelled order."""
        try:
            result = _post_result(self._interpret(await answer, RequestKind.WRITE))
        except VenueError as exc:
            if intent.time_in_force is TimeInForce.FOK and _is_fok_kill(str(exc)):
                return Order(
                    intent=intent, venue_order_id=signed.order_hash, status=OrderStatus.CANCELED, reject_reason=str(exc)
                )
            raise
        return _order_from_post(intent, signed, result)

    async def find_order(self, intent: OrderIntent) -> Order | None:
        signed = await self._signed(intent)
        try:
            open_order = await self.get_order(signed.order_hash)
        except OrderNotFoundError:
            return None
        return _order_from_open(intent, open_order)

    async def cancel_order(self, order: Order) -> Order:
        if order.venue_order_id is None:
            raise OrderNotFoundError(V, f"order {order.intent.client_order_id} has no venue order id")
        result = await self.cancel(order.venue_order_id)
        try:
            return _order_from_open(order.intent, await self.get_order(order.venue_order_id))
        except OrderNotFoundError:
            if order.venue_order_id in result.canceled:
                return order.model_copy(update={"status": OrderStatus.CANCELED})
            raise

    async def market_book(self, market_id: str, token_id: str) -> BookSnapshot:
        """A fresh REST snapshot as a normalized YES book (a NO token's book, if the market is known, is mirrored)."""
        event = await self.get_book(token_id)
        market = self._markets.get(market_id)
        bids, asks = event.bids, event.asks
        if market is not None and token_id == market.no_token:
            bids, asks = [(ONE - p, q) for p, q in event.asks], [(ONE - p, q) for p, q in event.bids]
        book = OrderBook(V, market_id)
        book.replace(bids, asks, at=datetime.fromtimestamp(event.timestamp_ms / 1000, UTC), hash=event.hash)
        return book.snapshot()

    async def get_balance(self) -> Balance:
        """USDC on the CLOB account; `available` leaves out what open BUY orders reserve."""
        signature_type = self.signer.signature_type if self.signer else 0
        raw = await self._clob(
            "GET",
            "/balance-allowance",
            params={"asset_type": "COLLATERAL", "signature_type": signature_type},
            auth="l2",
        )
        try:
            total = micro_to_dollars(int(raw["balance"]))
        except (KeyError, TypeError, ValueError):
            raise PolymarketParseError(f"balance answer malformed: {str(raw)[:200]}") from None
        reserved = sum(
            ((o.original_size - o.size_matched) * o.price for o in await self.get_open_orders() if o.is_buy),
            Decimal(0),
        )
        return Balance(venue=V, total=total, available=max(Decimal(0), total - reserved))

    async def get_positions(self, user: str | None = None) -> list[Position]:
        """Token holdings from the Data API (`/positions`): the funder wallet's, or any wallet's (a leader's:
        the Data API is public)."""
        if user is None:
            user = self.signer.maker if self.signer else self._need_wallet().address
        positions: list[Position] = []
        offset, page_size = 0, 500
        while True:
            raw = await self._request(
                "GET", self.data_url, "/positions", params={"user": user, "limit": page_size, "offset": offset}
            )
            if not isinstance(raw, list):
                raise PolymarketParseError(f"positions answer is not a list: {str(raw)[:200]}")
            positions.extend(_position(p) for p in raw)
            if len(raw) < page_size:
                return positions
            offset += page_size

    async def wallet_activity_page(
        self, wallet: str, *, start_s: int, offset: int = 0, limit: int = 100, kinds: Sequence[str] = ("TRADE",)
    ) -> tuple[list[WalletActivity], int]:
        """One page of a wallet's Data API `/activity` from `start_s` (inclusive), oldest first, and how many
        rows it had. A row that does not parse is left out and counted in the second number's difference
        (rows returned minus rows parsed), so one bad row never hides the rest of the page."""
        raw = await self._request(
            "GET",
            self.data_url,
            "/activity",
            params={
                "user": wallet,
                "type": ",".join(kinds),
                "start": start_s,
                "sortBy": "TIMESTAMP",
                "sortDirection": "ASC",
                "limit": limit,
                "offset": offset,
            },
        )
        if not isinstance(raw, list):
            raise PolymarketParseError(f"activity answer is not a list: {str(raw)[:200]}")
        rows = []
        for item in raw:
            try:
                rows.append(parse.wallet_activity(item))
            except PolymarketParseError as exc:
                log.warning("polymarket activity row rejected: %s", exc)
        return rows, len(raw)


def _post_result(raw: Any) -> PostOrderResult:
    """A `POST /order` answer; a refusal other than a killed FOK order raises its venue error."""
    result = parse.post_order_result(raw)
    if not result.success and not _is_fok_kill(result.error_msg):
        raise error_for_message(result.error_msg or "order rejected", body=str(raw)[:2000])
    return result


def _is_fok_kill(message: str) -> bool:
    lowered = message.lower()
    return any(k in lowered for k in _FOK_KILLED)


def _order_from_post(intent: OrderIntent, signed: SignedOrder, result: PostOrderResult) -> Order:
    """Domain view right after `POST /order`: filled amounts come from making/taking amounts."""
    order_id = result.order_id or signed.order_hash
    if not result.success:
        return Order(
            intent=intent, venue_order_id=order_id, status=OrderStatus.CANCELED, reject_reason=result.error_msg
        )
    status = {"live": OrderStatus.OPEN, "delayed": OrderStatus.PENDING, "unmatched": OrderStatus.REJECTED}.get(
        result.status, OrderStatus.UNKNOWN
    )
    filled, average = Decimal(0), None
    if result.status == "matched":
        shares = result.taking_amount if intent.side is Side.BUY else result.making_amount
        usdc = result.making_amount if intent.side is Side.BUY else result.taking_amount
        filled = shares or Decimal(0)
        if filled and usdc is not None:
            average = usdc / filled
        if filled >= intent.quantity:
            status = OrderStatus.FILLED
        elif intent.time_in_force in (TimeInForce.FAK, TimeInForce.FOK):
            status = OrderStatus.CANCELED
        else:
            status = OrderStatus.PARTIALLY_FILLED
    return Order(
        intent=intent,
        venue_order_id=order_id,
        status=status,
        filled_quantity=min(filled, intent.quantity),
        average_price=average,
    )


def _order_from_open(intent: OrderIntent, venue: OpenOrder) -> Order:
    matched = venue.size_matched
    if venue.status == "MATCHED":
        if matched >= venue.original_size:
            status = OrderStatus.FILLED
        elif venue.order_type in ("FAK", "FOK"):
            status = OrderStatus.CANCELED
        else:
            status = OrderStatus.PARTIALLY_FILLED
    else:
        status = _OPEN_ORDER_STATUS.get(venue.status, OrderStatus.UNKNOWN)
        if status is OrderStatus.OPEN and matched > 0:
            status = OrderStatus.PARTIALLY_FILLED
    return Order(intent=intent, venue_order_id=venue.order_id, status=status, filled_quantity=matched)


def _position(raw: Mapping[str, Any]) -> Position:
    try:
        outcome_text = str(raw.get("outcome", "")).lower()
        if outcome_text in ("yes", "no"):
            outcome = Outcome.YES if outcome_text == "yes" else Outcome.NO
        else:
            outcome = Outcome.YES if int(raw.get("outcomeIndex", 0)) == 0 else Outcome.NO
        return Position(
            venue=V,
            market_id=raw["conditionId"],
            outcome=outcome,
            quantity=parse.size(raw["size"]),
            cost_basis=parse.size(raw.get("initialValue") or 0),
            realized_pnl=parse.number(raw.get("realizedPnl") or 0, "realizedPnl"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, PolymarketParseError):
            raise
        raise PolymarketParseError(f"position malformed: {exc}") from None
