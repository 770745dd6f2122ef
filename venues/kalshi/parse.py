"""Kalshi wire formats to typed values: REST bodies, WebSocket envelopes and the recorder's re-wrapped lines.

No I/O here (the client and stream own transport), and no pydantic on the WebSocket
path: book messages become slotted dataclasses so a busy stream costs little more
than decoding its JSON. REST objects, which arrive rarely, map onto the shared
pydantic domain models.

Kalshi publishes every price twice, as integer cents and as an exact dollar string
(`*_dollars`, `*_fixed`), and quantities as integers and fixed-point strings (`*_fp`,
fractional contracts exist). The dollar/fp strings are preferred whenever present:
they are exact and carry sub-cent ticks that the cent integers cannot.

Anything that does not have the shape we rely on raises `KalshiParseError` carrying
the offending payload, so the caller can log it, count it and carry on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from domain.models import Balance, Fill, Market, OrderStatus, Outcome, Position, Side, Venue
from domain.money import CENT, ONE, ZERO, cents_to_dollars

Level = tuple[Decimal, Decimal]
JsonObject = Mapping[str, Any]

DEFAULT_TAKER_FEE_MULTIPLIER = Decimal("0.07")
"""Kalshi's standard quadratic taker fee multiplier; a series' `fee_multiplier` overrides it."""

_OPEN_STATUSES = frozenset({"active", "open"})
_CLOSED_STATUSES = frozenset({"closed", "settled", "determined", "finalized", "inactive"})
_OUTCOMES = {"yes": Outcome.YES, "no": Outcome.NO}
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}


class KalshiParseError(ValueError):
    """A Kalshi payload did not have the shape we rely on; `payload` keeps it for the log."""

    def __init__(self, message: str, payload: object = None):
        super().__init__(message)
        self.payload = payload


# --- scalar helpers -------------------------------------------------------------------------

_PRICE_CACHE: dict[str, Decimal] = {}
_PRICE_CACHE_LIMIT = 20_000


def _price_str(text: str) -> Decimal:
    """Dollar price string to Decimal; prices repeat endlessly on a stream, so conversions are cached."""
    value = _PRICE_CACHE.get(text)
    if value is None:
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise KalshiParseError(f"bad price {text!r}") from None
        if not value.is_finite() or not ZERO <= value <= ONE:
            raise KalshiParseError(f"price {text!r} outside [0, 1]")
        if len(_PRICE_CACHE) < _PRICE_CACHE_LIMIT:
            _PRICE_CACHE[text] = value
    return value


_QUANTITY_CACHE: dict[str, Decimal] = {}
_QUANTITY_CACHE_LIMIT = 50_000


def _quantity_str(text: str, what: str) -> Decimal:
    """Quantity/delta string to Decimal; the few thousand common sizes are cached."""
    value = _QUANTITY_CACHE.get(text)
    if value is None:
        value = _decimal(text, what)
        if len(_QUANTITY_CACHE) < _QUANTITY_CACHE_LIMIT:
            _QUANTITY_CACHE[text] = value
    return value


def _decimal(value: object, what: str) -> Decimal:
    if isinstance(value, str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise KalshiParseError(f"bad {what} {value!r}") from None
    elif isinstance(value, int) and not isinstance(value, bool):
        result = Decimal(value)
    else:
        raise KalshiParseError(f"bad {what} {value!r}")
    if not result.is_finite():
        raise KalshiParseError(f"bad {what} {value!r}")
    return result


def _cents(value: object, what: str) -> Decimal:
    if not isinstance(value, int) or isinstance(value, bool):
        raise KalshiParseError(f"bad {what} {value!r} (expected integer cents)")
    return cents_to_dollars(value)


def _price(obj: JsonObject, dollars_keys: tuple[str, ...], cents_key: str | None) -> Decimal | None:
    """The exact dollar string when Kalshi sent one (non-empty), else the cent integer, else None."""
    for key in dollars_keys:
        text = obj.get(key)
        if isinstance(text, str) and text:
            return _price_str(text)
    if cents_key is not None:
        cents = obj.get(cents_key)
        if cents is not None:
            price = _cents(cents, cents_key)
            if not ZERO <= price <= ONE:
                raise KalshiParseError(f"{cents_key} {cents} outside [0, 100] cents")
            return price
    return None


def _money(obj: JsonObject, dollars_key: str, cents_key: str) -> Decimal | None:
    """An amount in dollars: `<x>_dollars` string when present and non-empty, else `<x>` cents."""
    text = obj.get(dollars_key)
    if isinstance(text, str) and text:
        return _decimal(text, dollars_key)
    cents = obj.get(cents_key)
    return None if cents is None else _cents(cents, cents_key)


def _quantity(obj: JsonObject, fp_key: str, int_key: str) -> Decimal | None:
    text = obj.get(fp_key)
    if isinstance(text, str) and text:
        return _decimal(text, fp_key)
    count = obj.get(int_key)
    return None if count is None else _decimal(count, int_key)


def _require(obj: JsonObject, key: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise KalshiParseError(f"missing {key!r}", obj) from None


def _str(obj: JsonObject, key: str) -> str:
    value = _require(obj, key)
    if not isinstance(value, str) or not value:
        raise KalshiParseError(f"{key!r} must be a non-empty string", obj)
    return value


def _outcome(value: object) -> Outcome:
    try:
        return _OUTCOMES[value]  # type: ignore[index]
    except (KeyError, TypeError):
        raise KalshiParseError(f"bad side {value!r}") from None


def _side(value: object) -> Side:
    try:
        return _SIDES[value]  # type: ignore[index]
    except (KeyError, TypeError):
        raise KalshiParseError(f"bad action {value!r}") from None


def parse_time(value: object) -> datetime | None:
    """Kalshi timestamps: RFC 3339 strings, unix seconds, or (on the recorder) float seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise KalshiParseError(f"bad timestamp {value!r}")
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise KalshiParseError(f"bad timestamp {value!r}") from None
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise KalshiParseError(f"bad timestamp {value!r}")


def _levels(raw: object, *, dollars: bool, what: str) -> list[Level]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise KalshiParseError(f"{what} must be a list of [price, size]", raw)
    levels: list[Level] = []
    for entry in raw:
        if not isinstance(entry, list | tuple) or len(entry) != 2:
            raise KalshiParseError(f"bad level in {what}: {entry!r}")
        price_raw, size_raw = entry
        if dollars:
            if not isinstance(price_raw, str):
                raise KalshiParseError(f"bad dollar price in {what}: {entry!r}")
            price = _price_str(price_raw)
        else:
            price = _cents(price_raw, what)
            if not ZERO <= price <= ONE:
                raise KalshiParseError(f"price outside [0, 100] cents in {what}: {entry!r}")
        size = _decimal(size_raw, f"size in {what}")
        if size < 0:
            raise KalshiParseError(f"negative size in {what}: {entry!r}")
        levels.append((price, size))
    return levels


def _book_sides(obj: JsonObject) -> tuple[list[Level], list[Level]]:
    """YES bids and NO bids from any of Kalshi's spellings, exact dollar strings first.

    Each side is read on its own: Kalshi may leave out an empty side in one spelling,
    and falling back per side never drops a side that another spelling carries.
    """
    return _book_side(obj, "yes"), _book_side(obj, "no")


def _book_side(obj: JsonObject, side: str) -> list[Level]:
    for key in (f"{side}_dollars_fp", f"{side}_dollars"):
        raw = obj.get(key)
        if raw:
            return _levels(raw, dollars=True, what=key)
    raw = obj.get(side)
    return _levels(raw, dollars=_is_dollar_levels(raw), what=side)


def _is_dollar_levels(raw: object) -> bool:
    return isinstance(raw, list) and bool(raw) and isinstance(raw[0], list | tuple) and isinstance(raw[0][0], str)


# --- WebSocket messages -----------------------------------------------------------------------


@dataclass(slots=True)
class OrderbookSnapshot:
    """Bids on both outcomes for one market; `sid`/`seq` are None on recorder lines."""

    sid: int | None
    seq: int | None
    ticker: str
    yes_bids: list[Level]
    no_bids: list[Level]


@dataclass(slots=True)
class OrderbookDelta:
    """`delta` contracts added (negative: removed) at `price` on `side`'s bids."""

    sid: int | None
    seq: int | None
    ticker: str
    side: Outcome
    price: Decimal
    delta: Decimal
    ts: object = None


@dataclass(slots=True)
class TickerUpdate:
    sid: int | None
    ticker: str
    last_price: Decimal | None
    yes_bid: Decimal | None
    yes_ask: Decimal | None
    yes_bid_size: Decimal | None
    yes_ask_size: Decimal | None
    volume: Decimal | None
    open_interest: Decimal | None
    ts: object = None


@dataclass(slots=True)
class TradeUpdate:
    sid: int | None
    seq: int | None
    trade_id: str
    ticker: str
    yes_price: Decimal
    no_price: Decimal
    count: Decimal
    taker_side: Outcome
    ts: object = None


@dataclass(slots=True)
class FillUpdate:
    """`post_position`: the account's net position in the market after the fill (YES positive, NO negative)."""

    sid: int | None
    seq: int | None
    fill: Fill
    post_position: Decimal | None = None


@dataclass(slots=True)
class Subscribed:
    """`sid` and `channel` are None on the older reply form ``{"type": "subscribed", "id": n}``."""

    request_id: int | None
    sid: int | None
    channel: str | None


@dataclass(slots=True)
class Unsubscribed:
    request_id: int | None
    sids: list[int]


@dataclass(slots=True)
class CommandOk:
    """Reply to update_subscription and similar commands."""

    request_id: int | None
    sid: int | None


@dataclass(slots=True)
class ErrorMessage:
    request_id: int | None
    code: int | None
    message: str


@dataclass(slots=True)
class UnhandledMessage:
    """A well-formed message of a type we do not consume (market_lifecycle_v2, ...): skipped, not an error."""

    type: str
    sid: int | None


WsMessage = (
    OrderbookSnapshot
    | OrderbookDelta
    | TickerUpdate
    | TradeUpdate
    | FillUpdate
    | Subscribed
    | Unsubscribed
    | CommandOk
    | ErrorMessage
    | UnhandledMessage
)


_json_loads = orjson.loads


def _loads(raw: str | bytes) -> dict[str, Any]:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise KalshiParseError(f"not JSON: {exc}", raw) from None
    if not isinstance(obj, dict):
        raise KalshiParseError("message is not a JSON object", raw)
    return obj


def _opt_int(obj: JsonObject, key: str) -> int | None:
    value = obj.get(key)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise KalshiParseError(f"{key!r} must be an integer", obj)


def parse_ws_message(raw: str | bytes) -> WsMessage:
    """One WebSocket frame (``{type, sid, seq, msg}`` or a command reply ``{id, type, msg}``).

    Book deltas, nearly all of the traffic, take a fast path that reads the usual
    fields through the conversion caches; anything unusual (cents instead of dollar
    strings, a missing or mistyped field, a value not seen before) falls through to
    the general, validating parser, which also fills the caches.
    """
    try:
        obj = _json_loads(raw)
    except orjson.JSONDecodeError as exc:
        raise KalshiParseError(f"not JSON: {exc}", raw) from None
    if type(obj) is not dict:
        raise KalshiParseError("message is not a JSON object", raw)
    if obj.get("type") == "orderbook_delta":
        body = obj.get("msg")
        try:
            delta = OrderbookDelta(
                obj["sid"],
                obj["seq"],
                body["market_ticker"],  # type: ignore[index]
                _OUTCOMES[body["side"]],  # type: ignore[index]
                _PRICE_CACHE[body["price_dollars"]],  # type: ignore[index]
                _QUANTITY_CACHE[body["delta_fp"]],  # type: ignore[index]
                body.get("ts"),  # type: ignore[union-attr]
            )
        except (KeyError, TypeError, AttributeError):
            pass
        else:
            if type(delta.sid) is int and type(delta.seq) is int and type(delta.ticker) is str and delta.ticker:
                return delta
    return parse_ws_object(obj)


def parse_ws_object(obj: JsonObject) -> WsMessage:
    kind = obj.get("type")
    body = obj.get("msg")
    if not isinstance(kind, str):
        raise KalshiParseError("message without a string 'type'", obj)
    if kind in ("subscribed", "unsubscribed", "ok", "error"):
        return _parse_reply(kind, obj, body)
    if not isinstance(body, dict):
        raise KalshiParseError(f"{kind} message without an object 'msg'", obj)
    try:
        sid = _opt_int(obj, "sid")
        seq = _opt_int(obj, "seq")
        if kind == "orderbook_delta":
            return _delta(body, sid, seq, body.get("market_ticker"))
        if kind == "orderbook_snapshot":
            return _snapshot(body, sid, seq, body.get("market_ticker"))
        if kind == "ticker":
            return _ticker(body, sid, body.get("market_ticker"))
        if kind == "trade":
            return _trade(body, sid, seq, body.get("market_ticker"))
        if kind == "fill":
            return FillUpdate(sid, seq, parse_fill(body), _quantity(body, "post_position_fp", "post_position"))
    except KalshiParseError as exc:
        if exc.payload is None or exc.payload is body:
            exc.payload = obj
        raise
    return UnhandledMessage(kind, sid)


def _parse_reply(kind: str, obj: JsonObject, body: object) -> WsMessage:
    request_id = _opt_int(obj, "id")
    msg: JsonObject = body if isinstance(body, dict) else {}
    if kind == "subscribed":
        sid = msg.get("sid")
        channel = msg.get("channel")
        if (sid is not None and type(sid) is not int) or (channel is not None and not isinstance(channel, str)):
            raise KalshiParseError("subscribed with a bad sid or channel", obj)
        return Subscribed(request_id, sid, channel)
    if kind == "unsubscribed":
        sid = obj.get("sid", msg.get("sid"))
        sids = msg.get("sids", [sid] if sid is not None else [])
        if not isinstance(sids, list) or not all(isinstance(s, int) for s in sids):
            raise KalshiParseError("unsubscribed with bad sids", obj)
        return Unsubscribed(request_id, sids)
    if kind == "ok":
        return CommandOk(request_id, _opt_int(obj, "sid"))
    code = msg.get("code")
    text = msg.get("msg", msg.get("message", ""))
    return ErrorMessage(request_id, code if isinstance(code, int) else None, str(text))


def _ticker_of(value: object, obj: JsonObject) -> str:
    if not isinstance(value, str) or not value:
        raise KalshiParseError("missing market ticker", obj)
    return value


def _delta(body: JsonObject, sid: int | None, seq: int | None, ticker: object) -> OrderbookDelta:
    price_text = body.get("price_dollars")
    if isinstance(price_text, str) and price_text:
        price = _price_str(price_text)
    else:
        price = _cents(_require(body, "price"), "price")
        if not ZERO <= price <= ONE:
            raise KalshiParseError("delta price outside [0, 100] cents", body)
    delta_text = body.get("delta_fp")
    if isinstance(delta_text, str) and delta_text:
        delta = _quantity_str(delta_text, "delta_fp")
    else:
        delta = _decimal(_require(body, "delta"), "delta")
    side = _OUTCOMES.get(body.get("side"))  # type: ignore[arg-type]
    if side is None:
        raise KalshiParseError(f"bad side {body.get('side')!r}", body)
    return OrderbookDelta(sid, seq, _ticker_of(ticker, body), side, price, delta, body.get("ts"))


def _snapshot(body: JsonObject, sid: int | None, seq: int | None, ticker: object) -> OrderbookSnapshot:
    yes, no = _book_sides(body)
    return OrderbookSnapshot(sid, seq, _ticker_of(ticker, body), yes, no)


def _ticker(body: JsonObject, sid: int | None, ticker: object) -> TickerUpdate:
    return TickerUpdate(
        sid=sid,
        ticker=_ticker_of(ticker, body),
        last_price=_price(body, ("price_dollars",), "price"),
        yes_bid=_price(body, ("yes_bid_dollars",), "yes_bid"),
        yes_ask=_price(body, ("yes_ask_dollars",), "yes_ask"),
        yes_bid_size=_quantity(body, "yes_bid_size_fp", "yes_bid_size"),
        yes_ask_size=_quantity(body, "yes_ask_size_fp", "yes_ask_size"),
        volume=_quantity(body, "volume_fp", "volume"),
        open_interest=_quantity(body, "open_interest_fp", "open_interest"),
        ts=body.get("ts", body.get("time")),
    )


def _trade(body: JsonObject, sid: int | None, seq: int | None, ticker: object) -> TradeUpdate:
    yes_price = _price(body, ("yes_price_dollars",), "yes_price")
    if yes_price is None:  # the older trade form: `price` (YES, cents) and `side`
        yes_price = _price(body, (), "price")
    no_price = _price(body, ("no_price_dollars",), "no_price")
    if yes_price is None and no_price is None:
        raise KalshiParseError("trade without a price", body)
    yes_price = ONE - no_price if yes_price is None else yes_price  # type: ignore[operator]
    no_price = ONE - yes_price if no_price is None else no_price
    count = _quantity(body, "count_fp", "count")
    if count is None:
        raise KalshiParseError("trade without a count", body)
    return TradeUpdate(
        sid=sid,
        seq=seq,
        trade_id=_str(body, "trade_id"),
        ticker=_ticker_of(ticker, body),
        yes_price=yes_price,
        no_price=no_price,
        count=count,
        taker_side=_outcome(body.get("taker_side", body.get("side"))),
        ts=body.get("ts", body.get("created_time")),
    )


# --- the mdowis recorder's re-wrapped lines ---------------------------------------------------


@dataclass(slots=True)
class RecorderMeta:
    """The recorder's market header line (a REST market object, flattened)."""

    ticker: str
    title: str
    status: str


RecorderMessage = OrderbookSnapshot | OrderbookDelta | TickerUpdate | TradeUpdate | RecorderMeta


def parse_recorder_line(raw: str | bytes) -> RecorderMessage:
    """One line of the mdowis recorder: `type` snapshot/delta/trade/ticker/meta, fields flattened out of `msg`.

    The recorder dropped `sid`, so sequence numbers there are shared by every market
    the subscription covered; they are kept as read and the caller decides what they mean.
    """
    obj = _loads(raw)
    kind = obj.get("type")
    ticker = obj.get("ticker")
    seq = _opt_int(obj, "seq")
    if kind == "delta":
        return _delta(obj, None, seq, ticker)
    if kind == "snapshot":
        return _snapshot(obj, None, seq, ticker)
    if kind == "trade":
        return _trade(obj, None, seq, ticker)
    if kind == "ticker":
        return _ticker(obj, None, ticker)
    if kind == "meta":
        return RecorderMeta(_ticker_of(ticker, obj), str(obj.get("title", "")), str(obj.get("status", "")))
    raise KalshiParseError(f"unknown recorder line type {kind!r}", obj)


# --- REST -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a cursor-paginated listing; an empty `cursor` means it was the last."""

    items: list[Any]
    cursor: str | None


def _cursor(body: JsonObject) -> str | None:
    cursor = body.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise KalshiParseError("cursor must be a string", body)
    return cursor or None


def _list(body: JsonObject, key: str) -> list[Any]:
    items = body.get(key)
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise KalshiParseError(f"{key!r} must be a list of objects", body)
    return items


@dataclass(frozen=True, slots=True)
class KalshiSeries:
    ticker: str
    title: str
    category: str
    fee_type: str
    fee_multiplier: Decimal | None


def parse_series(body: JsonObject) -> KalshiSeries:
    """`GET /series/{ticker}` body (``{"series": {...}}``) or a bare series object."""
    obj = body.get("series", body)
    if not isinstance(obj, dict):
        raise KalshiParseError("series must be an object", body)
    multiplier = obj.get("fee_multiplier")
    fee_multiplier = None
    if multiplier is not None:
        if isinstance(multiplier, bool) or not isinstance(multiplier, int | float | str):
            raise KalshiParseError("bad fee_multiplier", obj)
        # A float multiplier (e.g. 0.07) is read through its shortest repr, which is what Kalshi wrote.
        fee_multiplier = _decimal(str(multiplier), "fee_multiplier")
    return KalshiSeries(
        ticker=_str(obj, "ticker"),
        title=str(obj.get("title", "")),
        category=str(obj.get("category", "")),
        fee_type=str(obj.get("fee_type", "")),
        fee_multiplier=fee_multiplier,
    )


@dataclass(frozen=True, slots=True)
class KalshiEvent:
    event_ticker: str
    series_ticker: str
    title: str
    sub_title: str
    mutually_exclusive: bool
    markets: list[Market]


def parse_event(obj: JsonObject, *, fee_multiplier: Decimal | None = None) -> KalshiEvent:
    markets = [parse_market(m, fee_multiplier=fee_multiplier) for m in _list(obj, "markets")]
    return KalshiEvent(
        event_ticker=_str(obj, "event_ticker"),
        series_ticker=str(obj.get("series_ticker", "")),
        title=str(obj.get("title", "")),
        sub_title=str(obj.get("sub_title", "")),
        mutually_exclusive=bool(obj.get("mutually_exclusive", False)),
        markets=markets,
    )


def parse_events_page(body: JsonObject) -> Page:
    return Page([parse_event(e) for e in _list(body, "events")], _cursor(body))


def kalshi_token(ticker: str, outcome: Outcome) -> str:
    """Kalshi has no token ids; a market's sides are named ``TICKER:yes`` / ``TICKER:no``."""
    return f"{ticker}:{outcome.value}"


def split_token(token: str) -> tuple[str, Outcome]:
    ticker, sep, side = token.rpartition(":")
    if not sep or not ticker:
        raise KalshiParseError(f"not a Kalshi token {token!r}")
    return ticker, _outcome(side)


def _tick_size(obj: JsonObject) -> Decimal:
    """Smallest step of the market's price ranges (sub-cent on deci-cent markets), else `tick_size` cents."""
    ranges = obj.get("price_ranges")
    if isinstance(ranges, list) and ranges:
        steps = [_decimal(r.get("step"), "price_ranges.step") for r in ranges if isinstance(r, dict)]
        if steps and min(steps) > 0:
            return min(steps)
    tick = obj.get("tick_size")
    if isinstance(tick, int) and not isinstance(tick, bool) and tick > 0:
        return cents_to_dollars(tick)
    return CENT


def parse_market(obj: JsonObject, *, fee_multiplier: Decimal | None = None) -> Market:
    """A REST market object as a domain `Market` (sides named by `kalshi_token`).

    Kalshi's market object carries no fee rate; pass the series' `fee_multiplier` when
    known, else Kalshi's standard taker multiplier is assumed (never zero).
    """
    ticker = _str(obj, "ticker")
    if obj.get("market_type", "binary") != "binary":
        raise KalshiParseError(f"{ticker}: only binary markets are supported", obj)
    status = str(obj.get("status", ""))
    rules = "\n\n".join(r for r in (obj.get("rules_primary"), obj.get("rules_secondary")) if isinstance(r, str) and r)
    title = str(obj.get("title", ""))
    subtitle = obj.get("yes_sub_title") or obj.get("subtitle")
    if isinstance(subtitle, str) and subtitle and subtitle.lower() != "yes" and subtitle not in title:
        title = f"{title} — {subtitle}" if title else subtitle
    try:
        return Market(
            venue=Venue.KALSHI,
            market_id=ticker,
            title=title,
            yes_token=kalshi_token(ticker, Outcome.YES),
            no_token=kalshi_token(ticker, Outcome.NO),
            tick_size=_tick_size(obj),
            taker_fee_rate=DEFAULT_TAKER_FEE_MULTIPLIER if fee_multiplier is None else fee_multiplier,
            event_id=obj.get("event_ticker") or None,
            rules=rules,
            end_date=parse_time(obj.get("close_time")),
            active=status in _OPEN_STATUSES,
            closed=status in _CLOSED_STATUSES,
        )
    except ValueError as exc:
        if isinstance(exc, KalshiParseError):
            raise
        raise KalshiParseError(f"{ticker}: {exc}", obj) from None


def parse_markets_page(body: JsonObject, *, fee_multiplier: Decimal | None = None) -> Page:
    return Page([parse_market(m, fee_multiplier=fee_multiplier) for m in _list(body, "markets")], _cursor(body))


@dataclass(frozen=True, slots=True)
class OrderbookLevels:
    """A REST order book: bids only, per outcome, as Kalshi lists them."""

    yes_bids: list[Level]
    no_bids: list[Level]


def parse_orderbook(body: JsonObject) -> OrderbookLevels:
    """`GET /markets/{ticker}/orderbook`: ``orderbook_fp`` (dollar strings) or ``orderbook`` (cents and/or dollars)."""
    book = body.get("orderbook_fp") or body.get("orderbook")
    if book is None:
        raise KalshiParseError("no orderbook in response", body)
    if not isinstance(book, dict):
        raise KalshiParseError("orderbook must be an object", body)
    yes, no = _book_sides(book)
    return OrderbookLevels(yes, no)


_ORDER_STATUSES = {
    "resting": OrderStatus.OPEN,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "executed": OrderStatus.FILLED,
    "pending": OrderStatus.PENDING,
}


@dataclass(frozen=True, slots=True)
class KalshiOrder:
    """An order as Kalshi reports it, in dollars and contracts.

    `fill_cost` is what Kalshi books for the fills (taker + maker); for a sell it is
    the cost of the opposite side, so `average_price` converts it back to the price
    of `outcome` received per contract.
    """

    order_id: str
    client_order_id: str | None
    ticker: str
    outcome: Outcome
    side: Side
    order_type: str
    venue_status: str
    status: OrderStatus
    limit_price: Decimal | None
    initial_count: Decimal | None
    fill_count: Decimal
    remaining_count: Decimal | None
    fill_cost: Decimal
    fees: Decimal
    created_at: datetime | None

    @property
    def average_price(self) -> Decimal | None:
        if self.fill_count == 0:
            return None
        per_contract = self.fill_cost / self.fill_count
        return per_contract if self.side is Side.BUY else ONE - per_contract


def _sum_present(*values: Decimal | None) -> Decimal:
    return sum((v for v in values if v is not None), ZERO)


def parse_order(obj: JsonObject) -> KalshiOrder:
    """An order object from create/get/cancel/batch responses (bare or under ``"order"``)."""
    inner = obj.get("order")
    if isinstance(inner, dict):
        obj = inner
    outcome = _outcome(obj.get("side"))
    venue_status = str(_require(obj, "status"))
    status = _ORDER_STATUSES.get(venue_status, OrderStatus.UNKNOWN)
    taker_count = _quantity(obj, "taker_fill_count_fp", "taker_fill_count")
    maker_count = _quantity(obj, "maker_fill_count_fp", "maker_fill_count")
    fill_count = _quantity(obj, "fill_count_fp", "fill_count")
    if fill_count is None:
        fill_count = _sum_present(taker_count, maker_count)
    initial = _quantity(obj, "initial_count_fp", "initial_count")
    remaining = _quantity(obj, "remaining_count_fp", "remaining_count")
    if initial is None and remaining is not None:
        initial = fill_count + remaining
    if status is OrderStatus.OPEN and fill_count > 0:
        status = OrderStatus.PARTIALLY_FILLED
    elif status is OrderStatus.FILLED and initial is not None and fill_count < initial:
        # "executed" with contracts left means an IOC that filled in part and was killed.
        status = OrderStatus.CANCELED
    if outcome is Outcome.YES:
        limit = _price(obj, ("yes_price_dollars",), "yes_price")
    else:
        limit = _price(obj, ("no_price_dollars",), "no_price")
    return KalshiOrder(
        order_id=_str(obj, "order_id"),
        client_order_id=obj.get("client_order_id") or None,
        ticker=_str(obj, "ticker"),
        outcome=outcome,
        side=_side(obj.get("action")),
        order_type=str(obj.get("type", "")),
        venue_status=venue_status,
        status=status,
        limit_price=limit,
        initial_count=initial,
        fill_count=fill_count,
        remaining_count=remaining,
        fill_cost=_sum_present(
            _money(obj, "taker_fill_cost_dollars", "taker_fill_cost"),
            _money(obj, "maker_fill_cost_dollars", "maker_fill_cost"),
        ),
        fees=_sum_present(
            _money(obj, "taker_fees_dollars", "taker_fees"), _money(obj, "maker_fees_dollars", "maker_fees")
        ),
        created_at=parse_time(obj.get("created_time")),
    )


def parse_trades_page(body: JsonObject) -> Page:
    """`GET /markets/trades`: public trades, same fields as the WebSocket `trade` message but `ticker`."""
    return Page(
        [_trade(t, None, None, t.get("ticker") or t.get("market_ticker")) for t in _list(body, "trades")],
        _cursor(body),
    )


def parse_orders_page(body: JsonObject) -> Page:
    return Page([parse_order(o) for o in _list(body, "orders")], _cursor(body))


def parse_fill(obj: JsonObject) -> Fill:
    """A fill from `GET /portfolio/fills` or the `fill` WebSocket channel; price is that of the filled side."""
    outcome = _outcome(obj.get("side"))
    if outcome is Outcome.YES:
        price = _price(obj, ("yes_price_dollars", "yes_price_fixed"), "yes_price")
        other = _price(obj, ("no_price_dollars", "no_price_fixed"), "no_price")
    else:
        price = _price(obj, ("no_price_dollars", "no_price_fixed"), "no_price")
        other = _price(obj, ("yes_price_dollars", "yes_price_fixed"), "yes_price")
    if price is None:
        if other is None:
            raise KalshiParseError("fill without a price", obj)
        price = ONE - other
    count = _quantity(obj, "count_fp", "count")
    if count is None or count <= 0:
        raise KalshiParseError("fill without a positive count", obj)
    ticker = obj.get("ticker") or obj.get("market_ticker")
    fee = _fee_cost(obj)
    filled_at = parse_time(obj.get("created_time") or obj.get("ts"))
    fill_id = obj.get("fill_id") or obj.get("trade_id")
    if not isinstance(fill_id, str) or not fill_id:
        raise KalshiParseError("fill without an id", obj)
    extra: dict[str, Any] = {} if filled_at is None else {"filled_at": filled_at}
    return Fill(
        fill_id=fill_id,
        venue=Venue.KALSHI,
        venue_order_id=_str(obj, "order_id"),
        client_order_id=obj.get("client_order_id") or None,
        market_id=_ticker_of(ticker, obj),
        outcome=outcome,
        side=_side(obj.get("action")),
        price=price,
        quantity=count,
        fee=ZERO if fee is None else fee,
        is_taker=bool(obj.get("is_taker", True)),
        **extra,
    )


def _fee_cost(obj: JsonObject) -> Decimal | None:
    """`fee_cost` is a fixed-point dollar string on today's API ("0.0100"), integer cents on the older one."""
    for key in ("fee_cost_dollars", "fee_cost"):
        text = obj.get(key)
        if isinstance(text, str) and text:
            return _decimal(text, key)
    cents = obj.get("fee_cost")
    return None if cents is None else _cents(cents, "fee_cost")


def parse_fills_page(body: JsonObject) -> Page:
    return Page([parse_fill(f) for f in _list(body, "fills")], _cursor(body))


def parse_fills_page_skipping(body: JsonObject) -> tuple[Page, list[KalshiParseError]]:
    """The fills that parse, and why each other one did not: one bad row must not hide the rest of a page."""
    fills, rejected = [], []
    for item in _list(body, "fills"):
        try:
            fills.append(parse_fill(item))
        except KalshiParseError as exc:
            rejected.append(exc)
    return Page(fills, _cursor(body)), rejected


def parse_position(obj: JsonObject) -> Position | None:
    """A market position; Kalshi nets YES/NO into one signed count (negative = NO). None when flat.

    `cost_basis` is the position's exposure plus the fees paid on it.
    """
    ticker = _str(obj, "ticker")
    signed = _quantity(obj, "position_fp", "position")
    if signed is None:
        raise KalshiParseError(f"{ticker}: position without a count", obj)
    if signed == 0:
        return None
    exposure = _money(obj, "market_exposure_dollars", "market_exposure") or ZERO
    fees = _money(obj, "fees_paid_dollars", "fees_paid") or ZERO
    realized = _money(obj, "realized_pnl_dollars", "realized_pnl") or ZERO
    return Position(
        venue=Venue.KALSHI,
        market_id=ticker,
        outcome=Outcome.YES if signed > 0 else Outcome.NO,
        quantity=abs(signed),
        cost_basis=exposure + fees,
        realized_pnl=realized,
    )


def parse_positions_page(body: JsonObject) -> Page:
    positions = [parse_position(p) for p in _list(body, "market_positions")]
    return Page([p for p in positions if p is not None], _cursor(body))


def parse_balance(body: JsonObject) -> Balance:
    """`GET /portfolio/balance`: `balance` is cash available to trade, in cents."""
    available = _money(body, "balance_dollars", "balance")
    if available is None:
        raise KalshiParseError("balance missing", body)
    as_of = parse_time(body.get("updated_ts"))
    extra: dict[str, Any] = {} if as_of is None else {"as_of": as_of}
    return Balance(venue=Venue.KALSHI, total=available, available=available, **extra)


def parse_error_body(body: object) -> tuple[str | None, str]:
    """(code, message) from ``{"error": {code, message, details}}`` or a top-level ``{code, message}``."""
    if not isinstance(body, dict):
        return None, "" if body is None else str(body)
    err = body.get("error", body)
    if isinstance(err, str):
        return None, err
    if not isinstance(err, dict):
        return None, str(err)
    code = err.get("code")
    parts = [str(p) for p in (err.get("message"), err.get("details")) if p]
    return (code if isinstance(code, str) and code else None), ": ".join(parts)


def levels_as_json(levels: Sequence[Level]) -> list[list[str]]:
    """Levels in Kalshi's dollar-string wire form (the sandbox and tests emit books this way)."""
    return [[f"{price:.4f}", f"{size:.2f}"] for price, size in levels]
