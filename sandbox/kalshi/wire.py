"""Kalshi wire formats: prices in cents plus fixed-point dollar strings, errors, timestamps.

Kalshi sends every price twice, as integer cents (`yes_price: 42`) and as a
4-decimal dollar string (`yes_price_dollars: "0.4200"`), and counts as integers
plus 2-decimal `_fp` strings (`count_fp: "50.00"`). The helpers here are the
only place the sandbox turns exact values into those strings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from starlette.responses import Response

from domain.money import CENT

FOUR_PLACES = Decimal("0.0001")
TWO_PLACES = Decimal("0.01")


def dollars_str(cents: int) -> str:
    """Cents as Kalshi's 4-place dollar string: 42 -> "0.4200"."""
    return str((Decimal(cents) * CENT).quantize(FOUR_PLACES))


def count_fp(count: Decimal | int) -> str:
    return str(Decimal(count).quantize(TWO_PLACES))


def iso(ts: datetime) -> str:
    """RFC 3339 UTC with microseconds and a Z, as Kalshi writes `created_time`."""
    return ts.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def json_response(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


def error_body(code: str, message: str, details: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def error_response(status: int, code: str, message: str | None = None, details: str | None = None) -> Response:
    return json_response(error_body(code, message or code.replace("_", " "), details), status)


def http_fault_body(status: int) -> dict[str, Any]:
    """The body of an injected 5xx/429, in Kalshi's error shape."""
    if status == 429:
        return error_body("too_many_requests", "too many requests")
    if status >= 500:
        return error_body("internal_server_error", "internal server error")
    return error_body("bad_request", "bad request")
