"""Parsed Polymarket messages: plain immutable records, no transport, no pydantic.

Market-channel records are NamedTuples because they are built on the hot path
(hundreds of thousands per minute across a few hundred books) and NamedTuple
construction costs about as much as building a tuple. Prices and sizes are
`Decimal`; timestamps stay integer milliseconds as the venue sends them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

Level = tuple[Decimal, Decimal]


class PolymarketParseError(ValueError):
    """A frame or response that does not match the venue's schema; streams log and count it."""


class UnknownMessageError(PolymarketParseError):
    """Valid JSON with an event type we do not handle."""


class BookEvent(NamedTuple):
    """Full book of one token (market channel `book` or REST `GET /book`); levels as the venue sent them."""

    market: str
    asset_id: str
    bids: list[Level]
    asks: list[Level]
    timestamp_ms: int
    hash: str | None
    tick_size: Decimal | None = None
    last_trade_price: Decimal | None = None


class PriceChange(NamedTuple):
    """New absolute size at one level of one token; size 0 removes the level."""

    asset_id: str
    price: Decimal
    size: Decimal
    is_bid: bool
    hash: str | None
    best_bid: Decimal | None
    best_ask: Decimal | None


class PriceChangeEvent(NamedTuple):
    market: str
    changes: list[PriceChange]
    timestamp_ms: int


class TickSizeChangeEvent(NamedTuple):
    market: str
    asset_id: str
    old_tick_size: Decimal
    new_tick_size: Decimal
    timestamp_ms: int


class LastTradePriceEvent(NamedTuple):
    market: str
    asset_id: str
    price: Decimal
    size: Decimal
    is_buy: bool
    fee_rate_bps: int
    timestamp_ms: int
    transaction_hash: str | None


class BestBidAskEvent(NamedTuple):
    market: str
    asset_id: str
    best_bid: Decimal | None
    best_ask: Decimal | None
    timestamp_ms: int


class NewMarketEvent(NamedTuple):
    market: str
    question: str
    asset_ids: tuple[str, ...]
    outcomes: tuple[str, ...]
    tick_size: Decimal | None
    description: str
    active: bool
    timestamp_ms: int


class MarketResolvedEvent(NamedTuple):
    market: str
    asset_ids: tuple[str, ...]
    winning_asset_id: str
    winning_outcome: str
    timestamp_ms: int


MarketEvent = (
    BookEvent
    | PriceChangeEvent
    | TickSizeChangeEvent
    | LastTradePriceEvent
    | BestBidAskEvent
    | NewMarketEvent
    | MarketResolvedEvent
)


class UserOrderEvent(NamedTuple):
    """User channel `order`: type PLACEMENT, UPDATE (a fill) or CANCELLATION."""

    order_id: str
    market: str
    asset_id: str
    is_buy: bool
    price: Decimal
    original_size: Decimal
    size_matched: Decimal
    type: str
    outcome: str
    owner: str
    associate_trades: tuple[str, ...]
    timestamp_ms: int


class MakerOrderFill(NamedTuple):
    order_id: str
    owner: str
    maker_address: str
    asset_id: str
    matched_amount: Decimal
    price: Decimal
    fee_rate_bps: int
    outcome: str


class UserTradeEvent(NamedTuple):
    """A trade we took part in (user channel `trade` or REST `GET /data/trades`).

    `status` walks MATCHED -> MINED -> CONFIRMED (or RETRYING -> FAILED); only
    CONFIRMED is final on chain. `trader_side` says whether our order was the taker.
    """

    trade_id: str
    market: str
    asset_id: str
    is_buy: bool
    price: Decimal
    size: Decimal
    status: str
    taker_order_id: str
    trader_side: str
    fee_rate_bps: int
    outcome: str
    owner: str
    maker_orders: tuple[MakerOrderFill, ...]
    match_time: int
    transaction_hash: str | None


UserEvent = UserOrderEvent | UserTradeEvent


class OpenOrder(NamedTuple):
    """An order as `GET /data/order/{id}` and `GET /data/orders` report it."""

    order_id: str
    market: str
    asset_id: str
    is_buy: bool
    price: Decimal
    original_size: Decimal
    size_matched: Decimal
    status: str
    order_type: str
    outcome: str
    expiration: int
    created_at: int
    associate_trades: tuple[str, ...]


class PostOrderResult(NamedTuple):
    """`POST /order` answer; `status` is matched, live, delayed or unmatched."""

    success: bool
    order_id: str
    status: str
    error_msg: str
    making_amount: Decimal | None
    taking_amount: Decimal | None
    transaction_hashes: tuple[str, ...]


class CancelResult(NamedTuple):
    canceled: tuple[str, ...]
    not_canceled: dict[str, str]


class WalletActivity(NamedTuple):
    """One Data API row of a wallet (`/activity` or `/trades`; camelCase v1 or snake_case v2), the
    copy-trading input. `kind` is TRADE for a trade (a `/trades` row is always one); other kinds
    (REDEEM, REWARD, MAKER_REBATE, SPLIT, MERGE, CONVERSION, ...) carry no side (`is_buy` None)
    and often no market or asset."""

    wallet: str
    kind: str
    condition_id: str
    asset_id: str
    is_buy: bool | None
    price: Decimal
    size: Decimal
    usdc_size: Decimal | None
    timestamp_s: int
    outcome: str
    outcome_index: int
    transaction_hash: str


class RtdsMessage(NamedTuple):
    """A Real-Time Data Socket message: `topic`/`type` say what `payload` is (e.g. activity/trades)."""

    topic: str
    type: str
    timestamp_ms: int
    payload: dict[str, Any]


class GammaTag(NamedTuple):
    """A Gamma tag (`GET /tags`); its id filters market and event listings (`tag_id=`)."""

    tag_id: str
    label: str
    slug: str
