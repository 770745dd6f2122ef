"""Positions, balances and P&L of one tenant, cut by venue, pair, leader and day: one answer that the
supervisor's state (exposure, balances), its P&L report and the leaders' counters make together."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from copytrade.leaders import Follow
from domain.models import Venue
from risk.pnl import PnlLine, PnlReport, PnlScope
from risk.supervision import RiskStatus


class PnlTotal(BaseModel):
    """A P&L line with its total said, so no client adds money up itself."""

    key: str
    realized: Decimal
    unrealized: Decimal
    fees: Decimal
    total: Decimal

    @classmethod
    def of(cls, line: PnlLine) -> PnlTotal:
        return cls(key=line.key, realized=line.realized, unrealized=line.unrealized, fees=line.fees, total=line.total)


class VenuePosition(BaseModel):
    venue: Venue
    exposure: Decimal
    balance: Decimal | None
    pnl: PnlTotal | None


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
    pairs: list[PnlTotal]
    days: list[PnlTotal]
    leaders: list[LeaderPosition]
    total: PnlTotal | None
    unmarked: list[str]


def positions(status: RiskStatus, report: PnlReport | None, follows: list[Follow]) -> Positions:
    lines = report.lines if report is not None else ()

    def scoped(scope: PnlScope) -> list[PnlTotal]:
        return [PnlTotal.of(ln) for ln in lines if ln.scope is scope]

    def venue_line(venue: Venue) -> PnlTotal | None:
        line = report.line(PnlScope.VENUE, venue.value) if report is not None else None
        return PnlTotal.of(line) if line is not None else None

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
                pnl=venue_line(v),
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
        total=PnlTotal.of(report.total) if report is not None else None,
        unmarked=list(report.unmarked) if report is not None else [],
    )
