"""Polymarket error answers -> `venues.errors` types.

The CLOB answers errors as `{"error": "<message>"}` with an HTTP status (docs:
docs.polymarket.com/resources/error-codes), and a rejected `POST /order` may also come
back as 200/400 with `success: false` and an `errorMsg` code such as
`INVALID_ORDER_NOT_ENOUGH_BALANCE`. There is no stable machine-readable code, so the
message is matched on keywords, most specific first.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from domain.models import Venue
from venues.errors import (
    AuthenticationError,
    DuplicateOrderError,
    InsufficientBalanceError,
    InvalidOrderError,
    MarketClosedError,
    OrderNotFoundError,
    RateLimitedError,
    VenueError,
    VenueUnavailableError,
)
from venues.http import retry_after_seconds

V = Venue.POLYMARKET

_BY_KEYWORD: tuple[tuple[tuple[str, ...], type[VenueError]], ...] = (
    (("duplicat", "already exists"), DuplicateOrderError),
    (("balance", "allowance", "insufficient"), InsufficientBalanceError),
    (
        ("closed", "not accepting", "market_not_ready", "market not ready", "resolved", "no orderbook exists"),
        MarketClosedError,
    ),
    (
        (
            "tick",
            "price",
            "min_size",
            "min size",
            "minimum",
            "invalid_order",
            "invalid order",
            "expiration",
            "post-only",
            "post only",
            "crosses",
            "fok",
            "size",
        ),
        InvalidOrderError,
    ),
)
FOK_NOT_FILLED = "FOK_ORDER_NOT_FILLED_ERROR"


def error_message(body: bytes) -> str:
    """The venue's message: the `error` or `errorMsg` field, else the raw body."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return body[:500].decode(errors="replace")
    if isinstance(parsed, dict):
        parts = [str(parsed[key]) for key in ("error", "errorMsg", "message") if parsed.get(key)]
        if parts:
            return ": ".join(parts)
    if isinstance(parsed, str):
        return parsed
    return body[:500].decode(errors="replace")


def error_for_message(message: str, *, status: int | None = None, body: str | None = None) -> VenueError:
    """Classify a rejection message (also used for `success: false` answers of `POST /order`)."""
    lowered = message.lower()
    for keywords, kind in _BY_KEYWORD:
        if any(k in lowered for k in keywords):
            return kind(V, message, status=status, body=body)
    return VenueError(V, message, status=status, body=body)


def error_for_response(
    status: int, body: bytes, headers: Mapping[str, str], *, order_lookup: bool = False
) -> VenueError:
    message = error_message(body)
    text = body[:2000].decode(errors="replace")
    if status == 429:
        wait = retry_after_seconds(headers.get("retry-after"))
        return RateLimitedError(V, message or "too many requests", retry_after=wait, status=status, body=text)
    if status in (401, 403):
        return AuthenticationError(V, message, status=status, body=text)
    if status == 404 and order_lookup:
        return OrderNotFoundError(V, message, status=status, body=text)
    if status >= 500 or status == 425:
        # 425: the matching engine is restarting; 503 also covers "trading disabled / cancel-only".
        return VenueUnavailableError(V, message, status=status, body=text)
    return error_for_message(message, status=status, body=text)
