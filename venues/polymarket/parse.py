"""Polymarket wire formats -> records in `messages` and `domain.models.Market`.

Pure functions over bytes/str/dicts; no I/O. Every schema problem becomes a
`PolymarketParseError` naming the field, so a stream can log and count it and move
on. Prices go through a small cache: a market-channel stream sees the same few
hundred price strings over and over, and a dict hit is several times cheaper than
building a `Decimal`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import orjson

from domain.addresses import valid_wallet
from domain.models import Market, Venue
from venues.polymarket.messages import (
    BestBidAskEvent,
    BookEvent,
    CancelResult,
    GammaTag,
    LastTradePriceEvent,
    Level,
    MakerOrderFill,
    MarketEvent,
    MarketResolvedEvent,
    NewMarketEvent,
    OpenOrder,
    PolymarketParseError,
    PostOrderResult,
    PriceChange,
    PriceChangeEvent,
    RtdsMessage,
    TickSizeChangeEvent,
    UnknownMessageError,
    UserEvent,
    UserOrderEvent,
    UserTradeEvent,
    WalletActivity,
)

JsonObject = Mapping[str, Any]
E = TypeVar("E")

ONE = Decimal(1)
ZERO = Decimal(0)
END_CURSOR = "LTE="
# Taker fee rate assumed for a fee-enabled market that does not publish its rate:
# the highest category rate Polymarket lists (crypto), so edges are never overstated.
UNPUBLISHED_FEE_RATE = Decimal("0.07")

_PRICE_CACHE: dict[str, Decimal] = {}
_PRICE_CACHE_LIMIT = 100_000
# Sizes repeat less than prices but still a lot (round lots, resting orders re-sent in
# every book); the cache is simply emptied when full, which bounds its memory.
_SIZE_CACHE: dict[object, Decimal] = {}
_SIZE_CACHE_LIMIT = 200_000


def price(text: str) -> Decimal:
    """A price string in [0, 1] as Decimal, cached (the set of distinct prices is small)."""
    cached = _PRICE_CACHE.get(text)
    if cached is not None:
        return cached
    value = number(text, "price")
    if not ZERO <= value <= ONE:
        raise PolymarketParseError(f"price {text!r} outside [0, 1]")
    if len(_PRICE_CACHE) < _PRICE_CACHE_LIMIT:
        _PRICE_CACHE[text] = value
    return value


def size(text: object) -> Decimal:
    """A non-negative size as Decimal, cached."""
    cached = _SIZE_CACHE.get(text)
    if cached is not None:
        return cached
    value = number(text, "size")
    if value < 0:
        raise PolymarketParseError(f"negative size {text!r}")
    if len(_SIZE_CACHE) >= _SIZE_CACHE_LIMIT:
        _SIZE_CACHE.clear()
    _SIZE_CACHE[text] = value
    return value


def number(raw: object, what: str) -> Decimal:
    """A finite Decimal from a JSON string or number (floats via their shortest repr)."""
    if isinstance(raw, float):
        raw = repr(raw)
    elif not isinstance(raw, str | int):
        raise PolymarketParseError(f"{what} {raw!r} is not a number")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise PolymarketParseError(f"{what} {raw!r} is not a number") from None
    if not value.is_finite():
        raise PolymarketParseError(f"{what} {raw!r} is not finite")
    return value


def _price_value(raw: object) -> Decimal:
    """A price from a REST body, where it may be a JSON number rather than a string."""
    if isinstance(raw, str):
        return price(raw)
    value = number(raw, "price")
    if not ZERO <= value <= ONE:
        raise PolymarketParseError(f"price {raw!r} outside [0, 1]")
    return value


def _optional_price(raw: object) -> Decimal | None:
    if raw is None or raw == "":
        return None
    return price(raw)  # type: ignore[arg-type]


def _int(raw: object, what: str) -> int:
    if isinstance(raw, bool):
        raise PolymarketParseError(f"{what} {raw!r} is not an integer")
    try:
        return int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise PolymarketParseError(f"{what} {raw!r} is not an integer") from None


MAX_TIMESTAMP_MS = 9_000_000_000_000  # the year 2255; the native parser declines beyond it too


def _timestamp_ms(raw: object) -> int:
    """A market message's time in ms since the epoch; one no clock reaches is refused, not an overflow later."""
    ms = _int(raw, "timestamp")
    if not 0 <= ms <= MAX_TIMESTAMP_MS:
        raise PolymarketParseError(f"timestamp {ms} ms is out of range")
    return ms


def _is_buy(raw: object) -> bool:
    if raw == "BUY":
        return True
    if raw == "SELL":
        return False
    raise PolymarketParseError(f"side {raw!r} is neither BUY nor SELL")


def _levels(raw: object) -> list[Level]:
    """Book levels; the cache lookups of `price`/`size` are inlined (this is most of a `book`'s cost)."""
    if type(raw) is not list:
        raise PolymarketParseError(f"book side {raw!r:.100} is not a list")
    prices, sizes = _PRICE_CACHE.get, _SIZE_CACHE.get
    # `or` falls back on a miss (None) and on a zero (falsy, rare), both handled by the slow path.
    return [(prices(lvl["price"]) or price(lvl["price"]), sizes(lvl["size"]) or size(lvl["size"])) for lvl in raw]


def loads(data: bytes | str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise PolymarketParseError(f"not JSON: {exc}") from None


# ---------------------------------------------------------------- market channel


def _book(m: JsonObject) -> BookEvent:
    tick = m.get("tick_size")
    last = m.get("last_trade_price")
    return BookEvent(
        m["market"],
        m["asset_id"],
        _levels(m["bids"]),
        _levels(m["asks"]),
        _timestamp_ms(m["timestamp"]),
        m.get("hash"),
        number(tick, "tick_size") if tick else None,
        _optional_price(last),
    )


_IS_BID = {"BUY": True, "SELL": False}
_new = tuple.__new__  # builds a NamedTuple without its Python-level __new__ (half the cost)


def _price_change(m: JsonObject) -> PriceChangeEvent:
    timestamp = _timestamp_ms(m["timestamp"])
    entries = m.get("price_changes")
    if entries is not None:
        # The hottest path of the market channel: cache lookups inlined, misses fall back
        # to `price`/`size`, which validate and fill the caches.
        prices, sizes, sides = _PRICE_CACHE.get, _SIZE_CACHE.get, _IS_BID.get
        changes = []
        for e in entries:
            p, s, bid, ask = e["price"], e["size"], e.get("best_bid"), e.get("best_ask")
            is_bid = sides(e["side"])
            if is_bid is None:
                raise PolymarketParseError(f"side {e['side']!r} is neither BUY nor SELL")
            dp, ds = prices(p), sizes(s)
            db = None if bid is None else prices(bid) or _optional_price(bid)
            da = None if ask is None else prices(ask) or _optional_price(ask)
            changes.append(
                _new(
                    PriceChange,
                    (
                        e["asset_id"],
                        price(p) if dp is None else dp,
                        size(s) if ds is None else ds,
                        is_bid,
                        e.get("hash"),
                        db,
                        da,
                    ),
                )
            )
        return PriceChangeEvent(m["market"], changes, timestamp)
    asset_id = m["asset_id"]
    legacy = m.get("changes")
    if legacy is None:
        # August 2024 form: one level per message, fields at the top level.
        legacy = [m]
    changes = [
        PriceChange(asset_id, price(c["price"]), size(c["size"]), _is_buy(c["side"]), m.get("hash"), None, None)
        for c in legacy
    ]
    return PriceChangeEvent(m["market"], changes, timestamp)


def _tick_size_change(m: JsonObject) -> TickSizeChangeEvent:
    return TickSizeChangeEvent(
        m["market"],
        m["asset_id"],
        number(m["old_tick_size"], "old_tick_size"),
        number(m["new_tick_size"], "new_tick_size"),
        _timestamp_ms(m["timestamp"]),
    )


def _last_trade_price(m: JsonObject) -> LastTradePriceEvent:
    return LastTradePriceEvent(
        m["market"],
        m["asset_id"],
        price(m["price"]),
        size(m["size"]),
        _is_buy(m["side"]),
        _int(m.get("fee_rate_bps") or 0, "fee_rate_bps"),
        _timestamp_ms(m["timestamp"]),
        m.get("transaction_hash"),
    )


def _best_bid_ask(m: JsonObject) -> BestBidAskEvent:
    return BestBidAskEvent(
        m["market"],
        m["asset_id"],
        _optional_price(m.get("best_bid")),
        _optional_price(m.get("best_ask")),
        _timestamp_ms(m["timestamp"]),
    )


def _new_market(m: JsonObject) -> NewMarketEvent:
    tick = m.get("order_price_min_tick_size")
    return NewMarketEvent(
        m.get("condition_id") or m["market"],
        m.get("question", ""),
        tuple(m.get("clob_token_ids") or m["assets_ids"]),
        tuple(m.get("outcomes") or ()),
        number(tick, "order_price_min_tick_size") if tick else None,
        m.get("description", ""),
        bool(m.get("active", True)),
        _timestamp_ms(m["timestamp"]),
    )


def _market_resolved(m: JsonObject) -> MarketResolvedEvent:
    return MarketResolvedEvent(
        m["market"],
        tuple(m["assets_ids"]),
        m["winning_asset_id"],
        m.get("winning_outcome", ""),
        _timestamp_ms(m["timestamp"]),
    )


_MARKET_PARSERS: dict[str, Callable[[JsonObject], MarketEvent]] = {
    "book": _book,
    "price_change": _price_change,
    "tick_size_change": _tick_size_change,
    "last_trade_price": _last_trade_price,
    "best_bid_ask": _best_bid_ask,
    "new_market": _new_market,
    "market_resolved": _market_resolved,
}


def market_event(m: object) -> MarketEvent:
    """One decoded market-channel object; a `book` may come without `event_type`."""
    if not isinstance(m, dict):
        raise PolymarketParseError(f"event is not an object: {m!r:.200}")
    kind = m.get("event_type")
    if kind is None and "bids" in m and "asks" in m:
        kind = "book"
    parser = _MARKET_PARSERS.get(kind) if isinstance(kind, str) else None  # a list or object would not hash
    if parser is None:
        raise UnknownMessageError(f"unknown market event_type {kind!r}")
    try:
        return parser(m)
    except PolymarketParseError:
        raise
    except KeyError as exc:
        raise PolymarketParseError(f"{kind} message lacks {exc}") from None
    except (TypeError, AttributeError, ValueError) as exc:
        raise PolymarketParseError(f"{kind} message malformed: {exc}") from None


def _frame(data: bytes | str, event: Callable[[Any], E]) -> list[E]:
    """A channel frame is one JSON object or a JSON array of them."""
    decoded = loads(data)
    if isinstance(decoded, list):
        return [event(m) for m in decoded]
    return [event(decoded)]


def market_frame(data: bytes | str) -> list[MarketEvent]:
    return _frame(data, market_event)


# ---------------------------------------------------------------- user channel / private REST


def _maker_order(m: JsonObject) -> MakerOrderFill:
    return MakerOrderFill(
        m["order_id"],
        m.get("owner", ""),
        m.get("maker_address", ""),
        m["asset_id"],
        size(m["matched_amount"]),
        price(m["price"]),
        _int(m.get("fee_rate_bps") or 0, "fee_rate_bps"),
        m.get("outcome", ""),
    )


def trade(m: JsonObject) -> UserTradeEvent:
    """A user `trade` event or one entry of `GET /data/trades`."""
    try:
        return UserTradeEvent(
            m["id"],
            m["market"],
            m["asset_id"],
            _is_buy(m["side"]),
            price(m["price"]),
            size(m["size"]),
            m["status"],
            m.get("taker_order_id", ""),
            m.get("trader_side", ""),
            _int(m.get("fee_rate_bps") or 0, "fee_rate_bps"),
            m.get("outcome", ""),
            m.get("owner", ""),
            tuple(_maker_order(o) for o in m.get("maker_orders") or ()),
            _int(m.get("match_time") or 0, "match_time"),
            m.get("transaction_hash"),
        )
    except KeyError as exc:
        raise PolymarketParseError(f"trade lacks {exc}") from None


def _user_order(m: JsonObject) -> UserOrderEvent:
    return UserOrderEvent(
        m["id"],
        m["market"],
        m["asset_id"],
        _is_buy(m["side"]),
        price(m["price"]),
        size(m["original_size"]),
        size(m.get("size_matched") or "0"),
        m["type"],
        m.get("outcome", ""),
        m.get("owner", ""),
        tuple(m.get("associate_trades") or ()),
        _int(m.get("timestamp") or 0, "timestamp"),
    )


def user_event(m: object) -> UserEvent:
    if not isinstance(m, dict):
        raise PolymarketParseError(f"event is not an object: {m!r:.200}")
    kind = m.get("event_type")
    try:
        if kind == "trade":
            return trade(m)
        if kind == "order":
            return _user_order(m)
    except KeyError as exc:
        raise PolymarketParseError(f"{kind} message lacks {exc}") from None
    raise UnknownMessageError(f"unknown user event_type {kind!r}")


def user_frame(data: bytes | str) -> list[UserEvent]:
    return _frame(data, user_event)


def open_order(m: JsonObject) -> OpenOrder:
    try:
        return OpenOrder(
            m["id"],
            m["market"],
            m["asset_id"],
            _is_buy(m["side"]),
            price(m["price"]),
            size(m["original_size"]),
            size(m.get("size_matched") or "0"),
            m["status"],
            m.get("order_type", ""),
            m.get("outcome", ""),
            _int(m.get("expiration") or 0, "expiration"),
            _int(m.get("created_at") or 0, "created_at"),
            tuple(m.get("associate_trades") or ()),
        )
    except KeyError as exc:
        raise PolymarketParseError(f"order lacks {exc}") from None


def post_order_result(m: JsonObject) -> PostOrderResult:
    making = m.get("makingAmount")
    taking = m.get("takingAmount")
    return PostOrderResult(
        bool(m.get("success", False)),
        m.get("orderID") or m.get("orderId") or "",
        m.get("status", ""),
        m.get("errorMsg") or "",
        size(making) if making not in (None, "") else None,
        size(taking) if taking not in (None, "") else None,
        tuple(m.get("transactionsHashes") or ()),
    )


def cancel_result(m: JsonObject) -> CancelResult:
    return CancelResult(tuple(m.get("canceled") or ()), dict(m.get("not_canceled") or {}))


_MISSING = object()


def _field(m: JsonObject, camel: str, snake: str, default: Any = _MISSING) -> Any:
    """A Data API field under its v1 (camelCase) or v2 (snake_case) name; KeyError names the v1 one."""
    value = m.get(camel, m.get(snake, default))
    if value is _MISSING:
        raise KeyError(camel)
    return value


def wallet_activity(m: object) -> WalletActivity:
    """A Data API row (`/activity` or `/trades`, v1 or v2); numbers arrive as JSON floats there and are
    read through their shortest repr, i.e. exactly as written."""
    if not isinstance(m, dict):
        raise PolymarketParseError(f"data api row {m!r:.100} is not an object")
    try:
        kind = str(m.get("type") or "TRADE").upper()
        raw_side = m.get("side") or ""
        if kind == "TRADE":
            is_buy: bool | None = _is_buy(raw_side)
        elif raw_side:
            is_buy = _is_buy(raw_side)
        else:
            is_buy = None
        usdc = _field(m, "usdcSize", "usdc_size", None)
        try:
            wallet = valid_wallet(str(_field(m, "proxyWallet", "proxy_wallet")))
        except ValueError as exc:
            raise PolymarketParseError(f"data api row: {exc}") from None
        return WalletActivity(
            wallet,
            kind,
            str(_field(m, "conditionId", "condition_id") or ""),
            str(_field(m, "asset", "token_id") or ""),
            is_buy,
            _price_value(m.get("price") or 0),
            size(m.get("size") or 0),
            None if usdc is None else size(usdc),
            _int(m["timestamp"], "timestamp"),
            str(m.get("outcome") or ""),
            _int(_field(m, "outcomeIndex", "outcome_index", 0), "outcomeIndex"),
            str(_field(m, "transactionHash", "transaction_hash", "")),
        )
    except KeyError as exc:
        raise PolymarketParseError(f"data api row lacks {exc}") from None


def rtds_frame(data: bytes | str) -> list[RtdsMessage]:
    """An RTDS frame: one `{topic, type, timestamp, payload}` object or an array of them."""
    decoded = loads(data)
    items = decoded if isinstance(decoded, list) else [decoded]
    messages = []
    for m in items:
        if not isinstance(m, dict) or "topic" not in m or not isinstance(m.get("payload"), dict):
            raise PolymarketParseError(f"not an RTDS message: {m!r:.200}")
        messages.append(
            RtdsMessage(m["topic"], m.get("type", ""), _int(m.get("timestamp") or 0, "timestamp"), m["payload"])
        )
    return messages


# ---------------------------------------------------------------- markets (CLOB and Gamma)


def book_response(m: JsonObject) -> BookEvent:
    """`GET /book?token_id=` has the same shape as the market-channel `book` event."""
    try:
        return _book(m)
    except KeyError as exc:
        raise PolymarketParseError(f"book lacks {exc}") from None


def _utc(raw: object) -> datetime | None:
    if not raw:
        return None
    if not isinstance(raw, str):
        raise PolymarketParseError(f"date {raw!r} is not a string")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise PolymarketParseError(f"date {raw!r} is not ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _yes_no(token_ids: list[str], outcomes: list[str], market_id: str) -> tuple[str, str]:
    """YES is the token whose outcome is "Yes"; for named outcomes (teams) the first listed."""
    if len(token_ids) != 2 or not all(token_ids):
        raise PolymarketParseError(f"market {market_id} is not a tradable binary market: tokens {token_ids}")
    if len(outcomes) == 2 and outcomes[0].lower() == "no" and outcomes[1].lower() == "yes":
        return token_ids[1], token_ids[0]
    return token_ids[0], token_ids[1]


def _tick(raw: object) -> Decimal:
    tick = number(raw, "tick size")
    if tick not in (Decimal("0.1"), Decimal("0.01"), Decimal("0.001"), Decimal("0.0001")):
        raise PolymarketParseError(f"unsupported tick size {raw!r}")
    return tick


def clob_market(m: JsonObject) -> Market:
    """One market of CLOB `GET /markets` or `GET /markets/{condition_id}`."""
    try:
        condition_id = m["condition_id"]
        tokens = m["tokens"]
        yes, no = _yes_no([t.get("token_id", "") for t in tokens], [t.get("outcome", "") for t in tokens], condition_id)
        taker_bps = number(m.get("taker_base_fee") or 0, "taker_base_fee")
        return Market(
            venue=Venue.POLYMARKET,
            market_id=condition_id,
            title=m.get("question", ""),
            yes_token=yes,
            no_token=no,
            tick_size=_tick(m["minimum_tick_size"]),
            min_order_size=number(m.get("minimum_order_size") or 0, "minimum_order_size"),
            neg_risk=bool(m.get("neg_risk", False)),
            taker_fee_rate=UNPUBLISHED_FEE_RATE if taker_bps > 0 else ZERO,
            rules=m.get("description", ""),
            end_date=_utc(m.get("end_date_iso")),
            active=bool(m.get("active", False)) and bool(m.get("accepting_orders", True)),
            closed=bool(m.get("closed", False)),
        )
    except KeyError as exc:
        raise PolymarketParseError(f"CLOB market lacks {exc}") from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, PolymarketParseError):
            raise
        raise PolymarketParseError(f"CLOB market malformed: {exc}") from None


def _json_list(raw: object, what: str) -> list[str]:
    if isinstance(raw, list):
        return [str(x) for x in raw]
    if not isinstance(raw, str):
        raise PolymarketParseError(f"{what} {raw!r:.100} is neither a list nor a JSON string")
    decoded = loads(raw)
    if not isinstance(decoded, list):
        raise PolymarketParseError(f"{what} {raw!r:.100} is not a JSON list")
    return [str(x) for x in decoded]


def _gamma_fee_rate(m: JsonObject) -> Decimal:
    schedule = m.get("feeSchedule")
    if isinstance(schedule, dict) and schedule.get("rate") is not None:
        if schedule.get("exponent", 1) != 1:
            raise PolymarketParseError(f"fee exponent {schedule.get('exponent')!r} is not supported")
        return number(schedule["rate"], "feeSchedule.rate")
    if m.get("feesEnabled"):
        return UNPUBLISHED_FEE_RATE
    return ZERO


def gamma_market(m: JsonObject, *, event_id: str | None = None) -> Market:
    """A Gamma market object (alone or nested in an event) as a domain `Market`."""
    try:
        condition_id = m["conditionId"]
        yes, no = _yes_no(
            _json_list(m.get("clobTokenIds") or "[]", "clobTokenIds"),
            _json_list(m.get("outcomes") or "[]", "outcomes"),
            condition_id,
        )
        if event_id is None:
            events = m.get("events")
            if isinstance(events, list) and events and isinstance(events[0], dict):
                event_id = str(events[0].get("id")) if events[0].get("id") is not None else None
        rules = m.get("description", "") or ""
        source = m.get("resolutionSource") or ""
        if source and source not in rules:
            rules = f"{rules}\n\nResolution source: {source}" if rules else f"Resolution source: {source}"
        return Market(
            venue=Venue.POLYMARKET,
            market_id=condition_id,
            title=m.get("question", ""),
            yes_token=yes,
            no_token=no,
            tick_size=_tick(m.get("orderPriceMinTickSize") or "0.01"),
            min_order_size=number(m.get("orderMinSize") or 0, "orderMinSize"),
            neg_risk=bool(m.get("negRisk", False)),
            taker_fee_rate=_gamma_fee_rate(m),
            event_id=event_id,
            rules=rules,
            end_date=_utc(m.get("endDate")),
            active=bool(m.get("active", False)) and bool(m.get("acceptingOrders", True)),
            closed=bool(m.get("closed", False)),
        )
    except KeyError as exc:
        raise PolymarketParseError(f"Gamma market lacks {exc}") from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, PolymarketParseError):
            raise
        raise PolymarketParseError(f"Gamma market malformed: {exc}") from None


class MarketPage:
    """Markets of one listing page, with the entries that could not be mapped kept for logging."""

    __slots__ = ("markets", "next_cursor", "rejected")

    def __init__(self, markets: list[Market], rejected: list[PolymarketParseError], next_cursor: str | None):
        self.markets = markets
        self.rejected = rejected
        self.next_cursor = next_cursor

    @property
    def is_last(self) -> bool:
        return not self.next_cursor or self.next_cursor == END_CURSOR


def _collect(raws: Iterable[JsonObject], convert: Callable[[JsonObject], Market]) -> MarketPage:
    markets: list[Market] = []
    rejected: list[PolymarketParseError] = []
    for raw in raws:
        try:
            markets.append(convert(raw))
        except PolymarketParseError as exc:
            rejected.append(exc)
    return MarketPage(markets, rejected, None)


def clob_markets_page(m: JsonObject) -> MarketPage:
    """CLOB `GET /markets` page: `data` plus `next_cursor` (`LTE=` on the last page)."""
    data = m.get("data")
    if not isinstance(data, list):
        raise PolymarketParseError("markets page lacks a data list")
    page = _collect(data, clob_market)
    page.next_cursor = m.get("next_cursor")
    return page


def gamma_markets(raw: object) -> MarketPage:
    """Gamma `GET /markets` (a JSON list of markets)."""
    if not isinstance(raw, list):
        raise PolymarketParseError("Gamma markets response is not a list")
    return _collect(raw, gamma_market)


def gamma_events(raw: object) -> MarketPage:
    """Gamma `GET /events` (a list), `/public-search` (`{"events": [...]}`) or one event object.

    Every nested market comes back tagged with its event id.
    """
    if isinstance(raw, dict) and "markets" not in raw and isinstance(raw.get("events"), list):
        raw = raw["events"]
    events = raw if isinstance(raw, list) else [raw]
    markets: list[Market] = []
    rejected: list[PolymarketParseError] = []
    for event in events:
        if not isinstance(event, dict) or "markets" not in event:
            rejected.append(PolymarketParseError(f"event without markets: {event!r:.100}"))
            continue
        event_id = str(event.get("id")) if event.get("id") is not None else None
        page = _collect(event["markets"], lambda m, e=event_id: gamma_market(m, event_id=e))  # type: ignore[misc]
        markets.extend(page.markets)
        rejected.extend(page.rejected)
    return MarketPage(markets, rejected, None)


def gamma_tags(raw: object) -> list[GammaTag]:
    """Gamma `GET /tags`."""
    if not isinstance(raw, list):
        raise PolymarketParseError("Gamma tags response is not a list")
    try:
        return [GammaTag(str(t["id"]), t.get("label", ""), t.get("slug", "")) for t in raw]
    except (KeyError, TypeError, AttributeError) as exc:
        raise PolymarketParseError(f"Gamma tag malformed: {exc}") from None
