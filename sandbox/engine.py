"""A venue-neutral matching engine for one binary market, shared by every sandbox venue.

Price space. The engine keeps one book in YES prices: bids buy YES, asks sell YES.
Every venue order maps onto it without losing its own view:

    venue order            book side   YES price   on a fill at YES price p
    buy  YES at p          bid         p           pays p, receives a YES token
    sell YES at p          ask         p           gives a YES token, receives p
    buy  NO  at q          ask         1 - q       pays 1 - p, receives a NO token
    sell NO  at q          bid         1 - q       gives a NO token, receives 1 - p

So a YES buyer meeting a NO buyer mints a pair (together they pay 1), a YES seller
meeting a NO seller merges one (together they receive 1), and same-outcome orders
swap tokens for cash. Polymarket NO-token orders and Kalshi `no` orders both land here.

Interface for a venue layer (see `sandbox.polymarket` for a full one):

* Build one `MatchingEngine(MarketRules(...), ledger, fees)` per market; share one
  `sandbox.ledger.Ledger` across a venue's markets, with that venue's `FeeModel`.
* `submit(OrderRequest)` validates (tick, min size, size step, expiry, duplicate ids,
  balance), matches and returns an `Execution`: the order's final `OrderView` and the
  events it caused, in order. Rejections are not exceptions: the view has status
  REJECTED and `reject_reason`, and the events hold one `OrderRejected`.
* `cancel(order_id, owner)`, `cancel_owner(owner)`, `cancel_all()`, `expire()` and
  `close()` return events too. `cancel` raises `UnknownOrderError` for an order that
  does not exist or belongs to someone else, `OrderNotOpenError` for a finished one.
* Events, all frozen dataclasses: `OrderAccepted` (validated, before matching),
  `Trade` (one maker/taker match, with both legs in their own outcome terms and fees),
  `OrderRested` (the remainder now rests), `OrderCanceled` (with a `CancelReason`),
  `OrderRejected`, and `LevelChanged` (new aggregate size of one YES-space level,
  coalesced per call, emitted after the order events). `engine.events` keeps the
  latest `EVENT_HISTORY` of them; finished orders stay readable (`order`, `orders`)
  until `FINISHED_ORDER_HISTORY` newer ones have finished, so memory stays bounded
  however long a market runs (a venue keeps its own records for as long as it needs).
* `OrderRequest.tag` carries anything the venue needs back in its messages (for
  Polymarket the signed order); the engine never looks at it.

Rules the engine enforces, the same on every venue:

* Price-time priority; a taker trades at each maker's price.
* Time in force: GTC rests; GTD rests until `expires_at` (swept before every submit
  and by `expire()`, using the injected clock); FOK fills completely or is rejected
  with no effect at all; FAK (IOC) fills what it can and cancels the rest.
* Self-trade prevention cancels the RESTING order: when a taker meets a resting
  order of the same owner, that resting order is cancelled (reason SELF_TRADE) and
  matching continues. A taker is never rejected for self-trading.
* Cash: a buy reserves limit x quantity plus its largest possible fee
  (`ledger.fee_bound`); a sell reserves its tokens. Each fill is charged the growth
  of its order's accumulated fee (`FeeModel.order_fee`), per role (maker/taker). An order that cannot reserve is
  rejected (INSUFFICIENT_BALANCE / INSUFFICIENT_POSITION). Price improvement and
  unused fee headroom are released as the order fills. If per-fill fee rounding ever
  leaves a reservation short, the shortfall comes from free cash, and if there is
  none the order stops and its remainder is cancelled (INSUFFICIENT_BALANCE).
  Fees are paid in cash on every venue (Polymarket really takes them from proceeds).
"""

from __future__ import annotations

import uuid
from bisect import bisect_left, insort
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.fees import FillLevel
from domain.models import OrderStatus, Outcome, Side, TimeInForce, utc_now
from domain.money import ONE, ZERO
from sandbox.ledger import FeeModel, Ledger, LedgerError, NoFees, fee_bound

EVENT_HISTORY = 10_000
FINISHED_ORDER_HISTORY = 100_000


class BookSide(StrEnum):
    BID = "bid"
    ASK = "ask"


class RejectReason(StrEnum):
    MARKET_CLOSED = "market_closed"
    DUPLICATE_ORDER_ID = "duplicate_order_id"
    DUPLICATE_CLIENT_ORDER_ID = "duplicate_client_order_id"
    INVALID_PRICE = "invalid_price"
    INVALID_TICK = "invalid_tick"
    INVALID_SIZE = "invalid_size"
    BELOW_MIN_SIZE = "below_min_size"
    INVALID_EXPIRATION = "invalid_expiration"
    POST_ONLY_WOULD_CROSS = "post_only_would_cross"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    INSUFFICIENT_POSITION = "insufficient_position"
    FOK_NOT_FILLED = "fok_not_filled"


class CancelReason(StrEnum):
    USER = "user"
    EXPIRED = "expired"
    SELF_TRADE = "self_trade"
    UNFILLED = "unfilled"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    MARKET_CLOSED = "market_closed"


class UnknownOrderError(KeyError):
    pass


class OrderNotOpenError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class MarketRules:
    market_id: str
    tick_size: Decimal = Decimal("0.01")
    min_size: Decimal = Decimal(1)
    size_step: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An order in the venue's own terms; `price` is the price of `outcome`."""

    owner: str
    outcome: Outcome
    side: Side
    price: Decimal
    quantity: Decimal
    time_in_force: TimeInForce = TimeInForce.GTC
    expires_at: datetime | None = None
    client_order_id: str | None = None
    order_id: str | None = None
    post_only: bool = False
    tag: object = None

    @property
    def book_side(self) -> BookSide:
        buys_yes_exposure = (self.outcome is Outcome.YES) == (self.side is Side.BUY)
        return BookSide.BID if buys_yes_exposure else BookSide.ASK

    @property
    def yes_price(self) -> Decimal:
        return self.price if self.outcome is Outcome.YES else ONE - self.price


@dataclass(frozen=True, slots=True)
class OrderView:
    """An immutable picture of an order at one moment, safe to keep in events."""

    order_id: str
    market_id: str
    request: OrderRequest
    status: OrderStatus
    filled: Decimal
    notional: Decimal
    fees_paid: Decimal
    created_at: datetime
    updated_at: datetime
    reject_reason: RejectReason | None = None
    cancel_reason: CancelReason | None = None

    @property
    def owner(self) -> str:
        return self.request.owner

    @property
    def remaining(self) -> Decimal:
        if self.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED):
            return self.request.quantity - self.filled
        return ZERO

    @property
    def average_price(self) -> Decimal | None:
        return self.notional / self.filled if self.filled else None


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    order: OrderView


@dataclass(frozen=True, slots=True)
class OrderRested:
    order: OrderView


@dataclass(frozen=True, slots=True)
class OrderRejected:
    order: OrderView
    message: str


@dataclass(frozen=True, slots=True)
class OrderCanceled:
    order: OrderView
    reason: CancelReason


@dataclass(frozen=True, slots=True)
class TradeLeg:
    """One side of a trade in its own terms: `price` of its outcome and the fee it paid."""

    order: OrderView
    price: Decimal
    fee: Decimal


@dataclass(frozen=True, slots=True)
class Trade:
    trade_id: str
    market_id: str
    yes_price: Decimal
    quantity: Decimal
    maker: TradeLeg
    taker: TradeLeg
    at: datetime


@dataclass(frozen=True, slots=True)
class LevelChanged:
    market_id: str
    side: BookSide
    yes_price: Decimal
    size: Decimal


Event = OrderAccepted | OrderRested | OrderRejected | OrderCanceled | Trade | LevelChanged


@dataclass(frozen=True, slots=True)
class Execution:
    order: OrderView
    events: tuple[Event, ...]


@dataclass(slots=True, eq=False)
class _Order:
    order_id: str
    request: OrderRequest
    created_at: datetime
    updated_at: datetime
    status: OrderStatus = OrderStatus.OPEN
    filled: Decimal = ZERO
    notional: Decimal = ZERO
    fees_paid: Decimal = ZERO
    reserved_cash: Decimal = ZERO
    reserved_tokens: Decimal = ZERO
    reject_reason: RejectReason | None = None
    cancel_reason: CancelReason | None = None
    maker_fills: list[FillLevel] = field(default_factory=list)
    taker_fills: list[FillLevel] = field(default_factory=list)
    book_side: BookSide = field(init=False)
    yes_price: Decimal = field(init=False)
    view: OrderView | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.book_side = self.request.book_side
        self.yes_price = self.request.yes_price

    @property
    def remaining(self) -> Decimal:
        return self.request.quantity - self.filled

    def fills_as(self, is_taker: bool) -> list[FillLevel]:
        return self.taker_fills if is_taker else self.maker_fills

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


class _BookSide:
    """Price levels of one YES-space side with FIFO queues; prices kept ascending."""

    __slots__ = ("is_bid", "prices", "queues", "sizes")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.prices: list[Decimal] = []
        self.queues: dict[Decimal, deque[_Order]] = {}
        self.sizes: dict[Decimal, Decimal] = {}

    def best_first(self) -> Iterator[Decimal]:
        return reversed(self.prices) if self.is_bid else iter(self.prices)

    def add(self, price: Decimal, order: _Order) -> None:
        queue = self.queues.get(price)
        if queue is None:
            queue = self.queues[price] = deque()
            self.sizes[price] = ZERO
            insort(self.prices, price)
        queue.append(order)
        self.sizes[price] += order.remaining

    def reduce(self, price: Decimal, quantity: Decimal) -> None:
        self.sizes[price] -= quantity

    def remove(self, price: Decimal, order: _Order) -> None:
        """Take `order` out of its queue; its remaining size must already be subtracted or be subtracted here."""
        queue = self.queues[price]
        queue.remove(order)
        self.sizes[price] -= order.remaining
        if not queue:
            del self.queues[price]
            del self.sizes[price]
            del self.prices[bisect_left(self.prices, price)]

    def levels(self) -> tuple[tuple[Decimal, Decimal], ...]:
        return tuple((p, self.sizes[p]) for p in self.best_first())


@dataclass(slots=True)
class _Plan:
    fills: list[tuple[_Order, Decimal]] = field(default_factory=list)
    self_trades: list[_Order] = field(default_factory=list)
    broke_makers: list[_Order] = field(default_factory=list)
    taker_broke: bool = False

    @property
    def quantity(self) -> Decimal:
        return sum((q for _, q in self.fills), ZERO)


class _Budget:
    """Cash an order may spend during planning: its reservation, then its owner's free cash."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._reserved_used: dict[str, Decimal] = {}
        self._free_used: dict[str, Decimal] = {}
        self.planned_fills: dict[str, list[FillLevel]] = {}

    def try_spend(self, order: _Order, amount: Decimal, from_reservation: bool) -> bool:
        used = self._reserved_used.get(order.order_id, ZERO)
        from_res = min(amount, order.reserved_cash - used) if from_reservation else ZERO
        extra = amount - from_res
        owner = order.request.owner
        free_used = self._free_used.get(owner, ZERO)
        if extra > self._ledger.account(owner).available_cash - free_used:
            return False
        self._reserved_used[order.order_id] = used + from_res
        self._free_used[owner] = free_used + extra
        return True


class MatchingEngine:
    """Book, orders and matching of one binary market; single-threaded, every call atomic."""

    def __init__(
        self,
        rules: MarketRules,
        ledger: Ledger,
        fees: FeeModel | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.rules = rules
        self.ledger = ledger
        self.fees: FeeModel = fees if fees is not None else NoFees()
        self.closed = False
        self.last_trade_price: Decimal | None = None
        self.events: deque[Event] = deque(maxlen=EVENT_HISTORY)
        self._clock = clock
        self._new_id = new_id
        self._bids = _BookSide(is_bid=True)
        self._asks = _BookSide(is_bid=False)
        self._orders: dict[str, _Order] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._client_ids: set[tuple[str, str]] = set()
        self._expiring: set[str] = set()
        self._pending: list[Event] = []
        self._dirty: dict[tuple[BookSide, Decimal], None] = {}

    @property
    def market_id(self) -> str:
        return self.rules.market_id

    # ---- reading -------------------------------------------------------------------------

    def levels(self, side: BookSide) -> tuple[tuple[Decimal, Decimal], ...]:
        """Aggregate (YES price, size) levels of one side, best first."""
        return (self._bids if side is BookSide.BID else self._asks).levels()

    def best(self, side: BookSide) -> Decimal | None:
        book = self._bids if side is BookSide.BID else self._asks
        return next(book.best_first(), None)

    def order(self, order_id: str) -> OrderView | None:
        found = self._orders.get(order_id)
        return None if found is None else self._view(found)

    def orders(self, owner: str | None = None, *, open_only: bool = False) -> list[OrderView]:
        return [
            self._view(o)
            for o in self._orders.values()
            if (owner is None or o.request.owner == owner) and (o.is_open or not open_only)
        ]

    # ---- writing -------------------------------------------------------------------------

    def submit(self, request: OrderRequest) -> Execution:
        self._expire_due()
        now = self._clock()
        order = _Order(request.order_id or self._new_id(), request, now, now)
        reason, message = self._validate(order, now)
        if reason is None:
            reason, message = self._reserve(order)
        if reason is not None:
            return self._reject(order, reason, message)
        self._orders[order.order_id] = order
        if request.client_order_id is not None:
            self._client_ids.add((request.owner, request.client_order_id))
        plan = self._plan(order)
        if request.time_in_force is TimeInForce.FOK and plan.quantity < request.quantity:
            del self._orders[order.order_id]
            if request.client_order_id is not None:
                self._client_ids.discard((request.owner, request.client_order_id))
            self._release(order)
            return self._reject(order, RejectReason.FOK_NOT_FILLED, "order could not be filled completely")
        self._emit(OrderAccepted(self._view(order)))
        self._execute(order, plan)
        if order.is_open:
            self._finish_taker(order, plan.taker_broke)
        return self._flush(order)

    def cancel(self, order_id: str, owner: str | None = None) -> Execution:
        order = self._orders.get(order_id)
        if order is None or (owner is not None and order.request.owner != owner):
            raise UnknownOrderError(order_id)
        if not order.is_open:
            raise OrderNotOpenError(f"order {order_id} is {order.status.value}")
        self._cancel(order, CancelReason.USER)
        return self._flush(order)

    def forget(self, order_id: str) -> None:
        """Drop a finished order now (market makers churn millions whose history nobody reads);
        an open or unknown order is left as it is."""
        if order_id in self._finished:
            del self._finished[order_id]
            self._drop(order_id)

    def cancel_owner(self, owner: str) -> tuple[Event, ...]:
        return self._cancel_where(lambda o: o.request.owner == owner, CancelReason.USER)

    def cancel_all(self) -> tuple[Event, ...]:
        return self._cancel_where(lambda o: True, CancelReason.USER)

    def expire(self) -> tuple[Event, ...]:
        self._expire_due()
        return self._flush_events()

    def close(self) -> tuple[Event, ...]:
        """Stop trading: cancel every open order and reject new ones (before settlement)."""
        self.closed = True
        return self._cancel_where(lambda o: True, CancelReason.MARKET_CLOSED)

    # ---- validation and reservation ------------------------------------------------------

    def _validate(self, order: _Order, now: datetime) -> tuple[RejectReason | None, str]:
        req, rules = order.request, self.rules
        tick = rules.tick_size
        if self.closed:
            return RejectReason.MARKET_CLOSED, f"market {rules.market_id} is closed"
        if order.order_id in self._orders:
            return RejectReason.DUPLICATE_ORDER_ID, f"order {order.order_id} already exists"
        if req.client_order_id is not None and (req.owner, req.client_order_id) in self._client_ids:
            return RejectReason.DUPLICATE_CLIENT_ORDER_ID, f"client order id {req.client_order_id} already used"
        if not ZERO < req.price < ONE:
            return RejectReason.INVALID_PRICE, f"price {req.price} outside (0, 1)"
        if req.price % tick != 0 or not tick <= req.price <= ONE - tick:
            return RejectReason.INVALID_TICK, f"price {req.price} is not a multiple of tick {tick} in range"
        if req.quantity <= 0 or (rules.size_step is not None and req.quantity % rules.size_step != 0):
            return RejectReason.INVALID_SIZE, f"size {req.quantity} is not a positive multiple of lot"
        if req.quantity < rules.min_size:
            return RejectReason.BELOW_MIN_SIZE, f"size {req.quantity} below minimum {rules.min_size}"
        if (req.time_in_force is TimeInForce.GTD) != (req.expires_at is not None):
            return RejectReason.INVALID_EXPIRATION, "expires_at is required for GTD and only for GTD"
        if req.expires_at is not None and req.expires_at <= now:
            return RejectReason.INVALID_EXPIRATION, f"expires_at {req.expires_at.isoformat()} is in the past"
        if req.post_only:
            if req.time_in_force in (TimeInForce.FOK, TimeInForce.FAK):
                return RejectReason.POST_ONLY_WOULD_CROSS, "post-only orders must rest (GTC or GTD)"
            opposite = self._asks if order.book_side is BookSide.BID else self._bids
            best = next(opposite.best_first(), None)
            if best is not None and self._crosses(order, best):
                return RejectReason.POST_ONLY_WOULD_CROSS, "post-only order would cross the book"
        return None, ""

    def _buy_reservation(self, price: Decimal, quantity: Decimal) -> Decimal:
        return price * quantity + fee_bound(self.fees, price, quantity)

    def _reserve(self, order: _Order) -> tuple[RejectReason | None, str]:
        req = order.request
        try:
            if req.side is Side.BUY:
                amount = self._buy_reservation(req.price, req.quantity)
                self.ledger.reserve_cash(req.owner, amount)
                order.reserved_cash = amount
            else:
                self.ledger.reserve_tokens(req.owner, self.market_id, req.outcome, req.quantity)
                order.reserved_tokens = req.quantity
        except LedgerError as exc:
            reason = RejectReason.INSUFFICIENT_BALANCE if req.side is Side.BUY else RejectReason.INSUFFICIENT_POSITION
            return reason, str(exc)
        return None, ""

    def _release(self, order: _Order) -> None:
        req = order.request
        if order.reserved_cash:
            self.ledger.release_cash(req.owner, order.reserved_cash)
            order.reserved_cash = ZERO
        if order.reserved_tokens:
            self.ledger.release_tokens(req.owner, self.market_id, req.outcome, order.reserved_tokens)
            order.reserved_tokens = ZERO

    def _rebalance(self, order: _Order) -> bool:
        """Keep a partly filled buy's reservation at what its remainder needs; False if it cannot."""
        req = order.request
        if req.side is not Side.BUY:
            return True
        needed = self._buy_reservation(req.price, order.remaining)
        if order.reserved_cash > needed:
            self.ledger.release_cash(req.owner, order.reserved_cash - needed)
        elif order.reserved_cash < needed:
            try:
                self.ledger.reserve_cash(req.owner, needed - order.reserved_cash)
            except LedgerError:
                return False
        order.reserved_cash = needed
        return True

    # ---- matching ------------------------------------------------------------------------

    @staticmethod
    def _crosses(order: _Order, resting_yes_price: Decimal) -> bool:
        if order.book_side is BookSide.BID:
            return resting_yes_price <= order.yes_price
        return resting_yes_price >= order.yes_price

    def _leg_cash(
        self, order: _Order, yes_price: Decimal, qty: Decimal, is_taker: bool, planned: list[FillLevel]
    ) -> tuple[Decimal, Decimal]:
        """(own price, fee) of one fill for `order`: the growth of the order's accumulated fee."""
        own = yes_price if order.request.outcome is Outcome.YES else ONE - yes_price
        before = order.fills_as(is_taker) + planned
        fee = self.fees.order_fee([*before, (own, qty)], is_taker) - self.fees.order_fee(before, is_taker)
        return own, max(fee, ZERO)

    def _affordable(self, budget: _Budget, order: _Order, yes_price: Decimal, qty: Decimal, taker: bool) -> bool:
        planned = budget.planned_fills.setdefault(order.order_id, [])
        own, fee = self._leg_cash(order, yes_price, qty, taker, planned)
        if order.request.side is Side.BUY:
            ok = budget.try_spend(order, own * qty + fee, from_reservation=True)
        else:
            ok = budget.try_spend(order, max(fee - own * qty, ZERO), from_reservation=False)
        if ok:
            planned.append((own, qty))
        return ok

    def _plan(self, taker: _Order) -> _Plan:
        """Decide every match of `taker` without changing anything, so FOK can back out cleanly."""
        plan = _Plan()
        budget = _Budget(self.ledger)
        req = taker.request
        book = self._asks if taker.book_side is BookSide.BID else self._bids
        remaining = req.quantity
        for price in book.best_first():
            if remaining == 0 or not self._crosses(taker, price):
                break
            for maker in book.queues[price]:
                if remaining == 0:
                    break
                if maker.request.owner == req.owner:
                    plan.self_trades.append(maker)
                    continue
                qty = min(remaining, maker.remaining)
                if not self._affordable(budget, maker, price, qty, taker=False):
                    plan.broke_makers.append(maker)
                    continue
                if not self._affordable(budget, taker, price, qty, taker=True):
                    plan.taker_broke = True
                    return plan
                plan.fills.append((maker, qty))
                remaining -= qty
        return plan

    def _execute(self, taker: _Order, plan: _Plan) -> None:
        for maker in plan.self_trades:
            self._cancel(maker, CancelReason.SELF_TRADE)
        for maker in plan.broke_makers:
            self._cancel(maker, CancelReason.INSUFFICIENT_BALANCE)
        now = self._clock()
        for maker, qty in plan.fills:
            yes_price = maker.yes_price
            maker_price, maker_fee = self._settle_leg(maker, yes_price, qty, is_taker=False, now=now)
            taker_price, taker_fee = self._settle_leg(taker, yes_price, qty, is_taker=True, now=now)
            book = self._bids if maker.book_side is BookSide.BID else self._asks
            if maker.remaining == 0:
                maker.status = OrderStatus.FILLED
                maker.view = None
                book.reduce(yes_price, qty)
                book.remove(yes_price, maker)
                self._release(maker)
                self._expiring.discard(maker.order_id)
                self._retire(maker)
            else:
                book.reduce(yes_price, qty)
            self._touch(maker.book_side, yes_price)
            self.last_trade_price = yes_price
            self._emit(
                Trade(
                    trade_id=self._new_id(),
                    market_id=self.market_id,
                    yes_price=yes_price,
                    quantity=qty,
                    maker=TradeLeg(self._view(maker), maker_price, maker_fee),
                    taker=TradeLeg(self._view(taker), taker_price, taker_fee),
                    at=now,
                ),
            )
            if maker.is_open and not self._rebalance(maker):
                self._cancel(maker, CancelReason.INSUFFICIENT_BALANCE)
        if taker.remaining == 0:
            taker.status = OrderStatus.FILLED
            taker.view = None
            self._release(taker)
            self._retire(taker)

    def _settle_leg(
        self, order: _Order, yes_price: Decimal, qty: Decimal, *, is_taker: bool, now: datetime
    ) -> tuple[Decimal, Decimal]:
        req, ledger = order.request, self.ledger
        own, fee = self._leg_cash(order, yes_price, qty, is_taker, [])
        order.fills_as(is_taker).append((own, qty))
        cost = own * qty
        if req.side is Side.BUY:
            from_res = min(cost, order.reserved_cash)
            ledger.pay(req.owner, cost, from_reserved=from_res)
            order.reserved_cash -= from_res
            fee_res = min(fee, order.reserved_cash)
            ledger.collect_fee(req.owner, fee, from_reserved=fee_res)
            order.reserved_cash -= fee_res
            ledger.give_tokens(req.owner, self.market_id, req.outcome, qty)
        else:
            ledger.take_tokens(req.owner, self.market_id, req.outcome, qty)
            order.reserved_tokens -= qty
            ledger.receive(req.owner, cost)
            ledger.collect_fee(req.owner, fee)
        order.filled += qty
        order.notional += cost
        order.fees_paid += fee
        order.status = OrderStatus.FILLED if order.remaining == 0 else OrderStatus.PARTIALLY_FILLED
        order.updated_at = now
        order.view = None
        return own, fee

    def _finish_taker(self, order: _Order, broke: bool) -> None:
        req = order.request
        if broke:
            self._cancel(order, CancelReason.INSUFFICIENT_BALANCE, resting=False)
        elif req.time_in_force in (TimeInForce.FOK, TimeInForce.FAK):
            self._cancel(order, CancelReason.UNFILLED, resting=False)
        elif not self._rebalance(order):
            self._cancel(order, CancelReason.INSUFFICIENT_BALANCE, resting=False)
        else:
            book = self._bids if order.book_side is BookSide.BID else self._asks
            book.add(order.yes_price, order)
            self._touch(order.book_side, order.yes_price)
            if req.time_in_force is TimeInForce.GTD:
                self._expiring.add(order.order_id)
            self._emit(OrderRested(self._view(order)))

    # ---- cancellation --------------------------------------------------------------------

    def _cancel(self, order: _Order, reason: CancelReason, *, resting: bool = True) -> None:
        if resting:
            book = self._bids if order.book_side is BookSide.BID else self._asks
            book.remove(order.yes_price, order)
            self._touch(order.book_side, order.yes_price)
        order.status = OrderStatus.CANCELED
        order.cancel_reason = reason
        order.updated_at = self._clock()
        order.view = None
        self._release(order)
        self._expiring.discard(order.order_id)
        self._retire(order)
        self._emit(OrderCanceled(self._view(order), reason))

    def _retire(self, order: _Order) -> None:
        """Note a finished order; the oldest finished ones are forgotten past `FINISHED_ORDER_HISTORY`."""
        self._finished[order.order_id] = None
        while len(self._finished) > FINISHED_ORDER_HISTORY:
            self._drop(self._finished.popitem(last=False)[0])

    def _drop(self, order_id: str) -> None:
        old = self._orders.pop(order_id, None)
        if old is not None and old.request.client_order_id is not None:
            self._client_ids.discard((old.request.owner, old.request.client_order_id))

    def _cancel_where(self, predicate: Callable[[_Order], bool], reason: CancelReason) -> tuple[Event, ...]:
        for order in [o for o in self._orders.values() if o.is_open and predicate(o)]:
            self._cancel(order, reason)
        return self._flush_events()

    def _expire_due(self) -> None:
        if not self._expiring:
            return
        now = self._clock()
        due = [
            self._orders[i]
            for i in self._expiring
            if (exp := self._orders[i].request.expires_at) is not None and exp <= now
        ]
        for order in sorted(due, key=lambda o: o.created_at):
            self._cancel(order, CancelReason.EXPIRED)

    # ---- events --------------------------------------------------------------------------

    def _reject(self, order: _Order, reason: RejectReason, message: str) -> Execution:
        order.status = OrderStatus.REJECTED
        order.reject_reason = reason
        order.view = None
        self._emit(OrderRejected(self._view(order), message))
        return self._flush(order)

    def _view(self, order: _Order) -> OrderView:
        """The order's view, built once per change (every change of a viewed field clears `order.view`)."""
        if order.view is None:
            order.view = OrderView(
                order_id=order.order_id,
                market_id=self.rules.market_id,
                request=order.request,
                status=order.status,
                filled=order.filled,
                notional=order.notional,
                fees_paid=order.fees_paid,
                created_at=order.created_at,
                updated_at=order.updated_at,
                reject_reason=order.reject_reason,
                cancel_reason=order.cancel_reason,
            )
        return order.view

    def _emit(self, event: Event) -> None:
        self._pending.append(event)

    def _touch(self, side: BookSide, yes_price: Decimal) -> None:
        self._dirty[(side, yes_price)] = None

    def _flush_events(self) -> tuple[Event, ...]:
        for side, price in self._dirty:
            book = self._bids if side is BookSide.BID else self._asks
            self._pending.append(LevelChanged(self.market_id, side, price, book.sizes.get(price, ZERO)))
        self._dirty.clear()
        events = tuple(self._pending)
        self._pending.clear()
        self.events.extend(events)
        return events

    def _flush(self, order: _Order) -> Execution:
        return Execution(self._view(order), self._flush_events())
