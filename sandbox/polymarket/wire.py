"""Small wire helpers of the Polymarket sandbox: number strings, errors, JSON responses, cursors."""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from starlette.responses import Response

END_CURSOR = "LTE="
START_CURSOR = "MA=="
NUM_CACHE = 4096


class ClobError(Exception):
    """A request the venue refuses: answered with `status` and `{"error": message}`, as the CLOB does."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@functools.lru_cache(maxsize=NUM_CACHE)
def num(value: Decimal) -> str:
    """A decimal as the venue writes it: plain notation, no trailing zeros ("0.5", "800", "0").

    Cached: books repeat a few hundred prices and sizes, and every book hash spells
    them all out again (equal decimals such as 0.50 and 0.5 are written alike anyway).
    """
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def wire_float(value: Decimal) -> float:
    """Gamma and the Data API send JSON numbers; the conversion happens here, at the edge, only."""
    return float(value)


def unix_s(at: datetime) -> int:
    return int(at.timestamp())


def unix_ms(at: datetime) -> str:
    return str(int(at.timestamp() * 1000))


def json_response(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


def error_response(status: int, message: str) -> Response:
    return json_response({"error": message}, status)


def http_fault_body(status: int) -> dict[str, Any]:
    """Body of an injected HTTP error, in the venue's `{"error": ...}` shape."""
    messages = {429: "Too Many Requests", 425: "The matching engine is restarting", 503: "Service Unavailable"}
    return {"error": messages.get(status, "Internal Server Error")}


def int_param(raw: str | None, name: str) -> int | None:
    """An optional integer query parameter; anything else is the client's error (400), never a crash."""
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ClobError(400, f"invalid {name}") from exc


def decode_cursor(cursor: str | None) -> int:
    """Cursors are base64 offsets ("MA==" is 0, "MTAw" is 100); the end marker is "LTE=" (-1)."""
    if not cursor:
        return 0
    try:
        value = int(base64.b64decode(cursor).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ClobError(400, "invalid next_cursor") from exc
    if value < 0:
        raise ClobError(400, "invalid next_cursor")
    return value


def page(items: list[Any], cursor: str | None, limit: int) -> dict[str, Any]:
    """One page of a cursor listing: `data`, `next_cursor` (END_CURSOR on the last page), `limit`, `count`."""
    offset = decode_cursor(cursor)
    chunk = items[offset : offset + limit]
    end = offset + len(chunk)
    next_cursor = END_CURSOR if end >= len(items) else base64.b64encode(str(end).encode()).decode()
    return {"data": chunk, "next_cursor": next_cursor, "limit": limit, "count": len(chunk)}


def book_hash(summary: dict[str, Any]) -> str:
    """SHA-1 of the compact summary with an empty hash, the server's own book hash (as py-clob-client checks)."""
    payload = {
        "market": summary["market"],
        "asset_id": summary["asset_id"],
        "timestamp": summary["timestamp"],
        "hash": "",
        "bids": summary["bids"],
        "asks": summary["asks"],
        "min_order_size": summary["min_order_size"],
        "tick_size": summary["tick_size"],
        "neg_risk": summary["neg_risk"],
        "last_trade_price": summary["last_trade_price"],
    }
    return hashlib.sha1(orjson.dumps(payload)).hexdigest()


@functools.lru_cache(maxsize=NUM_CACHE)
def _level_json(price: Decimal, size: Decimal) -> bytes:
    return orjson.dumps({"price": num(price), "size": num(size)})


def levels_hash(
    summary: dict[str, Any], bids: Sequence[tuple[Decimal, Decimal]], asks: Sequence[tuple[Decimal, Decimal]]
) -> str:
    """`book_hash` of `summary` with these levels (best first, as the engine lists them), without
    building the level objects: the same bytes are put together from cached pieces. For the hash
    every `price_change` entry carries (its token's whole book), computed once per change.

    `summary` holds every field but the levels (its own `bids`/`asks`, if any, are ignored).
    """
    head = orjson.dumps(
        {
            "market": summary["market"],
            "asset_id": summary["asset_id"],
            "timestamp": summary["timestamp"],
            "hash": "",
        }
    )
    tail = orjson.dumps(
        {
            "min_order_size": summary["min_order_size"],
            "tick_size": summary["tick_size"],
            "neg_risk": summary["neg_risk"],
            "last_trade_price": summary["last_trade_price"],
        }
    )
    payload = b"".join(
        (
            head[:-1],
            b',"bids":[',
            b",".join([_level_json(p, q) for p, q in reversed(bids)]),
            b'],"asks":[',
            b",".join([_level_json(p, q) for p, q in reversed(asks)]),
            b"],",
            tail[1:],
        )
    )
    return hashlib.sha1(payload).hexdigest()
