"""The sandbox Kalshi exchange: listings, accounts, orders and fills in Kalshi's terms.

Matching is `sandbox.engine.MatchingEngine` (one per market, one shared `Ledger`
with `KalshiFees`); this module translates Kalshi orders into engine requests and
engine events back into Kalshi records and stream messages:

* a `yes` order at P cents is an engine YES order at P/100; a `no` order at Q cents
  is an engine NO order at Q/100 (so it rests as a YES ask at 1 - Q/100);
* engine bids are Kalshi YES bids, engine asks at YES price p are Kalshi NO bids
  at 100 - p, which is how the venue lists its book (bids only);
* status resting / canceled / executed, counts, fill costs and fees in cents.

Kalshi nets YES against NO; the ledger keeps them apart, so `position` here is
YES held minus NO held and a sell needs the contracts it sells (the venue answers
`insufficient_balance` for a sell without a position, as recorded). A market buy
is an immediate-or-cancel order at 99 cents, or at `buy_max_cost // count` cents
when `buy_max_cost` is given, so it never spends more than that (fees aside).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.models import OrderStatus, Outcome, Side, TimeInForce, utc_now
from domain.money import CENT, ONE, ZERO, Rounding, dollars_to_cents
from sandbox.engine import (
    BookSide,
    Event,
    Execution,
    LevelChanged,
    MarketRules,
    MatchingEngine,
    OrderNotOpenError,
    OrderRequest,
    OrderView,
    RejectReason,
    Trade,
    UnknownOrderError,
)
from sandbox.faults import FaultInjector
from sandbox.kalshi.auth import KeyRegistry
from sandbox.kalshi.stream import KalshiStream
from sandbox.kalshi.wire import count_fp, dollars_str, iso
from sandbox.ledger import KalshiFees, Ledger

HOUSE = "house"
TIF = {
    "fill_or_kill": TimeInForce.FOK,
    "immediate_or_cancel": TimeInForce.FAK,
    "good_till_canceled": TimeInForce.GTC,
}


class KalshiError(Exception):
    """A request the venue refuses: HTTP status plus Kalshi's error code, message and details."""

    top_level = False

    def __init__(self, status: int, code: str, message: str | None = None, details: str | None = None) -> None:
        super().__init__(f"{status} {code}: {details or message or ''}")
        self.status = status
        self.code = code
        self.message = message or code.replace("_", " ")
        self.details = details


class BadRequest(KalshiError):
    """A body the API cannot decode (malformed JSON, a field of the wrong type): the venue answers
    `{"code": "bad_request", ...}` at the top level of the body instead of under `error`."""

    top_level = True

    def __init__(self, details: str) -> None:
        super().__init__(400, "bad_request", "bad request", details)


INT_FIELDS = ("count", "yes_price", "no_price", "expiration_ts", "buy_max_cost", "sell_position_floor")
STR_FIELDS = (
    "ticker",
    "side",
    "action",
    "type",
    "client_order_id",
    "time_in_force",
    "yes_price_dollars",
    "no_price_dollars",
    "order_group_id",
    "self_trade_prevention_type",
)
BOOL_FIELDS = ("post_only", "reduce_only", "cancel_order_on_pause")


def _check_types(body: dict[str, Any]) -> None:
    """Reject what a typed JSON decoder would: 40.5 or "40" for an integer, 0.4 for a dollar string."""
    for names, kind in ((INT_FIELDS, int), (STR_FIELDS, str), (BOOL_FIELDS, bool)):
        for name in names:
            value = body.get(name)
            if value is None:
                continue
            wrong = not isinstance(value, kind) or (kind is int and isinstance(value, bool))
            if wrong:
                raise BadRequest(f"cannot decode {name}: {type(value).__name__} is not {kind.__name__}")


REJECTIONS: dict[RejectReason, tuple[int, str]] = {
    RejectReason.MARKET_CLOSED: (400, "market_closed"),
    RejectReason.DUPLICATE_ORDER_ID: (409, "order_already_exists"),
    RejectReason.DUPLICATE_CLIENT_ORDER_ID: (409, "order_already_exists"),
    RejectReason.INVALID_PRICE: (400, "invalid_price"),
    RejectReason.INVALID_TICK: (400, "invalid_price"),
    RejectReason.INVALID_SIZE: (400, "invalid_order"),
    RejectReason.BELOW_MIN_SIZE: (400, "invalid_order"),
    RejectReason.INVALID_EXPIRATION: (400, "invalid_order"),
    RejectReason.POST_ONLY_WOULD_CROSS: (400, "invalid_order"),
    RejectReason.INSUFFICIENT_BALANCE: (400, "insufficient_balance"),
    RejectReason.INSUFFICIENT_POSITION: (400, "insufficient_balance"),
}


@dataclass
class Series:
    ticker: str
    title: str
    category: str = "Sandbox"
    frequency: str = "custom"
    fee_multiplier: Decimal = Decimal("0.07")


@dataclass
class KalshiEvent:
    event_ticker: str
    series_ticker: str
    title: str
    sub_title: str = ""
    category: str = "Sandbox"
    mutually_exclusive: bool = False
    strike_date: datetime | None = None


@dataclass
class KalshiMarket:
    ticker: str
    event_ticker: str
    title: str
    engine: MatchingEngine
    subtitle: str = ""
    yes_sub_title: str = "Yes"
    no_sub_title: str = "No"
    rules_primary: str = ""
    rules_secondary: str = ""
    open_time: datetime = field(default_factory=utc_now)
    close_time: datetime = field(default_factory=lambda: utc_now() + timedelta(days=30))
    created_time: datetime = field(default_factory=utc_now)
    market_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "active"
    result: str = ""
    volume: int = 0
    open_interest: int = 0
    levels: dict[tuple[BookSide, Decimal], Decimal] = field(default_factory=dict)

    def best_cents(self) -> tuple[int, int]:
        """(best YES bid, best YES ask) in cents; 0 and 100 when a side is empty, as the venue shows."""
        bid = self.engine.best(BookSide.BID)
        ask = self.engine.best(BookSide.ASK)
        return (_cents(bid) if bid is not None else 0, _cents(ask) if ask is not None else 100)

    def last_price_cents(self) -> int:
        last = self.engine.last_trade_price
        return _cents(last) if last is not None else 0


@dataclass
class KalshiOrder:
    order_id: str
    account: str
    ticker: str
    client_order_id: str
    side: str
    action: str
    type: str
    yes_price: int
    initial_count: int
    created_time: datetime
    last_update_time: datetime
    expiration_time: datetime | None = None
    status: str = "resting"
    fill_count: int = 0
    taker_fill_cost: int = 0
    maker_fill_cost: int = 0
    taker_fees: int = 0
    maker_fees: int = 0

    @property
    def remaining_count(self) -> int:
        return self.initial_count - self.fill_count if self.status == "resting" else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "user_id": self.account,
            "client_order_id": self.client_order_id,
            "ticker": self.ticker,
            "side": self.side,
            "action": self.action,
            "type": self.type,
            "status": self.status,
            "yes_price": self.yes_price,
            "no_price": 100 - self.yes_price,
            "yes_price_dollars": dollars_str(self.yes_price),
            "no_price_dollars": dollars_str(100 - self.yes_price),
            "fill_count": self.fill_count,
            "fill_count_fp": count_fp(self.fill_count),
            "remaining_count": self.remaining_count,
            "remaining_count_fp": count_fp(self.remaining_count),
            "initial_count": self.initial_count,
            "initial_count_fp": count_fp(self.initial_count),
            "taker_fees": self.taker_fees,
            "maker_fees": self.maker_fees,
            "taker_fees_dollars": dollars_str(self.taker_fees),
            "maker_fees_dollars": dollars_str(self.maker_fees),
            "taker_fill_cost": self.taker_fill_cost,
            "maker_fill_cost": self.maker_fill_cost,
            "taker_fill_cost_dollars": dollars_str(self.taker_fill_cost),
            "maker_fill_cost_dollars": dollars_str(self.maker_fill_cost),
            "queue_position": 0,
            "expiration_time": iso(self.expiration_time) if self.expiration_time else None,
            "created_time": iso(self.created_time),
            "last_update_time": iso(self.last_update_time),
            "order_group_id": None,
        }


@dataclass
class KalshiFill:
    trade_id: str
    order_id: str
    client_order_id: str
    account: str
    ticker: str
    side: str
    action: str
    count: int
    yes_price: int
    is_taker: bool
    fee: int
    created_time: datetime

    def to_json(self) -> dict[str, Any]:
        no_price = 100 - self.yes_price
        return {
            "fill_id": self.trade_id,
            "trade_id": self.trade_id,
            "order_id": self.order_id,
            "client_order_id": self.client_order_id,
            "ticker": self.ticker,
            "market_ticker": self.ticker,
            "side": self.side,
            "action": self.action,
            "count": self.count,
            "count_fp": count_fp(self.count),
            "price": self.yes_price,
            "yes_price": self.yes_price,
            "no_price": no_price,
            "yes_price_fixed": dollars_str(self.yes_price),
            "no_price_fixed": dollars_str(no_price),
            "yes_price_dollars": dollars_str(self.yes_price),
            "no_price_dollars": dollars_str(no_price),
            "is_taker": self.is_taker,
            "fee_cost": dollars_str(self.fee),
            "created_time": iso(self.created_time),
            "ts": int(self.created_time.timestamp()),
        }


@dataclass(frozen=True)
class OrderInput:
    """A parsed `POST /portfolio/orders` body."""

    ticker: str
    side: str
    action: str
    count: int
    type: str
    yes_price: int
    client_order_id: str
    time_in_force: TimeInForce
    expiration: datetime | None
    post_only: bool


def _cents(price: Decimal) -> int:
    """A book price (always on the cent tick here) in cents; exact, and on the hot path of every update."""
    cents = price * 100
    whole = int(cents)
    if whole != cents:
        raise ValueError(f"price {price} is not a whole number of cents")
    return whole


def _dollars_to_cents_field(value: str, name: str) -> int:
    try:
        return dollars_to_cents(Decimal(value), Rounding.EXACT)
    except (InvalidOperation, ValueError) as exc:
        raise KalshiError(400, "invalid_price", details=f"{name} {value!r} is not a price in cents") from exc


def parse_order(body: Any, now: datetime) -> OrderInput:
    """Validate a create-order body the way the venue does; KalshiError on anything wrong."""
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    _check_types(body)
    ticker = body.get("ticker")
    if not isinstance(ticker, str) or not ticker:
        raise KalshiError(400, "missing_parameters", details="ticker is required")
    side, action = body.get("side"), body.get("action")
    if side not in ("yes", "no"):
        raise KalshiError(400, "invalid_order", details="side must be yes or no")
    if action not in ("buy", "sell"):
        raise KalshiError(400, "invalid_order", details="action must be buy or sell")
    count = body.get("count")
    if count is None or count < 1:
        raise KalshiError(400, "invalid_order", details="count must be a positive integer")
    order_type = body.get("type", "limit")
    if order_type not in ("limit", "market"):
        raise KalshiError(400, "invalid_order", details="type must be limit or market")
    tif_name = body.get("time_in_force")
    if tif_name is not None and tif_name not in TIF:
        raise KalshiError(400, "invalid_order", details=f"unknown time_in_force {tif_name!r}")
    yes_price = _order_yes_price(body, side, action, count, order_type)
    expiration = None
    expiration_ts = body.get("expiration_ts")
    if expiration_ts is not None:
        expiration = datetime.fromtimestamp(expiration_ts, UTC)
    if order_type == "market":
        tif, expiration = TimeInForce.FAK, None
    else:
        tif = TIF[tif_name] if tif_name is not None else TimeInForce.GTC
        if tif is TimeInForce.GTC and expiration is not None:
            tif = TimeInForce.GTD if expiration > now else TimeInForce.FAK
        if tif is not TimeInForce.GTD:
            expiration = None
    client_order_id = body.get("client_order_id") or str(uuid.uuid4())
    if len(client_order_id) > 64:
        raise KalshiError(400, "invalid_order", details="client_order_id must be at most 64 characters")
    post_only = bool(body.get("post_only", False))
    return OrderInput(ticker, side, action, count, order_type, yes_price, client_order_id, tif, expiration, post_only)


def _order_yes_price(body: dict[str, Any], side: str, action: str, count: int, order_type: str) -> int:
    given = [k for k in ("yes_price", "no_price", "yes_price_dollars", "no_price_dollars") if body.get(k) is not None]
    if order_type == "market" and not given:
        worst = 99 if action == "buy" else 1
        max_cost = body.get("buy_max_cost")
        if action == "buy" and max_cost is not None:
            worst = min(worst, max_cost // count)
            if worst < 1:
                raise KalshiError(400, "invalid_order", details="buy_max_cost is below one cent per contract")
        own = worst
        return own if side == "yes" else 100 - own
    if len(given) != 1:
        raise KalshiError(
            400,
            "invalid_order",
            details="exactly one of yes_price, no_price, yes_price_dollars, or no_price_dollars should be provided",
        )
    name = given[0]
    raw = body[name]
    cents = _dollars_to_cents_field(raw, name) if name.endswith("_dollars") else raw
    if not 1 <= cents <= 99:
        raise KalshiError(400, "invalid_price", details=f"{name} must be between 1 and 99 cents")
    return cents if name.startswith("yes") else 100 - cents


class KalshiVenue:
    """Everything one sandbox Kalshi exchange knows; all calls run on one event loop, each atomic."""

    def __init__(
        self,
        *,
        faults: FaultInjector | None = None,
        clock: Callable[[], datetime] = utc_now,
        max_skew_ms: int = 30_000,
    ) -> None:
        self.clock = clock
        self.ledger = Ledger()
        self.keys = KeyRegistry(max_skew_ms)
        self.faults = faults or FaultInjector("kalshi")
        self.stream = KalshiStream(self.faults, self.snapshot_msg)
        self.series: dict[str, Series] = {}
        self.events: dict[str, KalshiEvent] = {}
        self.markets: dict[str, KalshiMarket] = {}
        self.orders: dict[str, KalshiOrder] = {}
        self.fills: list[KalshiFill] = []
        self._client_ids: dict[tuple[str, str], str] = {}
        self._listeners: list[Callable[[KalshiMarket, tuple[Event, ...]], None]] = []

    # -- listings ------------------------------------------------------------------------------

    def add_series(self, ticker: str, title: str = "", **extra: Any) -> Series:
        found = self.series.get(ticker)
        if found is None:
            found = self.series[ticker] = Series(ticker, title or ticker, **extra)
        return found

    def add_event(
        self, event_ticker: str, series_ticker: str | None = None, title: str = "", **extra: Any
    ) -> KalshiEvent:
        found = self.events.get(event_ticker)
        if found is None:
            series = self.add_series(series_ticker or event_ticker.split("-", 1)[0])
            found = self.events[event_ticker] = KalshiEvent(event_ticker, series.ticker, title or event_ticker, **extra)
        return found

    def add_market(
        self,
        ticker: str,
        event_ticker: str | None = None,
        title: str = "",
        *,
        series_ticker: str | None = None,
        **extra: Any,
    ) -> KalshiMarket:
        if ticker in self.markets:
            raise KalshiError(409, "market_already_exists", details=ticker)
        event = self.add_event(event_ticker or ticker.rsplit("-", 1)[0], series_ticker, title)
        series = self.series[event.series_ticker]
        engine = MatchingEngine(
            MarketRules(ticker, tick_size=CENT, min_size=Decimal(1), size_step=Decimal(1)),
            self.ledger,
            KalshiFees(multiplier=series.fee_multiplier),
            clock=self.clock,
        )
        market = self.markets[ticker] = KalshiMarket(ticker, event.event_ticker, title or ticker, engine, **extra)
        return market

    def market(self, ticker: str) -> KalshiMarket:
        found = self.markets.get(ticker)
        if found is None:
            raise KalshiError(404, "market_not_found", "market not found")
        return found

    def resolve(self, ticker: str, result: str) -> KalshiMarket:
        """Settle a market: cancel its orders, stop trading, pay 100 cents per winning contract."""
        if result not in ("yes", "no"):
            raise KalshiError(400, "invalid_parameters", details="result must be yes or no")
        market = self.market(ticker)
        self._apply(market, market.engine.close())
        self.ledger.settle(ticker, ONE if result == "yes" else ZERO)
        market.status, market.result = "settled", result
        return market

    def expire_due(self) -> None:
        """Cancel GTD orders whose time has come (the engines also sweep on every submit)."""
        for market in self.markets.values():
            events = market.engine.expire()
            if events:
                self._apply(market, events)

    def on_events(self, listener: Callable[[KalshiMarket, tuple[Event, ...]], None]) -> None:
        """Observe every engine event batch (scenarios and benchmarks count book updates with this)."""
        self._listeners.append(listener)

    # -- accounts ------------------------------------------------------------------------------

    def fund(self, account: str, cents: int) -> None:
        self.ledger.deposit(account, Decimal(cents) * CENT)

    def balance_cents(self, account: str) -> int:
        return dollars_to_cents(self.ledger.account(account).available_cash, Rounding.DOWN)

    def grant(self, account: str, ticker: str, side: str, count: int) -> None:
        self.market(ticker)
        self.ledger.grant_position(account, ticker, Outcome(side), Decimal(count))

    def position(self, account: str, ticker: str) -> int:
        acct = self.ledger.account(account)
        yes = acct.positions.get((ticker, Outcome.YES))
        no = acct.positions.get((ticker, Outcome.NO))
        return int((yes.quantity if yes else ZERO) - (no.quantity if no else ZERO))

    # -- orders --------------------------------------------------------------------------------

    def place(self, account: str, order: OrderInput, *, fill_ratio: Decimal | None = None) -> KalshiOrder:
        """Place an order; a `fill_ratio` (fault) lets only that share of it trade, the rest is canceled."""
        market = self.market(order.ticker)
        if market.status != "active":
            raise KalshiError(400, "market_closed", "market closed")
        if (account, order.client_order_id) in self._client_ids:
            raise KalshiError(409, "order_already_exists", "order already exists")
        quantity, tif = order.count, order.time_in_force
        if fill_ratio is not None and not order.post_only:
            capped = int(Decimal(order.count) * fill_ratio)
            if 0 < capped < order.count:
                quantity, tif = capped, TimeInForce.FAK
                self.faults.note_partial_fill()
        own_price = order.yes_price if order.side == "yes" else 100 - order.yes_price
        order_id = str(uuid.uuid4())
        request = OrderRequest(
            owner=account,
            outcome=Outcome(order.side),
            side=Side(order.action),
            price=Decimal(own_price) * CENT,
            quantity=Decimal(quantity),
            time_in_force=tif,
            expires_at=order.expiration if tif is TimeInForce.GTD else None,
            client_order_id=order.client_order_id,
            order_id=order_id,
            post_only=order.post_only,
        )
        now = self.clock()
        record = KalshiOrder(
            order_id=order_id,
            account=account,
            ticker=order.ticker,
            client_order_id=order.client_order_id,
            side=order.side,
            action=order.action,
            type=order.type,
            yes_price=order.yes_price,
            initial_count=order.count,
            created_time=now,
            last_update_time=now,
            expiration_time=order.expiration,
        )
        execution = market.engine.submit(request)
        if execution.order.status is OrderStatus.REJECTED:
            reason = execution.order.reject_reason
            if reason is RejectReason.FOK_NOT_FILLED:
                record.status = "canceled"
                self._remember(record)
                return record
            status, code = REJECTIONS.get(reason, (400, "invalid_order")) if reason else (400, "invalid_order")
            details = "post only cross" if reason is RejectReason.POST_ONLY_WOULD_CROSS else None
            self._apply(market, execution.events)
            raise KalshiError(status, code, details=details)
        self._remember(record)
        self._apply(market, execution.events)
        if record.status == "executed" and record.fill_count < record.initial_count:
            record.status = "canceled"
        return record

    def _remember(self, record: KalshiOrder) -> None:
        self.orders[record.order_id] = record
        self._client_ids[(record.account, record.client_order_id)] = record.order_id

    def cancel(self, account: str, order_id: str) -> tuple[KalshiOrder, int]:
        record = self.orders.get(order_id)
        if record is None or record.account != account:
            raise KalshiError(404, "not_found", "not found")
        market = self.market(record.ticker)
        reduced = record.remaining_count
        try:
            execution: Execution = market.engine.cancel(order_id, account)
        except UnknownOrderError as exc:
            raise KalshiError(404, "not_found", "not found") from exc
        except OrderNotOpenError as exc:
            raise KalshiError(404, "not_found", "not found", details=str(exc)) from exc
        self._apply(market, execution.events)
        return record, reduced

    def forget(self, order_id: str) -> None:
        """Drop a finished order's record (scenario market makers churn millions; their log is not wanted)."""
        record = self.orders.get(order_id)
        if record is not None and record.status != "resting":
            del self.orders[order_id]
            self._client_ids.pop((record.account, record.client_order_id), None)
            self.market(record.ticker).engine.forget(order_id)

    def apply_engine_events(self, market: KalshiMarket, events: tuple[Event, ...]) -> None:
        """Record and publish events from engine calls made outside `place`/`cancel` (e.g. cancel_owner)."""
        self._apply(market, events)

    # -- engine events -> records and stream ---------------------------------------------------

    def _apply(self, market: KalshiMarket, events: tuple[Event, ...]) -> None:
        watch_ticker = self.stream.wants("ticker", market.ticker)
        bbo_before = market.best_cents() if watch_ticker else None
        traded = False
        watch_book: bool | None = None
        stamp = ""
        cause: tuple[str, str] | None = None
        for event in events:
            if isinstance(event, Trade):
                self._on_trade(market, event)
                self._sync_status(event.maker.order)
                self._sync_status(event.taker.order)
                traded = True
            elif isinstance(event, LevelChanged):
                if watch_book is None:
                    watch_book = self.stream.wants("orderbook_delta", market.ticker)
                    stamp = iso(self.clock()) if watch_book else ""
                self._on_level(market, event, stamp if watch_book else None, cause)
            else:
                request = event.order.request
                if cause is None and request.client_order_id is not None:
                    cause = (request.owner, request.client_order_id)
                self._sync_status(event.order)
        if watch_ticker and (traded or market.best_cents() != bbo_before):
            self.stream.ticker(self.ticker_msg(market))
        for listener in self._listeners:
            listener(market, events)

    def _sync_status(self, view: OrderView) -> None:
        record = self.orders.get(view.order_id)
        if record is None:
            return
        if view.status is OrderStatus.FILLED:
            record.status = "executed"
        elif view.status is OrderStatus.CANCELED:
            record.status = "canceled"
        record.last_update_time = view.updated_at

    def _on_trade(self, market: KalshiMarket, trade: Trade) -> None:
        count = int(trade.quantity)
        yes_cents = _cents(trade.yes_price)
        market.volume += count
        for leg, is_taker in ((trade.maker, False), (trade.taker, True)):
            record = self.orders.get(leg.order.order_id)
            if record is None:
                continue
            cost = _cents(leg.price) * count
            fee = dollars_to_cents(leg.fee, Rounding.UP)
            record.fill_count += count
            if is_taker:
                record.taker_fill_cost += cost
                record.taker_fees += fee
            else:
                record.maker_fill_cost += cost
                record.maker_fees += fee
            fill = KalshiFill(
                trade.trade_id if is_taker else f"{trade.trade_id}-m",
                record.order_id,
                record.client_order_id,
                record.account,
                market.ticker,
                record.side,
                record.action,
                count,
                yes_cents,
                is_taker,
                fee,
                trade.at,
            )
            self.fills.append(fill)
            self.stream.fill(record.account, self._fill_msg(fill))
        taker_side = "yes" if trade.taker.order.request.book_side is BookSide.BID else "no"
        self.stream.trade(
            {
                "trade_id": trade.trade_id,
                "market_ticker": market.ticker,
                "yes_price": yes_cents,
                "no_price": 100 - yes_cents,
                "yes_price_dollars": dollars_str(yes_cents),
                "no_price_dollars": dollars_str(100 - yes_cents),
                "count": count,
                "count_fp": count_fp(count),
                "taker_side": taker_side,
                "ts": int(trade.at.timestamp()),
            }
        )

    def _fill_msg(self, fill: KalshiFill) -> dict[str, Any]:
        position = self.position(fill.account, fill.ticker)
        return {
            "trade_id": fill.trade_id,
            "order_id": fill.order_id,
            "client_order_id": fill.client_order_id,
            "market_ticker": fill.ticker,
            "is_taker": fill.is_taker,
            "side": fill.side,
            "action": fill.action,
            "yes_price": fill.yes_price,
            "yes_price_dollars": dollars_str(fill.yes_price),
            "no_price_dollars": dollars_str(100 - fill.yes_price),
            "count": fill.count,
            "count_fp": count_fp(fill.count),
            "fee_cost": dollars_str(fill.fee),
            "post_position": position,
            "post_position_fp": count_fp(position),
            "purchased_side": fill.side if fill.action == "buy" else ("no" if fill.side == "yes" else "yes"),
            "ts": int(fill.created_time.timestamp()),
        }

    def _on_level(
        self, market: KalshiMarket, change: LevelChanged, stamp: str | None, cause: tuple[str, str] | None
    ) -> None:
        """Mirror the level and publish its delta (stamped `stamp`; None: nobody listens); `cause` is the
        (account, client order id) that moved it."""
        key = (change.side, change.yes_price)
        before = market.levels.get(key, ZERO)
        if change.size:
            market.levels[key] = change.size
        else:
            market.levels.pop(key, None)
        delta = change.size - before
        if delta == 0 or stamp is None:
            return
        side, price = _kalshi_level(change.side, change.yes_price)
        self.stream.book_delta(
            {
                "market_ticker": market.ticker,
                "market_id": market.market_id,
                "price": price,
                "price_dollars": dollars_str(price),
                "delta": int(delta),
                "delta_fp": count_fp(delta),
                "side": side,
                "ts": stamp,
            },
            cause,
        )

    # -- views ---------------------------------------------------------------------------------

    def book(self, ticker: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Kalshi bids (YES, NO) as (cents, count), ascending by price as the venue lists them."""
        engine = self.market(ticker).engine
        yes = sorted((_cents(p), int(q)) for p, q in engine.levels(BookSide.BID))
        no = sorted((100 - _cents(p), int(q)) for p, q in engine.levels(BookSide.ASK))
        return yes, no

    def snapshot_msg(self, ticker: str) -> dict[str, Any] | None:
        market = self.markets.get(ticker)
        if market is None:
            return None
        yes, no = self.book(ticker)
        msg: dict[str, Any] = {"market_ticker": ticker, "market_id": market.market_id}
        if yes:
            msg["yes"] = [[p, q] for p, q in yes]
            msg["yes_dollars_fp"] = [[dollars_str(p), count_fp(q)] for p, q in yes]
        if no:
            msg["no"] = [[p, q] for p, q in no]
            msg["no_dollars_fp"] = [[dollars_str(p), count_fp(q)] for p, q in no]
        return msg

    def ticker_msg(self, market: KalshiMarket) -> dict[str, Any]:
        bid, ask = market.best_cents()
        last = market.last_price_cents()
        return {
            "market_ticker": market.ticker,
            "market_id": market.market_id,
            "price": last,
            "yes_bid": bid,
            "yes_ask": ask,
            "price_dollars": dollars_str(last),
            "yes_bid_dollars": dollars_str(bid),
            "yes_ask_dollars": dollars_str(ask),
            "volume": market.volume,
            "volume_fp": count_fp(market.volume),
            "open_interest": market.open_interest,
            "open_interest_fp": count_fp(market.open_interest),
            "ts": int(self.clock().timestamp()),
        }


def _kalshi_level(side: BookSide, yes_price: Decimal) -> tuple[str, int]:
    cents = _cents(yes_price)
    return ("yes", cents) if side is BookSide.BID else ("no", 100 - cents)
