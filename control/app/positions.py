"""Positions, balances and P&L of one tenant, cut by venue, pair, leader and day: one answer that the
supervisor's state (exposure, balances), its P&L report and the leaders' counters make together."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from copytrade.leaders import Follow
from domain.models import Venue
from risk.pnl import PnlLine, PnlReport, PnlScope
from risk.supervision import RiskStatus


class VenuePosition(BaseModel):
    venue: Venue
    exposure: Decimal
    balance: Decimal | None
    pnl: PnlLine | None


class LeaderPosition(BaseModel):
    venue: Venue
    leader: str
    copies: int
    filled: int
    notional: Decimal
    realized_pnl: Decimal
    open_lots: int


class Positions(BaseModel):
    tenant_id: str
    contracts: Decimal
    exposure: Decimal
    venues: list[VenuePosition]
    pairs: list[PnlLine]
    days: list[PnlLine]
    leaders: list[LeaderPosition]
    total: PnlLine | None
    unmarked: list[str]


def positions(status: RiskStatus, report: PnlReport | None, follows: list[Follow]) -> Positions:
    lines = report.lines if report is not None else ()

    def scoped(scope: PnlScope) -> list[PnlLine]:
        return [ln for ln in lines if ln.scope is scope]

    venues = sorted(set(status.exposure_by_venue) | set(status.balances), key=lambda v: v.value)
    return Positions(
        tenant_id=status.tenant_id,
        contracts=status.contracts,
        exposure=status.exposure,
        venues=[
            VenuePosition(
                venue=v,
                exposure=status.exposure_by_venue.get(v, Decimal(0)),
                balance=status.balances.get(v),
                pnl=report.line(PnlScope.VENUE, v.value) if report is not None else None,
            )
            for v in venues
        ],
        pairs=scoped(PnlScope.PAIR),
        days=sorted(scoped(PnlScope.DAY), key=lambda ln: ln.key, reverse=True),
        leaders=[
            LeaderPosition(
                venue=f.venue,
                leader=f.leader,
                copies=f.counters.copies,
                filled=f.counters.filled,
                notional=f.counters.notional,
                realized_pnl=f.counters.realized_pnl,
                open_lots=sum(1 for lots in f.counters.lots.values() if lots),
            )
            for f in follows
        ],
        total=report.total if report is not None else None,
        unmarked=list(report.unmarked) if report is not None else [],
    )
