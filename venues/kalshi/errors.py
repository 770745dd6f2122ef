"""Kalshi HTTP failures to the shared typed venue errors, so sagas decide on kind, never on text.

Kalshi's order-error guide (docs.kalshi.com/getting_started/order_errors): the body is
``{"error": {"code", "message", "details"}}`` (a malformed request puts `code` at the
top level instead); switch on `code`. On 400/403/404/409/410/429 an unknown code is a
rejection; a 408, any 5xx or a dropped connection leaves the outcome of a write
unknown, so those become `UnknownOutcomeError` and the order must be reconciled
(by client_order_id) before anything is retried.
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
    UnknownOutcomeError,
    VenueError,
    VenueUnavailableError,
)
from venues.http import retry_after_seconds
from venues.kalshi.parse import parse_error_body

_INSUFFICIENT = frozenset({"insufficient_balance", "insufficient_funds", "insufficient_position"})
_DUPLICATE = frozenset({"order_already_exists", "duplicate_client_order_id", "duplicate_order"})
_CLOSED = frozenset(
    {
        "market_closed",
        "market_not_active",
        "market_inactive",
        "market_settled",
        "trading_is_paused",
        "trading_paused",
        "exchange_closed",
        "exchange_paused",
        "exchange_unavailable",
    }
)
_ORDER_NOT_FOUND = frozenset({"order_not_found", "not_found"})
_AUTH = frozenset({"unauthorized", "authentication_error", "invalid_signature", "invalid_api_key", "forbidden"})


def error_for_response(
    status: int, body: bytes, headers: Mapping[str, str], *, write: bool, order_lookup: bool = False
) -> VenueError:
    """The typed error for a non-2xx response; `write` marks calls that change state at the venue."""
    text = body.decode("utf-8", "replace")
    try:
        parsed: object = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = text
    code, message = parse_error_body(parsed)
    detail = f"HTTP {status} {code or ''}: {message or text[:200]}".strip()
    if status == 429:
        retry_after = retry_after_seconds(headers.get("retry-after"))
        return RateLimitedError(Venue.KALSHI, detail, retry_after=retry_after, status=status, body=text)
    return _classify(status, code, write=write, order_lookup=order_lookup)(
        Venue.KALSHI, detail, status=status, body=text
    )


def _classify(status: int, code: str | None, *, write: bool, order_lookup: bool) -> type[VenueError]:
    if status == 401 or code in _AUTH:
        return AuthenticationError
    if code in _INSUFFICIENT:
        return InsufficientBalanceError
    if code in _DUPLICATE or (status == 409 and write):
        return DuplicateOrderError
    if code in _CLOSED or status == 410:
        return MarketClosedError
    if code in _ORDER_NOT_FOUND or (status == 404 and order_lookup):
        return OrderNotFoundError
    if status == 408 or status >= 500:
        if write:
            return UnknownOutcomeError
        return VenueUnavailableError
    if status == 403:
        return AuthenticationError
    if write:
        return InvalidOrderError
    return VenueError
