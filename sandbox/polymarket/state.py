"""Everything a sandbox Polymarket knows: markets, API keys, wallets, orders, trades, subscribers.

All of it lives in one `PolymarketState` that every route and socket shares. Its
methods are synchronous and run on the event loop, so each one is atomic: an
order is validated, matched and published before anything else happens.

Accounts in the shared `sandbox.ledger.Ledger` are keyed by the funder address
(the order's `maker`, which is where Polymarket takes money from). An API key
belongs to the signer address that created it; a signer trades for itself
(signature type 0) or for the funder mapped to it with `map_funder` (types 1, 2).

Order flow, as on the venue: verify the EIP-712 signature, check the signer
against the API key, derive price and size from the signed amounts, then hand the
order to the market's `MatchingEngine` and turn its events into records
(`/data/orders`, `/data/trades`, Data API activity) and WebSocket messages.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from eth_utils import keccak, to_checksum_address

from domain.models import OrderStatus, Outcome, Side, TimeInForce, utc_now
from domain.money import MICRO, ONE, ZERO, Rounding, micro_to_dollars, quantize
from sandbox.engine import (
    BookSide,
    CancelReason,
    Event,
    Execution,
    LevelChanged,
    MarketRules,
    MatchingEngine,
    OrderCanceled,
    OrderNotOpenError,
    OrderRequest,
    OrderRested,
    OrderView,
    RejectReason,
    Trade,
    UnknownOrderError,
)
from sandbox.engine import TradeLeg as EngineLeg
from sandbox.faults import FaultInjector
from sandbox.ledger import Ledger, PolymarketFees
from sandbox.polymarket.signing import (
    ApiCredentials,
    SignatureError,
    SignedOrder,
    derive_credentials,
    recover_clob_auth,
    verify_hmac,
)
from sandbox.polymarket.wire import ClobError, book_hash, levels_hash, num, unix_ms, unix_s, wire_float

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
HOUSE = "sandbox-house"
GTD_SECURITY_SECONDS = 60
L1_MAX_AGE_S = 300
HEARTBEAT_TIMEOUT_S = 10
MAX_BACKLOG = 100_000
OVERFLOW = "\x00overflow"
ORDER_TYPES = {"GTC": TimeInForce.GTC, "GTD": TimeInForce.GTD, "FOK": TimeInForce.FOK, "FAK": TimeInForce.FAK}

MSG_INVALID_PAYLOAD = "Invalid order payload"
MSG_INVALID_SIGNATURE = "invalid signature"
MSG_SIGNER_NOT_KEY = "the order signer address has to be the address of the API KEY"
MSG_OWNER_NOT_KEY = "the order owner has to be the owner of the API KEY"
MSG_BALANCE = "not enough balance / allowance"
MSG_EXPIRATION = "invalid expiration"
MSG_DUPLICATED = "order is invalid. Duplicated. Same order has already been placed, can't be placed again"
MSG_FOK = "order couldn't be fully filled. FOK orders are fully filled or killed."
MSG_FAK = "no orders found to match with FAK order"
MSG_POST_ONLY = "invalid post-only order: order crosses book"
MSG_NOT_READY = "the market is not yet ready to process new orders"
MSG_UNAUTHORIZED = "Unauthorized/Invalid api key"
MSG_L1 = "Invalid L1 Request headers"


@dataclass(eq=False)
class SandboxMarket:
    """One binary market: its CLOB and Gamma facts and its matching engine."""

    condition_id: str
    question: str
    yes_token: str
    no_token: str
    engine: MatchingEngine
    gamma_id: str
    outcomes: tuple[str, str] = ("Yes", "No")
    neg_risk: bool = False
    fee_rate_bps: int = 0
    end_date: datetime | None = None
    description: str = ""
    slug: str = ""
    event_id: str = ""
    event_slug: str = ""
    event_title: str = ""
    active: bool = True
    closed: bool = False
    winner: Outcome | None = None
    gamma_extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tick_size(self) -> Decimal:
        return self.engine.rules.tick_size

    @property
    def min_size(self) -> Decimal:
        return self.engine.rules.min_size

    def outcome_of(self, token_id: str) -> Outcome:
        return Outcome.YES if token_id == self.yes_token else Outcome.NO

    def token_of(self, outcome: Outcome) -> str:
        return self.yes_token if outcome is Outcome.YES else self.no_token

    def label(self, outcome: Outcome) -> str:
        return self.outcomes[0] if outcome is Outcome.YES else self.outcomes[1]

    def index(self, outcome: Outcome) -> int:
        return 0 if outcome is Outcome.YES else 1


@dataclass(eq=False)
class OrderRecord:
    """What the venue keeps about one placed order, beyond the engine's state."""

    order_id: str
    market: SandboxMarket
    token_id: str
    outcome: Outcome
    side: str
    price: Decimal
    size: Decimal
    owner: str | None
    maker_address: str
    signer: str
    order_type: str
    expiration: int
    created_at: datetime
    associate_trades: list[str] = field(default_factory=list)
    placed: bool = False


@dataclass(frozen=True, slots=True)
class TradeLeg:
    order_id: str
    owner: str | None
    address: str
    token_id: str
    outcome: Outcome
    side: str
    price: Decimal
    fee: Decimal


@dataclass(frozen=True, slots=True)
class TradeRecord:
    trade_id: str
    market: SandboxMarket
    size: Decimal
    taker: TradeLeg
    maker: TradeLeg
    match_time: datetime
    transaction_hash: str


@dataclass(eq=False)
class Subscriber:
    """One WebSocket: what it listens to and the outbox its writer task drains.

    A reader that falls `MAX_BACKLOG` messages behind gets `OVERFLOW` and is
    disconnected, as a venue would, instead of growing memory without bound.
    """

    channel: str
    assets: set[str] = field(default_factory=set)
    api_key: str | None = None
    markets: set[str] | None = None
    custom_features: bool = False
    # RTDS: the (topic, type) pairs subscribed ("*" for every type) and their market/event slug filters
    rtds: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    outbox: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    overflowed: bool = False

    def deliver(self, text: str) -> None:
        if self.overflowed:
            return
        if self.outbox.qsize() >= MAX_BACKLOG:
            self.overflowed = True
            text = OVERFLOW
        self.outbox.put_nowait(text)


@dataclass(frozen=True, slots=True)
class Activity:
    """One Data API activity row of a wallet, and whether the wallet was the taker (`/trades?takerOnly`)."""

    taker: bool
    row: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PlaceResult:
    body: dict[str, Any]


def _side_of(side: str) -> Side:
    return Side.BUY if side == "BUY" else Side.SELL


class PolymarketState:
    """The whole sandbox venue; one instance per server."""

    def __init__(
        self,
        *,
        chain_id: int = 137,
        clock: Callable[[], datetime] = utc_now,
        l2_max_age_s: int = 30,
        faults: FaultInjector | None = None,
    ) -> None:
        self.chain_id = chain_id
        self.clock = clock
        self.l2_max_age_s = l2_max_age_s
        self.faults = faults or FaultInjector("polymarket")
        self.ledger = Ledger()
        self.markets: dict[str, SandboxMarket] = {}
        self.tokens: dict[str, SandboxMarket] = {}
        self.orders: dict[str, OrderRecord] = {}
        self.trades: list[TradeRecord] = []
        self.activity: list[Activity] = []
        self.credentials: dict[str, ApiCredentials] = {}
        self.funders: dict[str, str] = {}
        self.subscribers: set[Subscriber] = set()
        self.heartbeats: dict[str, datetime] = {}
        self._best: dict[str, tuple[Decimal | None, Decimal | None]] = {}
        self._server_secret = secrets.token_bytes(32)
        self._created: set[tuple[str, int]] = set()
        self._gamma_ids = 0

    # ---- markets -------------------------------------------------------------------------

    def add_market(
        self,
        *,
        question: str,
        condition_id: str | None = None,
        yes_token: str | None = None,
        no_token: str | None = None,
        tick_size: Decimal = Decimal("0.01"),
        min_size: Decimal = Decimal(5),
        neg_risk: bool = False,
        fee_rate_bps: int = 0,
        **facts: Any,
    ) -> SandboxMarket:
        condition_id = condition_id or "0x" + secrets.token_hex(32)
        yes_token = yes_token or str(int.from_bytes(secrets.token_bytes(31), "big"))
        no_token = no_token or str(int.from_bytes(secrets.token_bytes(31), "big"))
        if condition_id in self.markets or yes_token in self.tokens or no_token in self.tokens:
            raise ValueError("market or token already exists")
        if yes_token == no_token:
            raise ValueError("YES and NO tokens must differ")
        if len(facts.get("outcomes", ("Yes", "No"))) != 2:
            raise ValueError("a binary market has exactly two outcomes")
        fees = PolymarketFees(Decimal(fee_rate_bps) / 10_000)
        engine = MatchingEngine(
            MarketRules(condition_id, tick_size=tick_size, min_size=min_size),
            self.ledger,
            fees,
            clock=lambda: self.clock(),
        )
        self._gamma_ids += 1
        market = SandboxMarket(
            condition_id=condition_id,
            question=question,
            yes_token=yes_token,
            no_token=no_token,
            engine=engine,
            gamma_id=str(facts.pop("gamma_id", None) or self._gamma_ids),
            neg_risk=neg_risk,
            fee_rate_bps=fee_rate_bps,
            **facts,
        )
        market.slug = market.slug or f"sandbox-market-{market.gamma_id}"
        market.event_id = market.event_id or market.gamma_id
        market.event_slug = market.event_slug or market.slug
        market.event_title = market.event_title or question
        engine.closed = market.closed or not market.active
        self.markets[condition_id] = market
        self.tokens[yes_token] = market
        self.tokens[no_token] = market
        return market

    def market_for_token(self, token_id: str | None) -> SandboxMarket:
        if not token_id:
            raise ClobError(400, "Invalid token id")
        market = self.tokens.get(token_id)
        if market is None:
            raise ClobError(404, "No orderbook exists for the requested token id")
        return market

    def seed_book(
        self,
        market: SandboxMarket,
        bids: list[tuple[Decimal, Decimal]],
        asks: list[tuple[Decimal, Decimal]],
        *,
        token_id: str | None = None,
    ) -> None:
        """Rest liquidity from the house account; levels are (price, size) of `token_id` (YES by default)."""
        outcome = market.outcome_of(token_id) if token_id else Outcome.YES
        for side, levels in ((Side.BUY, bids), (Side.SELL, asks)):
            for price, size in levels:
                if side is Side.BUY:
                    self.ledger.deposit(HOUSE, price * size)
                else:
                    self.ledger.grant_position(HOUSE, market.condition_id, outcome, size)
                execution = market.engine.submit(OrderRequest(HOUSE, outcome, side, price, size))
                if execution.order.reject_reason is not None:
                    raise ValueError(f"seed level {price} x {size} rejected: {execution.order.reject_reason}")
                self.publish(market, execution.events)

    # ---- accounts ------------------------------------------------------------------------

    def fund(self, address: str, usdc_micro: int = 0, positions: dict[str, Decimal] | None = None) -> None:
        """Credit cash and tokens; checked first so that a bad token or amount changes nothing."""
        owner = to_checksum_address(address)
        grants = [(self.market_for_token(token_id), token_id, size) for token_id, size in (positions or {}).items()]
        if usdc_micro < 0 or any(size < 0 for _, _, size in grants):
            raise ValueError("funding amounts must not be negative")
        if usdc_micro:
            self.ledger.deposit(owner, micro_to_dollars(usdc_micro))
        for market, token_id, size in grants:
            self.ledger.grant_position(owner, market.condition_id, market.outcome_of(token_id), size)

    def account_view(self, address: str) -> dict[str, Any]:
        owner = to_checksum_address(address)
        acct = self.ledger.account(owner)
        positions = {}
        for (condition_id, outcome), holding in acct.positions.items():
            market = self.markets.get(condition_id)
            if market is None or (holding.quantity == 0 and holding.reserved == 0):
                continue
            positions[market.token_of(outcome)] = {
                "market": condition_id,
                "outcome": market.label(outcome),
                "size": num(holding.quantity),
                "reserved": num(holding.reserved),
            }
        return {
            "address": owner,
            "usdc": int(acct.cash / MICRO),
            "usdc_available": int(acct.available_cash / MICRO),
            "positions": positions,
        }

    def map_funder(self, signer: str, funder: str) -> None:
        self.funders[to_checksum_address(signer)] = to_checksum_address(funder)

    # ---- auth ----------------------------------------------------------------------------

    def _check_l1(self, headers: dict[str, str]) -> tuple[str, int]:
        try:
            address = to_checksum_address(headers["poly_address"])
            timestamp = headers["poly_timestamp"]
            nonce = int(headers.get("poly_nonce") or 0)
            signer = recover_clob_auth(address, timestamp, nonce, headers["poly_signature"], self.chain_id)
            fresh = abs(unix_s(self.clock()) - int(timestamp)) <= L1_MAX_AGE_S
        except (KeyError, ValueError, SignatureError) as exc:
            raise ClobError(401, MSG_L1) from exc
        if signer != address or not fresh or nonce < 0:
            raise ClobError(401, MSG_L1)
        return address, nonce

    def create_api_key(self, headers: dict[str, str]) -> dict[str, str]:
        address, nonce = self._check_l1(headers)
        if (address, nonce) in self._created:
            raise ClobError(400, "Could not create api key")
        creds = derive_credentials(self._server_secret, address, nonce)
        self._created.add((address, nonce))
        self.credentials[creds.api_key] = creds
        return creds.as_json()

    def derive_api_key(self, headers: dict[str, str]) -> dict[str, str]:
        address, nonce = self._check_l1(headers)
        if (address, nonce) not in self._created:
            raise ClobError(400, "Could not derive api key!")
        return derive_credentials(self._server_secret, address, nonce).as_json()

    def authenticate(self, headers: dict[str, str], method: str, path: str, body: str) -> ApiCredentials:
        """L2: the key must exist, match address and passphrase, be fresh and carry a valid HMAC."""
        creds = self.credentials.get(headers.get("poly_api_key", ""))
        if creds is None:
            raise ClobError(401, MSG_UNAUTHORIZED)
        try:
            address = to_checksum_address(headers["poly_address"])
            timestamp = headers["poly_timestamp"]
            age = abs(unix_s(self.clock()) - int(timestamp))
            signed = verify_hmac(creds.secret, timestamp, method, path, body, headers["poly_signature"])
        except (KeyError, ValueError) as exc:
            raise ClobError(401, MSG_UNAUTHORIZED) from exc
        if (
            address != creds.address
            or headers.get("poly_passphrase") != creds.passphrase
            or age > self.l2_max_age_s
            or not signed
        ):
            raise ClobError(401, MSG_UNAUTHORIZED)
        return creds

    # ---- orders --------------------------------------------------------------------------

    def place_order(self, creds: ApiCredentials, payload: Any, *, fill_ratio: Decimal | None = None) -> PlaceResult:
        """Validate, match and record one `POST /order` payload; raise ClobError for a rejection."""
        if not isinstance(payload, dict) or not isinstance(payload.get("order"), dict):
            raise ClobError(400, MSG_INVALID_PAYLOAD)
        try:
            order = SignedOrder.parse(payload["order"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ClobError(400, MSG_INVALID_PAYLOAD) from exc
        order_type = str(payload.get("orderType", "GTC")).upper()
        if order_type not in ORDER_TYPES:
            raise ClobError(400, MSG_INVALID_PAYLOAD)
        post_only = bool(payload.get("postOnly", False))
        if payload.get("owner") != creds.api_key:
            raise ClobError(400, MSG_OWNER_NOT_KEY)
        market = self.tokens.get(order.token_id)
        if market is None:
            raise ClobError(400, "Invalid token id")
        try:
            order_id, recovered = order.verify(self.chain_id, market.neg_risk)
        except SignatureError as exc:
            raise ClobError(400, MSG_INVALID_SIGNATURE) from exc
        if recovered != order.signer:
            raise ClobError(400, MSG_INVALID_SIGNATURE)
        if order.signer != creds.address:
            raise ClobError(400, MSG_SIGNER_NOT_KEY)
        expected_maker = order.signer if order.signature_type == 0 else self.funders.get(order.signer)
        if order.maker != expected_maker:
            raise ClobError(400, MSG_INVALID_SIGNATURE)
        if order_id in self.orders:
            raise ClobError(400, MSG_DUPLICATED)
        if market.closed or not market.active:
            raise ClobError(400, MSG_NOT_READY)
        if market.fee_rate_bps and order.fee_rate_bps != market.fee_rate_bps:
            raise ClobError(
                400, f"invalid fee rate ({order.fee_rate_bps}), current market's taker fee: {market.fee_rate_bps}"
            )
        record, request = self._order_request(creds, order, order_id, market, order_type, post_only)
        if fill_ratio is not None and not post_only:
            capped = max(quantize(request.quantity * fill_ratio, MICRO, Rounding.DOWN), market.min_size)
            if capped < request.quantity:
                request = replace(request, quantity=capped, time_in_force=TimeInForce.FAK, expires_at=None)
                self.faults.note_partial_fill()
        execution = market.engine.submit(request)
        if execution.order.status is OrderStatus.REJECTED:
            raise ClobError(400, self._reject_message(execution.order, market))
        self.orders[order_id] = record
        self.publish(market, execution.events)
        return PlaceResult(self._place_body(record, execution))

    def _order_request(
        self,
        creds: ApiCredentials,
        order: SignedOrder,
        order_id: str,
        market: SandboxMarket,
        order_type: str,
        post_only: bool,
    ) -> tuple[OrderRecord, OrderRequest]:
        tif = ORDER_TYPES[order_type]
        price, size = _implied_limit(order, market.tick_size, marketable=tif in (TimeInForce.FOK, TimeInForce.FAK))
        if price % market.tick_size != 0 or not market.tick_size <= price <= ONE - market.tick_size:
            raise ClobError(400, f"Price ({num(price)}) breaks minimum tick size rule: {num(market.tick_size)}")
        now = self.clock()
        expires_at = None
        if tif is TimeInForce.GTD:
            expires_at = datetime.fromtimestamp(order.expiration - GTD_SECURITY_SECONDS, UTC)
            if order.expiration == 0 or expires_at <= now:
                raise ClobError(400, MSG_EXPIRATION)
        outcome = market.outcome_of(order.token_id)
        record = OrderRecord(
            order_id=order_id,
            market=market,
            token_id=order.token_id,
            outcome=outcome,
            side=order.side,
            price=price,
            size=size,
            owner=creds.api_key,
            maker_address=order.maker,
            signer=order.signer,
            order_type=order_type,
            expiration=order.expiration,
            created_at=now,
        )
        request = OrderRequest(
            owner=order.maker,
            outcome=outcome,
            side=_side_of(order.side),
            price=price,
            quantity=size,
            time_in_force=tif,
            expires_at=expires_at,
            order_id=order_id,
            post_only=post_only,
        )
        return record, request

    @staticmethod
    def _reject_message(view: OrderView, market: SandboxMarket) -> str:
        reason = view.reject_reason
        req = view.request
        if reason is RejectReason.INVALID_TICK:
            return f"Price ({num(req.price)}) breaks minimum tick size rule: {num(market.tick_size)}"
        if reason is RejectReason.BELOW_MIN_SIZE:
            return f"Size ({num(req.quantity)}) lower than the minimum: {num(market.min_size)}"
        messages = {
            RejectReason.INSUFFICIENT_BALANCE: MSG_BALANCE,
            RejectReason.INSUFFICIENT_POSITION: MSG_BALANCE,
            RejectReason.FOK_NOT_FILLED: MSG_FOK,
            RejectReason.POST_ONLY_WOULD_CROSS: MSG_POST_ONLY,
            RejectReason.INVALID_EXPIRATION: MSG_EXPIRATION,
            RejectReason.DUPLICATE_ORDER_ID: MSG_DUPLICATED,
            RejectReason.MARKET_CLOSED: MSG_NOT_READY,
        }
        return messages.get(reason, MSG_INVALID_PAYLOAD) if reason is not None else MSG_INVALID_PAYLOAD

    def _place_body(self, record: OrderRecord, execution: Execution) -> dict[str, Any]:
        view = execution.order
        fills = [e for e in execution.events if isinstance(e, Trade) and e.taker.order.order_id == view.order_id]
        if view.request.time_in_force is TimeInForce.FAK and not fills:
            raise ClobError(400, MSG_FAK)
        shares = sum((t.quantity for t in fills), ZERO)
        usdc = sum((t.taker.price * t.quantity for t in fills), ZERO)
        making, taking = (usdc, shares) if record.side == "BUY" else (shares, usdc)
        hashes = [self.trade(t.trade_id).transaction_hash for t in fills]
        return {
            "errorMsg": "",
            "orderID": record.order_id,
            "takingAmount": num(taking) if fills else "",
            "makingAmount": num(making) if fills else "",
            "status": "matched" if fills else "live",
            "transactionsHashes": hashes,
            "success": True,
        }

    def trade(self, trade_id: str) -> TradeRecord:
        return next(t for t in reversed(self.trades) if t.trade_id == trade_id)

    def cancel(self, creds: ApiCredentials, order_ids: list[str]) -> dict[str, Any]:
        canceled: list[str] = []
        not_canceled: dict[str, str] = {}
        for order_id in order_ids:
            record = self.orders.get(order_id)
            if record is None or record.signer != creds.address:
                not_canceled[order_id] = "order not found"
                continue
            try:
                execution = record.market.engine.cancel(order_id)
            except (UnknownOrderError, OrderNotOpenError):
                not_canceled[order_id] = "order can't be canceled because it is not live"
                continue
            self.publish(record.market, execution.events)
            canceled.append(order_id)
        return {"canceled": canceled, "not_canceled": not_canceled}

    def open_orders(
        self, creds: ApiCredentials, market: str | None = None, asset_id: str | None = None, order_id: str | None = None
    ) -> list[OrderRecord]:
        found = []
        for record in self.orders.values():
            if record.signer != creds.address or (order_id and record.order_id != order_id):
                continue
            if (market and record.market.condition_id != market) or (asset_id and record.token_id != asset_id):
                continue
            view = record.market.engine.order(record.order_id)
            if view is not None and view.remaining > 0:
                found.append(record)
        return found

    def cancel_where(self, creds: ApiCredentials, market: str | None = None, asset_id: str | None = None) -> dict:
        ids = [r.order_id for r in self.open_orders(creds, market=market or None, asset_id=asset_id or None)]
        return self.cancel(creds, ids)

    def order_json(self, record: OrderRecord) -> dict[str, Any]:
        view = record.market.engine.order(record.order_id)
        filled = view.filled if view is not None else ZERO
        return {
            "id": record.order_id,
            "status": _order_status(view),
            "owner": record.owner,
            "maker_address": record.maker_address,
            "market": record.market.condition_id,
            "asset_id": record.token_id,
            "side": record.side,
            "original_size": num(record.size),
            "size_matched": num(filled),
            "price": num(record.price),
            "outcome": record.market.label(record.outcome),
            "expiration": str(record.expiration),
            "order_type": record.order_type,
            "associate_trades": list(record.associate_trades),
            "created_at": unix_s(record.created_at),
        }

    def trades_for(self, creds: ApiCredentials) -> list[TradeRecord]:
        return [t for t in self.trades if creds.api_key in (t.taker.owner, t.maker.owner)]

    def trade_json(self, trade: TradeRecord, viewer: str | None, status: str = "CONFIRMED") -> dict[str, Any]:
        taker, maker = trade.taker, trade.maker
        return {
            "id": trade.trade_id,
            "taker_order_id": taker.order_id,
            "market": trade.market.condition_id,
            "asset_id": taker.token_id,
            "side": taker.side,
            "size": num(trade.size),
            "fee_rate_bps": str(trade.market.fee_rate_bps),
            "price": num(taker.price),
            "status": status,
            "match_time": str(unix_s(trade.match_time)),
            "last_update": str(unix_s(trade.match_time)),
            "outcome": trade.market.label(taker.outcome),
            "bucket_index": 0,
            "owner": viewer or taker.owner or "",
            "maker_address": taker.address,
            "transaction_hash": trade.transaction_hash,
            "maker_orders": [
                {
                    "order_id": maker.order_id,
                    "owner": maker.owner or "",
                    "maker_address": maker.address,
                    "matched_amount": num(trade.size),
                    "price": num(maker.price),
                    "fee_rate_bps": "0",
                    "asset_id": maker.token_id,
                    "outcome": trade.market.label(maker.outcome),
                    "side": maker.side,
                }
            ],
            "trader_side": "TAKER" if viewer is not None and viewer == taker.owner else "MAKER",
        }

    # ---- books ---------------------------------------------------------------------------

    def levels(self, market: SandboxMarket, token_id: str) -> tuple[list[tuple[Decimal, Decimal]], ...]:
        """(bids, asks) of one token, best first."""
        return _token_levels(market, token_id, market.engine.levels(BookSide.BID), market.engine.levels(BookSide.ASK))

    def last_trade_price(self, market: SandboxMarket, token_id: str) -> Decimal | None:
        last = market.engine.last_trade_price
        if last is None:
            return None
        return last if market.outcome_of(token_id) is Outcome.YES else ONE - last

    def book_summary(self, token_id: str, at: datetime | None = None) -> dict[str, Any]:
        """`GET /book`: bids ascending and asks descending (best last), as the venue sends them."""
        market = self.market_for_token(token_id)
        return self._summary(market, token_id, self.levels(market, token_id), unix_ms(at or self.clock()))

    def _summary(
        self, market: SandboxMarket, token_id: str, book: tuple[list[tuple[Decimal, Decimal]], ...], stamp: str
    ) -> dict[str, Any]:
        """The summary of `book` (one token's (bids, asks), best first) with its hash."""
        bids, asks = book
        facts = self._book_facts(market, token_id, stamp)
        summary: dict[str, Any] = {
            "market": facts["market"],
            "asset_id": token_id,
            "timestamp": stamp,
            "hash": "",
            "bids": [{"price": num(p), "size": num(s)} for p, s in reversed(bids)],
            "asks": [{"price": num(p), "size": num(s)} for p, s in reversed(asks)],
            "min_order_size": facts["min_order_size"],
            "tick_size": facts["tick_size"],
            "neg_risk": facts["neg_risk"],
            "last_trade_price": facts["last_trade_price"],
        }
        summary["hash"] = book_hash(summary)
        return summary

    def _book_facts(self, market: SandboxMarket, token_id: str, stamp: str) -> dict[str, Any]:
        """Every field of a book summary but its levels."""
        last = self.last_trade_price(market, token_id)
        return {
            "market": market.condition_id,
            "asset_id": token_id,
            "timestamp": stamp,
            "hash": "",
            "min_order_size": num(market.min_size),
            "tick_size": num(market.tick_size),
            "neg_risk": market.neg_risk,
            "last_trade_price": num(last) if last is not None else "",
        }

    # ---- market listings -----------------------------------------------------------------

    def clob_market_json(self, market: SandboxMarket) -> dict[str, Any]:
        end = market.end_date.strftime("%Y-%m-%dT%H:%M:%SZ") if market.end_date else None
        tokens = []
        for outcome in Outcome:
            token = market.token_of(outcome)
            bids, asks = self.levels(market, token)
            mid = (bids[0][0] + asks[0][0]) / 2 if bids and asks else Decimal("0.5")
            tokens.append(
                {
                    "token_id": token,
                    "outcome": market.label(outcome),
                    "price": wire_float(mid),
                    "winner": market.winner is outcome,
                }
            )
        return {
            "enable_order_book": True,
            "active": market.active,
            "closed": market.closed,
            "archived": False,
            "accepting_orders": market.active and not market.closed,
            "minimum_order_size": wire_float(market.min_size),
            "minimum_tick_size": wire_float(market.tick_size),
            "condition_id": market.condition_id,
            "question_id": "0x" + keccak(text=market.condition_id).hex(),
            "question": market.question,
            "description": market.description,
            "market_slug": market.slug,
            "end_date_iso": end,
            "maker_base_fee": 0,
            "taker_base_fee": market.fee_rate_bps,
            "neg_risk": market.neg_risk,
            "tokens": tokens,
            "tags": [],
        }

    # ---- Data API ------------------------------------------------------------------------

    def record_activity(
        self,
        *,
        wallet: str,
        market: SandboxMarket,
        token_id: str,
        side: str,
        price: Decimal,
        size: Decimal,
        at: datetime,
        transaction_hash: str,
        taker: bool,
    ) -> None:
        outcome = market.outcome_of(token_id)
        entry = Activity(
            taker,
            {
                "proxyWallet": wallet.lower(),
                "timestamp": unix_s(at),
                "conditionId": market.condition_id,
                "type": "TRADE",
                "size": wire_float(size),
                "usdcSize": wire_float(price * size),
                "transactionHash": transaction_hash,
                "price": wire_float(price),
                "asset": token_id,
                "side": side,
                "outcomeIndex": market.index(outcome),
                "title": market.question,
                "slug": market.slug,
                "icon": "",
                "eventSlug": market.event_slug,
                "outcome": market.label(outcome),
                "name": "",
                "pseudonym": "",
                "bio": "",
                "profileImage": "",
                "profileImageOptimized": "",
            },
        )
        self.activity.append(entry)
        self._send_rtds(entry)

    def leader_trade(
        self, wallet: str, token_id: str, side: str, price: Decimal, size: Decimal, *, execute: bool
    ) -> dict[str, Any]:
        """A followed wallet trades: either through the book (its account must be funded) or recorded only."""
        market = self.market_for_token(token_id)
        try:
            wallet = to_checksum_address(wallet)
        except ValueError as exc:
            raise ClobError(400, f"invalid wallet {wallet!r}") from exc
        side = side.upper()
        if side not in ("BUY", "SELL"):
            raise ClobError(400, "Invalid side")
        if not ZERO < price < ONE or size <= 0:
            raise ClobError(400, f"invalid price {price} or size {size}")
        if not execute:
            tx = "0x" + secrets.token_hex(32)
            self.record_activity(
                wallet=wallet,
                market=market,
                token_id=token_id,
                side=side,
                price=price,
                size=size,
                at=self.clock(),
                transaction_hash=tx,
                taker=True,
            )
            return {"executed": False, "transactionHash": tx, "filled": num(size)}
        request = OrderRequest(wallet, market.outcome_of(token_id), _side_of(side), price, size, TimeInForce.FAK)
        execution = market.engine.submit(request)
        if execution.order.status is OrderStatus.REJECTED:
            raise ClobError(400, self._reject_message(execution.order, market))
        self.publish(market, execution.events)
        return {"executed": True, "order_id": execution.order.order_id, "filled": num(execution.order.filled)}

    # ---- events -> records and messages --------------------------------------------------

    def publish(self, market: SandboxMarket, events: tuple[Event, ...]) -> None:
        levels: list[LevelChanged] = []
        for event in events:
            if isinstance(event, Trade):
                self._on_trade(market, event)
            elif isinstance(event, OrderRested):
                record = self.orders.get(event.order.order_id)
                if record is not None:
                    record.placed = True
                    self._user_order(record, "PLACEMENT", event.order)
            elif isinstance(event, OrderCanceled):
                record = self.orders.get(event.order.order_id)
                if record is not None and record.placed:
                    self._user_order(record, "CANCELLATION", event.order)
            elif isinstance(event, LevelChanged):
                levels.append(event)
        if levels:
            self._price_change(market, levels)

    def _leg(self, market: SandboxMarket, leg: EngineLeg) -> TradeLeg:
        view = leg.order
        record = self.orders.get(view.order_id)
        token = market.token_of(view.request.outcome)
        return TradeLeg(
            order_id=view.order_id,
            owner=record.owner if record is not None else None,
            address=view.owner,
            token_id=token,
            outcome=view.request.outcome,
            side=view.request.side.value.upper(),
            price=leg.price,
            fee=leg.fee,
        )

    def _on_trade(self, market: SandboxMarket, trade: Trade) -> None:
        maker, taker = self._leg(market, trade.maker), self._leg(market, trade.taker)
        for leg in (maker, taker):
            order_record = self.orders.get(leg.order_id)
            if order_record is not None:
                order_record.associate_trades.append(trade.trade_id)
        record = TradeRecord(
            trade_id=trade.trade_id,
            market=market,
            size=trade.quantity,
            taker=taker,
            maker=maker,
            match_time=trade.at,
            transaction_hash="0x" + keccak(text=trade.trade_id).hex(),
        )
        self.trades.append(record)
        for leg in (taker, maker):
            if leg.address != HOUSE:
                self.record_activity(
                    wallet=leg.address,
                    market=market,
                    token_id=leg.token_id,
                    side=leg.side,
                    price=leg.price,
                    size=trade.quantity,
                    at=trade.at,
                    transaction_hash=record.transaction_hash,
                    taker=leg is taker,
                )
        for owner in {o for o in (taker.owner, maker.owner) if o is not None}:
            message = self.trade_json(record, owner, status="MATCHED") | {
                "event_type": "trade",
                "type": "TRADE",
                "timestamp": unix_ms(trade.at),
                "trade_owner": owner,
            }
            self._send_user(owner, market, message)
        maker_record = self.orders.get(maker.order_id)
        if maker_record is not None and maker_record.placed:
            self._user_order(maker_record, "UPDATE", trade.maker.order)
        for outcome in Outcome:
            token = market.token_of(outcome)
            price = trade.yes_price if outcome is Outcome.YES else ONE - trade.yes_price
            taker_buys_token = (outcome is taker.outcome) == (taker.side == "BUY")
            self.send_market(
                token,
                {
                    "asset_id": token,
                    "event_type": "last_trade_price",
                    "fee_rate_bps": str(market.fee_rate_bps),
                    "market": market.condition_id,
                    "price": num(price),
                    "side": "BUY" if taker_buys_token else "SELL",
                    "size": num(trade.quantity),
                    "timestamp": unix_ms(trade.at),
                    "transaction_hash": record.transaction_hash,
                },
            )

    def _user_order(self, record: OrderRecord, kind: str, view: OrderView) -> None:
        if record.owner is None:
            return
        message = {
            "asset_id": record.token_id,
            "associate_trades": list(record.associate_trades) or None,
            "event_type": "order",
            "id": record.order_id,
            "market": record.market.condition_id,
            "order_owner": record.owner,
            "original_size": num(record.size),
            "outcome": record.market.label(record.outcome),
            "owner": record.owner,
            "price": num(record.price),
            "side": record.side,
            "size_matched": num(view.filled),
            "timestamp": unix_ms(self.clock()),
            "type": kind,
            "created_at": str(unix_s(record.created_at)),
            "expiration": str(record.expiration),
            "order_type": record.order_type,
            "status": _order_status(view),
            "maker_address": record.maker_address,
        }
        self._send_user(record.owner, record.market, message)

    def _price_change(self, market: SandboxMarket, changes: list[LevelChanged]) -> None:
        """One `price_change` for the changes of one engine call; built only when someone listens.

        Each entry carries its token's book hash, which covers the whole book: the
        engine's levels are read once for both tokens and `levels_hash` puts the
        summary's bytes together from cached pieces, one SHA-1 per token.
        """
        at = self.clock()
        yes, no = market.yes_token, market.no_token
        yes_bids, yes_asks = market.engine.levels(BookSide.BID), market.engine.levels(BookSide.ASK)
        books = {yes: _token_levels(market, yes, yes_bids, yes_asks), no: _token_levels(market, no, yes_bids, yes_asks)}
        listeners = [sub for sub in self.subscribers if sub.channel == "market" and not sub.assets.isdisjoint(books)]
        if listeners:
            stamp = unix_ms(at)
            heads = {}
            for token, book in books.items():
                bids, asks = book
                heads[token] = (
                    levels_hash(self._book_facts(market, token, stamp), bids, asks),
                    num(bids[0][0]) if bids else "0",
                    num(asks[0][0]) if asks else "0",
                )
            (yes_hash, yes_bid, yes_ask), (no_hash, no_bid, no_ask) = heads[yes], heads[no]
            entries = []
            for change in changes:
                size = num(change.size)
                yes_side, no_side = ("BUY", "SELL") if change.side is BookSide.BID else ("SELL", "BUY")
                entries.append(
                    {
                        "asset_id": yes,
                        "price": num(change.yes_price),
                        "size": size,
                        "side": yes_side,
                        "hash": yes_hash,
                        "best_bid": yes_bid,
                        "best_ask": yes_ask,
                    }
                )
                entries.append(
                    {
                        "asset_id": no,
                        "price": num(ONE - change.yes_price),
                        "size": size,
                        "side": no_side,
                        "hash": no_hash,
                        "best_bid": no_bid,
                        "best_ask": no_ask,
                    }
                )
            message = {
                "market": market.condition_id,
                "price_changes": entries,
                "timestamp": stamp,
                "event_type": "price_change",
            }
            text = orjson.dumps(message).decode()
            for sub in listeners:
                sub.deliver(text)
        for token, (bids, asks) in books.items():
            best = (bids[0][0] if bids else None, asks[0][0] if asks else None)
            if self._best.get(token) != best:
                self._best[token] = best
                self._best_bid_ask(market, token, best, at)

    def _best_bid_ask(
        self, market: SandboxMarket, token: str, best: tuple[Decimal | None, Decimal | None], at: datetime
    ) -> None:
        """The opt-in `best_bid_ask` event (subscribe with `custom_feature_enabled: true`)."""
        bid, ask = best
        message = {
            "event_type": "best_bid_ask",
            "market": market.condition_id,
            "asset_id": token,
            "best_bid": num(bid) if bid is not None else "0",
            "best_ask": num(ask) if ask is not None else "0",
            "spread": num(ask - bid) if bid is not None and ask is not None else "0",
            "timestamp": unix_ms(at),
        }
        self._send_custom({token}, message)

    def _send_custom(self, tokens: set[str], message: dict[str, Any]) -> None:
        text = orjson.dumps(message).decode()
        for sub in list(self.subscribers):
            if sub.channel == "market" and sub.custom_features and sub.assets & tokens:
                sub.deliver(text)

    def _send_rtds(self, entry: Activity) -> None:
        """RTDS `activity` pushes every trade (`trades`) and, once per match, the taker's (`orders_matched`)."""
        row = entry.row
        if self.faults.silenced():
            return
        kinds = ("trades", "orders_matched") if entry.taker else ("trades",)
        slugs = {"market_slug": row["slug"], "event_slug": row["eventSlug"]}
        for kind in kinds:
            text = orjson.dumps(
                {"topic": "activity", "type": kind, "timestamp": unix_ms(self.clock()), "payload": row}
            ).decode()
            for sub in list(self.subscribers):
                if sub.channel != "rtds":
                    continue
                wanted = sub.rtds.get(("activity", kind), sub.rtds.get(("activity", "*")))
                if wanted is not None and all(slugs.get(k) == v for k, v in wanted.items()):
                    sub.deliver(text)

    def send_market(self, token: str, message: dict[str, Any]) -> None:
        text = orjson.dumps(message).decode()
        for sub in list(self.subscribers):
            if sub.channel == "market" and token in sub.assets:
                sub.deliver(text)

    def _send_user(self, api_key: str, market: SandboxMarket, message: dict[str, Any]) -> None:
        text = orjson.dumps(message).decode()
        for sub in list(self.subscribers):
            if (
                sub.channel == "user"
                and sub.api_key == api_key
                and (sub.markets is None or market.condition_id in sub.markets)
            ):
                sub.deliver(text)

    def book_message(self, token_id: str) -> dict[str, Any]:
        summary = self.book_summary(token_id)
        return {
            "market": summary["market"],
            "asset_id": token_id,
            "timestamp": summary["timestamp"],
            "hash": summary["hash"],
            "bids": summary["bids"],
            "asks": summary["asks"],
            "tick_size": summary["tick_size"],
            "last_trade_price": summary["last_trade_price"],
            "event_type": "book",
        }

    def expire_orders(self) -> None:
        """Sweep GTD expiries of every market (the engines also sweep on each submit) and lapsed heartbeats."""
        for market in self.markets.values():
            self.publish(market, market.engine.expire())
        now = self.clock()
        for api_key, last in list(self.heartbeats.items()):
            if now - last > timedelta(seconds=HEARTBEAT_TIMEOUT_S):
                del self.heartbeats[api_key]
                self.cancel_where(self.credentials[api_key])

    def resolve(self, market: SandboxMarket, winning_token: str) -> dict[str, Any]:
        """Resolve a market: cancel its orders, pay each winning token 1 USDC, burn all tokens.

        Wallets paid get a Data API `REDEEM` row; subscribers with custom features get
        `market_resolved`.
        """
        if winning_token not in (market.yes_token, market.no_token):
            raise ClobError(400, f"{winning_token} is not a token of market {market.condition_id}")
        if market.winner is not None:
            raise ClobError(400, f"market {market.condition_id} is already resolved")
        winner = market.outcome_of(winning_token)
        self.publish(market, market.engine.close())
        payout_yes = ONE if winner is Outcome.YES else ZERO
        payouts = {}
        for acct in self.ledger.accounts():
            yes = acct.positions.get((market.condition_id, Outcome.YES))
            no = acct.positions.get((market.condition_id, Outcome.NO))
            paid = (yes.quantity if yes else ZERO) * payout_yes + (no.quantity if no else ZERO) * (ONE - payout_yes)
            if paid and acct.account_id != HOUSE:
                payouts[acct.account_id] = paid
        self.ledger.settle(market.condition_id, payout_yes)
        market.winner, market.closed, market.active = winner, True, False
        now = self.clock()
        for wallet, paid in payouts.items():
            self.activity.append(Activity(True, self._redeem_row(wallet, market, paid, now)))
        self._send_custom(
            {market.yes_token, market.no_token},
            {
                "event_type": "market_resolved",
                "id": market.gamma_id,
                "market": market.condition_id,
                "assets_ids": [market.yes_token, market.no_token],
                "winning_asset_id": winning_token,
                "winning_outcome": market.label(winner),
                "timestamp": unix_ms(now),
                "tags": [],
            },
        )
        return {"winning_asset_id": winning_token, "payouts_usdc": {w: int(p / MICRO) for w, p in payouts.items()}}

    @staticmethod
    def _redeem_row(wallet: str, market: SandboxMarket, paid: Decimal, at: datetime) -> dict[str, Any]:
        return {
            "proxyWallet": wallet.lower(),
            "timestamp": unix_s(at),
            "conditionId": market.condition_id,
            "type": "REDEEM",
            "size": wire_float(paid),
            "usdcSize": wire_float(paid),
            "transactionHash": "0x" + secrets.token_hex(32),
            "price": 0,
            "asset": "",
            "side": "",
            "outcomeIndex": 999,
            "title": market.question,
            "slug": market.slug,
            "icon": "",
            "eventSlug": market.event_slug,
            "outcome": "",
            "name": "",
            "pseudonym": "",
            "bio": "",
            "profileImage": "",
            "profileImageOptimized": "",
        }

    def heartbeat(self, creds: ApiCredentials, heartbeat_id: object) -> dict[str, Any]:
        """Dead-man switch: once a key sends heartbeats, missing one for 10 s cancels all its orders."""
        self.heartbeats[creds.api_key] = self.clock()
        return {"status": "ok", "heartbeat_id": str(heartbeat_id) if heartbeat_id else str(uuid.uuid4())}

    def log(self) -> dict[str, Any]:
        return {
            "orders": [self.order_json(r) | {"signer": r.signer} for r in self.orders.values()],
            "trades": [self.trade_json(t, t.taker.owner) for t in self.trades],
            "events": len([e for m in self.markets.values() for e in m.engine.events]),
        }


def _token_levels(
    market: SandboxMarket,
    token_id: str,
    yes_bids: tuple[tuple[Decimal, Decimal], ...],
    yes_asks: tuple[tuple[Decimal, Decimal], ...],
) -> tuple[list[tuple[Decimal, Decimal]], ...]:
    """(bids, asks) of one token, best first, from the engine's YES levels (a NO bid is a YES ask at 1 - p)."""
    if market.outcome_of(token_id) is Outcome.YES:
        return list(yes_bids), list(yes_asks)
    return [(ONE - p, s) for p, s in yes_asks], [(ONE - p, s) for p, s in yes_bids]


def _implied_limit(order: SignedOrder, tick: Decimal, *, marketable: bool) -> tuple[Decimal, Decimal]:
    """(limit price, size in shares) of a signed order.

    A BUY pays at most makerAmount USDC for at least takerAmount shares, a SELL gives
    makerAmount shares for at least takerAmount USDC. Resting orders must state a price
    on the tick exactly. Market orders (FOK/FAK, as py-clob-client builds them from a
    USDC amount) imply a ratio off the tick; their limit is rounded to the tick on the
    side the signer is protected (a BUY never pays more, a SELL never gets less).
    """
    if order.side == "BUY":
        price, size = Decimal(order.maker_amount) / order.taker_amount, micro_to_dollars(order.taker_amount)
        rounding = Rounding.DOWN
    else:
        price, size = Decimal(order.taker_amount) / order.maker_amount, micro_to_dollars(order.maker_amount)
        rounding = Rounding.UP
    return (quantize(price, tick, rounding) if marketable else price), size


def _order_status(view: OrderView | None) -> str:
    if view is None:
        return "UNKNOWN"
    if view.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
        return "LIVE"
    if view.status is OrderStatus.FILLED or (view.cancel_reason is CancelReason.UNFILLED and view.filled > 0):
        return "MATCHED"
    return "CANCELED"
