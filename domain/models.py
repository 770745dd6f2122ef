"""The domain model every layer shares: venues, markets, pairs, orders, fills, positions.

These are pydantic models so they cross Temporal with
`temporalio.contrib.pydantic.pydantic_data_converter` (the default converter cannot
carry `Decimal`). All money is `Decimal` dollars or integer venue units, all times UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.accounts import AccountRef
from domain.money import check_price


def utc_now() -> datetime:
    return datetime.now(UTC)


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() != UTC.utcoffset(None):
        raise ValueError("timestamps must be timezone-aware UTC")
    return value


UtcDatetime = Annotated[datetime, AfterValidator(_require_utc)]
Price = Annotated[Decimal, AfterValidator(check_price)]
Quantity = Annotated[Decimal, Field(ge=0)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Venue(StrEnum):
    POLYMARKET = "polymarket"
    KALSHI = "kalshi"


class Outcome(StrEnum):
    YES = "yes"
    NO = "no"

    @property
    def other(self) -> Outcome:
        return Outcome.NO if self is Outcome.YES else Outcome.YES


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class TimeInForce(StrEnum):
    """GTC rests, GTD rests until `expires_at`, FOK fills whole or nothing, FAK (IOC) fills what it can."""

    GTC = "gtc"
    GTD = "gtd"
    FOK = "fok"
    FAK = "fak"


class OrderStatus(StrEnum):
    PENDING = "pending"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        return self in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED)


class OutcomeToken(Frozen):
    """One side of a binary market; on Polymarket an ERC-1155 token id, on Kalshi the market's yes/no side."""

    venue: Venue
    market_id: str
    outcome: Outcome
    token_id: str


class Market(Frozen):
    """A binary market on one venue. `market_id` is the Polymarket condition id or the Kalshi ticker."""

    venue: Venue
    market_id: str
    title: str
    yes_token: str
    no_token: str
    tick_size: Decimal = Decimal("0.01")
    min_order_size: Decimal = Decimal(1)
    neg_risk: bool = False
    taker_fee_rate: Decimal = Decimal(0)
    maker_fee_rate: Decimal = Decimal(0)
    event_id: str | None = None
    rules: str = ""
    end_date: UtcDatetime | None = None
    active: bool = True
    closed: bool = False

    def token(self, outcome: Outcome) -> OutcomeToken:
        token_id = self.yes_token if outcome is Outcome.YES else self.no_token
        return OutcomeToken(venue=self.venue, market_id=self.market_id, outcome=outcome, token_id=token_id)


class PairStatus(StrEnum):
    CANDIDATE = "candidate"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class MarketPair(Frozen):
    """The same question on both venues.

    `aligned` says the Polymarket YES pays when the Kalshi YES pays; when False the
    Polymarket YES is the Kalshi NO (a question worded the other way round).
    """

    pair_id: str
    polymarket: Market
    kalshi: Market
    aligned: bool = True
    confidence: Decimal = Field(default=Decimal(0), ge=0, le=1)
    status: PairStatus = PairStatus.CANDIDATE
    risk_flags: tuple[str, ...] = ()
    confirmed_by: str | None = None
    confirmed_at: UtcDatetime | None = None

    def kalshi_outcome(self, polymarket_outcome: Outcome) -> Outcome:
        """The Kalshi outcome that pays exactly when `polymarket_outcome` pays."""
        return polymarket_outcome if self.aligned else polymarket_outcome.other


class OrderIntent(Frozen):
    """What we want to trade, before a venue has seen it; `client_order_id` makes placement idempotent."""

    client_order_id: str = Field(min_length=1, max_length=64)
    venue: Venue
    market_id: str
    token_id: str
    outcome: Outcome
    side: Side
    price: Price
    quantity: Decimal = Field(gt=0)
    time_in_force: TimeInForce = TimeInForce.GTC
    expires_at: UtcDatetime | None = None
    post_only: bool = False
    account: AccountRef = Field(default_factory=AccountRef)


class Order(Frozen):
    intent: OrderIntent
    venue_order_id: str | None = None
    status: OrderStatus = OrderStatus.PENDING
    filled_quantity: Quantity = Decimal(0)
    average_price: Price | None = None
    fees_paid: Quantity = Decimal(0)
    created_at: UtcDatetime = Field(default_factory=utc_now)
    updated_at: UtcDatetime = Field(default_factory=utc_now)
    reject_reason: str | None = None

    @property
    def remaining_quantity(self) -> Decimal:
        return self.intent.quantity - self.filled_quantity


class Fill(Frozen):
    fill_id: str
    venue: Venue
    venue_order_id: str
    client_order_id: str | None = None
    market_id: str
    outcome: Outcome
    side: Side
    price: Price
    quantity: Decimal = Field(gt=0)
    fee: Quantity = Decimal(0)
    is_taker: bool = True
    filled_at: UtcDatetime = Field(default_factory=utc_now)

    @property
    def notional(self) -> Decimal:
        return self.price * self.quantity


class Position(Frozen):
    """Holdings of one outcome token; `cost_basis` includes fees paid to open."""

    venue: Venue
    market_id: str
    outcome: Outcome
    quantity: Decimal
    cost_basis: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)

    @property
    def average_price(self) -> Decimal | None:
        return None if self.quantity == 0 else self.cost_basis / self.quantity


class Balance(Frozen):
    """Cash on a venue in dollars; `available` excludes what resting orders reserve."""

    venue: Venue
    total: Decimal
    available: Decimal
    as_of: UtcDatetime = Field(default_factory=utc_now)
