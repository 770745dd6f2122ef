"""The mapping store: which Polymarket market is which Kalshi market, and who said so.

A pair starts as a candidate (from `matching`) and is traded only once an operator
confirms it. Re-suggesting a known pair refreshes its confidence and flags but never
changes a decision, except that a decided pair whose rules text or resolution dates have
changed since the decision goes back to candidate: the operator confirmed *those* rules.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.models import Market, MarketPair, PairStatus, Venue, utc_now
from storage.database import session_factory
from storage.tables import MarketPairRow, MarketRow


class PairNotFoundError(KeyError):
    """No pair with that id."""


class PairRepository(Protocol):
    async def suggest(self, pair: MarketPair) -> MarketPair: ...

    async def get(self, pair_id: str) -> MarketPair | None: ...

    async def list_pairs(self, status: PairStatus | None = None) -> list[MarketPair]: ...

    async def decide(self, pair_id: str, status: PairStatus, by: str, at: datetime | None = None) -> MarketPair: ...


def _terms(market: Market) -> tuple[str, datetime | None]:
    return market.rules, market.end_date


def merge_suggestion(existing: MarketPair | None, suggested: MarketPair) -> MarketPair:
    """What the store keeps when `suggested` arrives for a pair it may already hold."""
    candidate = suggested.model_copy(
        update={"status": PairStatus.CANDIDATE, "confirmed_by": None, "confirmed_at": None}
    )
    if existing is None or existing.status is PairStatus.CANDIDATE:
        return candidate
    unchanged = _terms(existing.polymarket) == _terms(suggested.polymarket) and _terms(existing.kalshi) == _terms(
        suggested.kalshi
    )
    if not unchanged or existing.aligned != suggested.aligned:
        return candidate
    return suggested.model_copy(
        update={
            "status": existing.status,
            "confirmed_by": existing.confirmed_by,
            "confirmed_at": existing.confirmed_at,
        }
    )


def decided(pair: MarketPair, status: PairStatus, by: str, at: datetime | None) -> MarketPair:
    if status is PairStatus.CANDIDATE:
        raise ValueError("a decision is confirmed or rejected")
    if not by.strip():
        raise ValueError("a decision needs the name of who made it")
    return pair.model_copy(update={"status": status, "confirmed_by": by, "confirmed_at": at or utc_now()})


def _market_row(market: Market, row: MarketRow | None) -> MarketRow:
    """Upsert a market; fee rates have no column yet, so the domain model rides in `raw["domain"]`."""
    row = row or MarketRow(venue=market.venue.value, market_id=market.market_id)
    row.title = market.title
    row.yes_token = market.yes_token
    row.no_token = market.no_token
    row.tick_size = market.tick_size
    row.min_order_size = market.min_order_size
    row.neg_risk = market.neg_risk
    row.event_id = market.event_id
    row.rules = market.rules
    row.end_date = market.end_date
    row.active = market.active
    row.closed = market.closed
    raw: dict[str, Any] = dict(row.raw) if isinstance(row.raw, dict) else {}
    raw["domain"] = market.model_dump(mode="json")
    row.raw = raw
    return row


def _market(row: MarketRow) -> Market:
    raw = row.raw.get("domain") if isinstance(row.raw, dict) else None
    fees = {k: raw[k] for k in ("taker_fee_rate", "maker_fee_rate") if k in raw} if isinstance(raw, dict) else {}
    return Market(
        venue=Venue(row.venue),
        market_id=row.market_id,
        title=row.title,
        yes_token=row.yes_token,
        no_token=row.no_token,
        tick_size=row.tick_size,
        min_order_size=row.min_order_size,
        neg_risk=row.neg_risk,
        event_id=row.event_id,
        rules=row.rules,
        end_date=row.end_date,
        active=row.active,
        closed=row.closed,
        **fees,
    )


class SqlPairRepository:
    """`market_pairs` + `markets` tables of `storage.tables` (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)

    async def _load(self, session: Any, row: MarketPairRow) -> MarketPair:
        poly = await session.get(MarketRow, (Venue.POLYMARKET.value, row.polymarket_condition_id))
        kalshi = await session.get(MarketRow, (Venue.KALSHI.value, row.kalshi_ticker))
        if poly is None or kalshi is None:
            raise LookupError(f"pair {row.id} refers to a market missing from the markets table")
        return MarketPair(
            pair_id=row.id,
            polymarket=_market(poly),
            kalshi=_market(kalshi),
            aligned=row.aligned,
            confidence=row.confidence,
            status=PairStatus(row.status),
            risk_flags=tuple(row.risk_flags),
            confirmed_by=row.confirmed_by,
            confirmed_at=row.confirmed_at,
        )

    def _store(self, row: MarketPairRow, pair: MarketPair) -> None:
        row.polymarket_condition_id = pair.polymarket.market_id
        row.polymarket_yes_token = pair.polymarket.yes_token
        row.polymarket_no_token = pair.polymarket.no_token
        row.kalshi_ticker = pair.kalshi.market_id
        row.aligned = pair.aligned
        row.confidence = pair.confidence
        row.status = pair.status.value
        row.risk_flags = list(pair.risk_flags)
        row.polymarket_end_date = pair.polymarket.end_date
        row.kalshi_end_date = pair.kalshi.end_date
        row.polymarket_rules = pair.polymarket.rules
        row.kalshi_rules = pair.kalshi.rules
        row.confirmed_by = pair.confirmed_by
        row.confirmed_at = pair.confirmed_at

    async def suggest(self, pair: MarketPair) -> MarketPair:
        async with self._sessions() as session, session.begin():
            row = await session.get(MarketPairRow, pair.pair_id, with_for_update=True)
            existing = None if row is None else await self._load(session, row)
            kept = merge_suggestion(existing, pair)
            for market in (pair.polymarket, pair.kalshi):
                current = await session.get(MarketRow, (market.venue.value, market.market_id))
                session.add(_market_row(market, current))
            if row is None:
                row = MarketPairRow(id=pair.pair_id)
                session.add(row)
            self._store(row, kept)
            return kept

    async def get(self, pair_id: str) -> MarketPair | None:
        async with self._sessions() as session:
            row = await session.get(MarketPairRow, pair_id)
            return None if row is None else await self._load(session, row)

    async def list_pairs(self, status: PairStatus | None = None) -> list[MarketPair]:
        async with self._sessions() as session:
            query = select(MarketPairRow)
            if status is not None:
                query = query.where(MarketPairRow.status == status.value)
            rows = (await session.scalars(query)).all()
            pairs = [await self._load(session, row) for row in rows]
        return sorted(pairs, key=lambda p: (-p.confidence, p.pair_id))

    async def decide(self, pair_id: str, status: PairStatus, by: str, at: datetime | None = None) -> MarketPair:
        async with self._sessions() as session, session.begin():
            row = await session.get(MarketPairRow, pair_id, with_for_update=True)
            if row is None:
                raise PairNotFoundError(pair_id)
            pair = decided(await self._load(session, row), status, by, at)
            self._store(row, pair)
            return pair
