"""Money survives the database exactly, and what cannot be stored exactly is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from domain.money import InexactAmountError
from storage import migrate
from storage.database import create_engine, session_factory
from storage.tables import FillRow
from storage.types import Micros

micro_amounts = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=6, allow_nan=False)


@given(micro_amounts)
def test_micros_round_trip_is_exact(value: Decimal) -> None:
    col = Micros()
    stored = col.process_bind_param(value, None)  # type: ignore[arg-type]
    assert isinstance(stored, int)
    assert col.process_result_value(stored, None) == value  # type: ignore[arg-type]


def test_micros_refuses_sub_micro_amounts() -> None:
    with pytest.raises(InexactAmountError):
        Micros().process_bind_param(Decimal("0.0000001"), None)  # type: ignore[arg-type]


async def test_fill_round_trips_exact_money_and_utc_time(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    await migrate.upgrade(engine)
    at = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)
    async with session_factory(engine)() as session:
        session.add(
            FillRow(
                venue="kalshi",
                fill_id="f1",
                venue_order_id="o1",
                market_id="KX",
                outcome="yes",
                side="buy",
                price=Decimal("0.37"),
                quantity=Decimal("1234567.123456"),
                fee=Decimal("0.02"),
                is_taker=True,
                filled_at=at,
            )
        )
        await session.commit()
        row = (await session.execute(select(FillRow))).scalar_one()
    assert (row.price, row.quantity, row.fee) == (Decimal("0.37"), Decimal("1234567.123456"), Decimal("0.02"))
    assert row.filled_at == at and row.filled_at.tzinfo is not None
    async with session_factory(engine)() as session:
        session.add(
            FillRow(
                venue="kalshi",
                fill_id="naive",
                venue_order_id="o1",
                market_id="KX",
                outcome="yes",
                side="buy",
                price=Decimal("0.37"),
                quantity=Decimal(1),
                fee=Decimal(0),
                is_taker=True,
                filled_at=datetime(2026, 1, 1),
            )
        )
        with pytest.raises(StatementError, match="naive datetime"):
            await session.commit()
    await engine.dispose()
