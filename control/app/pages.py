"""Cursor pagination, the same for every list: newest first, and a cursor that says where the page ended.

A cursor is opaque to callers (base64 of the last row's key), so its form can change without
breaking them; a cursor that does not decode is a clear error, never an empty page.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel

from control.app.errors import OperationError

T = TypeVar("T")
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def bad_cursor(cursor: str) -> OperationError:
    return OperationError(f"cursor {cursor!r} is not one this API gave out")


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad_cursor(cursor) from None


def checked_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise OperationError(f"limit {limit}: between 1 and {MAX_LIMIT}")
    return limit


def page_of(rows: Sequence[T], limit: int, key: Callable[[T], str]) -> Page[T]:
    """`rows` were fetched with `limit + 1`: one more than fits says there is a next page."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return Page[T](items=items, next_cursor=encode_cursor(key(items[-1])) if more and items else None)
