"""Column types that keep money exact on every backend.

SQLite has no decimal type (SQLAlchemy's Numeric goes through float there), so
amounts are stored as integer micro-units (1e-6, the USDC unit) on both backends:
exact, sortable and identical on SQLite and PostgreSQL. Kalshi cents and
Polymarket prices/sizes are all whole multiples of 1e-6.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect
from sqlalchemy.types import TypeDecorator

from domain.money import Rounding, dollars_to_micro, micro_to_dollars


class Micros(TypeDecorator[Decimal]):
    """Decimal in Python, BIGINT of 1e-6 units in the database; refuses values it would round."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else dollars_to_micro(Decimal(value), Rounding.EXACT)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else micro_to_dollars(int(value))


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; SQLite drops the zone, so we restore it on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store UTC-aware timestamps only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
