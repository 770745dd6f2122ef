"""The pair store: suggestions never overturn decisions unless the rules changed; both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.models import MarketPair, PairStatus
from matching.pairs import PairNotFoundError, PairRepository, SqlPairRepository
from storage import migrate
from storage.database import create_engine
from tests.arbitrage.factories import T0, kalshi_market, poly_market
from tests.conftest import fresh_postgres_database
from tests.fakes.pairs import InMemoryPairRepository


def suggestion(rules: str = "Resolves YES if X.", confidence: str = "0.9") -> MarketPair:
    poly = poly_market(fee_rate="0.03", min_size="5").model_copy(update={"rules": rules, "end_date": T0})
    return MarketPair(
        pair_id="pm-1",
        polymarket=poly,
        kalshi=kalshi_market(multiplier="0.035"),
        aligned=False,
        confidence=Decimal(confidence),
        risk_flags=("negated_wording",),
    )


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def repo(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[PairRepository]:
    if request.param == "memory":
        yield InMemoryPairRepository()
        return
    engine: AsyncEngine
    if request.param == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pairs.db'}")
        await migrate.upgrade(engine)
        yield SqlPairRepository(engine)
        await engine.dispose()
        return
    async with fresh_postgres_database() as url:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        yield SqlPairRepository(engine)
        await engine.dispose()


async def test_round_trip_keeps_markets_fees_alignment_and_flags(repo: PairRepository) -> None:
    stored = await repo.suggest(suggestion())
    loaded = await repo.get("pm-1")
    assert loaded is not None and loaded == stored
    assert loaded.status is PairStatus.CANDIDATE
    assert loaded.polymarket.taker_fee_rate == Decimal("0.03")
    assert loaded.kalshi.taker_fee_rate == Decimal("0.035")
    assert loaded.polymarket.min_order_size == 5 and loaded.aligned is False
    assert loaded.risk_flags == ("negated_wording",)
    assert await repo.get("nope") is None


async def test_confirm_reject_and_list(repo: PairRepository) -> None:
    await repo.suggest(suggestion())
    confirmed = await repo.decide("pm-1", PairStatus.CONFIRMED, "alice", T0)
    assert (confirmed.status, confirmed.confirmed_by, confirmed.confirmed_at) == (PairStatus.CONFIRMED, "alice", T0)
    assert [p.pair_id for p in await repo.list_pairs(PairStatus.CONFIRMED)] == ["pm-1"]
    assert await repo.list_pairs(PairStatus.CANDIDATE) == []
    rejected = await repo.decide("pm-1", PairStatus.REJECTED, "bob", T0 + timedelta(hours=1))
    assert rejected.status is PairStatus.REJECTED and rejected.confirmed_by == "bob"
    with pytest.raises(PairNotFoundError):
        await repo.decide("missing", PairStatus.CONFIRMED, "alice")
    with pytest.raises(ValueError):
        await repo.decide("pm-1", PairStatus.CONFIRMED, "  ")


async def test_resuggesting_keeps_a_decision_unless_the_rules_changed(repo: PairRepository) -> None:
    await repo.suggest(suggestion())
    await repo.decide("pm-1", PairStatus.CONFIRMED, "alice", T0)
    again = await repo.suggest(suggestion(confidence="0.8"))
    assert again.status is PairStatus.CONFIRMED and again.confidence == Decimal("0.8")
    changed = await repo.suggest(suggestion(rules="Resolves YES if X, or Y."))
    assert changed.status is PairStatus.CANDIDATE and changed.confirmed_by is None
    reloaded = await repo.get("pm-1")
    assert reloaded is not None and reloaded.status is PairStatus.CANDIDATE
