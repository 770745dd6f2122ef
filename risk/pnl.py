"""Realized and unrealized P&L from fills and marks, per pair, per venue and per UTC day.

Method (chosen so every figure is exact, no division anywhere):
- lots are matched first in, first out per (venue, market, outcome); a fill against the
  open direction closes lots and realizes `closed quantity x (fill price - lot price)`,
  the rest opens a new lot (selling more than is held opens a short lot);
- fees are expensed when paid: realized P&L is trading gains minus every fee, so a buy's
  fee is a realized loss on the day it is paid, never folded into a cost basis;
- unrealized P&L is `open quantity x (mark - lot price)` over open lots.
Hence realized + unrealized == cash change + marked value of what is held, exactly.

Marks are liquidation values: a long is marked at the outcome's best bid, a short at its
best ask (what closing it would get now). With no such level the mark is the worst case
(0 for a long, 1 for a short) and the market is listed in `unmarked`.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.book import BookSnapshot
from domain.models import Fill, Outcome, Side, UtcDatetime, Venue
from domain.money import ONE, ZERO

UNPAIRED = "unpaired"

MarkSource = Callable[[Venue, str, Outcome, bool], Decimal | None]
"""(venue, market_id, outcome, is_long) -> mark, or None when the book has no level to mark at."""


def book_marks(books: Mapping[tuple[Venue, str], BookSnapshot]) -> MarkSource:
    """Marks from normalized book snapshots: best bid for a long, best ask for a short."""

    def mark(venue: Venue, market_id: str, outcome: Outcome, is_long: bool) -> Decimal | None:
        book = books.get((venue, market_id))
        if book is None:
            return None
        return book.best_bid(outcome) if is_long else book.best_ask(outcome)

    return mark


@dataclass(slots=True)
class Lot:
    quantity: Decimal  # signed: > 0 long, < 0 short
    price: Decimal


@dataclass(slots=True)
class OutcomeLedger:
    """FIFO lots of one outcome token; `trading` is realized before fees."""

    lots: deque[Lot] = field(default_factory=deque)
    trading: Decimal = ZERO
    fees: Decimal = ZERO

    @property
    def quantity(self) -> Decimal:
        return sum((lot.quantity for lot in self.lots), ZERO)

    def apply(self, side: Side, price: Decimal, quantity: Decimal, fee: Decimal) -> Decimal:
        """Book one fill; returns the trading P&L it realized (before its fee)."""
        remaining = quantity if side is Side.BUY else -quantity
        realized = ZERO
        while remaining and self.lots and (self.lots[0].quantity > 0) != (remaining > 0):
            lot = self.lots[0]
            closed = lot.quantity if abs(lot.quantity) <= abs(remaining) else -remaining
            realized += closed * (price - lot.price)
            lot.quantity -= closed
            remaining += closed
            if not lot.quantity:
                self.lots.popleft()
        if remaining:
            self.lots.append(Lot(quantity=remaining, price=price))
        self.trading += realized
        self.fees += fee
        return realized

    def unrealized(self, mark: Decimal) -> Decimal:
        return sum((lot.quantity * (mark - lot.price) for lot in self.lots), ZERO)


class PnlScope(StrEnum):
    PAIR = "pair"
    VENUE = "venue"
    DAY = "day"
    TOTAL = "total"


class PnlLine(BaseModel):
    """`realized` is net of fees; `fees` is shown again on its own for the report."""

    model_config = ConfigDict(frozen=True)

    scope: PnlScope
    key: str
    realized: Decimal
    unrealized: Decimal
    fees: Decimal

    @property
    def total(self) -> Decimal:
        return self.realized + self.unrealized


class PnlReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: UtcDatetime
    lines: tuple[PnlLine, ...]
    unmarked: tuple[str, ...] = ()

    def line(self, scope: PnlScope, key: str) -> PnlLine | None:
        return next((ln for ln in self.lines if ln.scope is scope and ln.key == key), None)

    @property
    def total(self) -> PnlLine:
        found = self.line(PnlScope.TOTAL, "all")
        assert found is not None, "every report has a total line"
        return found


@dataclass(slots=True)
class _Sums:
    realized: Decimal = ZERO
    unrealized: Decimal = ZERO
    fees: Decimal = ZERO


class PnlLedger:
    """Fills in, report out. `pair_of` maps (venue, market_id) to a pair id (unmapped: 'unpaired')."""

    def __init__(self, pair_of: Mapping[tuple[Venue, str], str] | None = None) -> None:
        self._pair_of = pair_of or {}
        self._ledgers: dict[tuple[Venue, str, Outcome], OutcomeLedger] = {}
        self._days: defaultdict[date, _Sums] = defaultdict(_Sums)

    def apply(self, fill: Fill) -> None:
        ledger = self._ledgers.setdefault((fill.venue, fill.market_id, fill.outcome), OutcomeLedger())
        realized = ledger.apply(fill.side, fill.price, fill.quantity, fill.fee)
        day = self._days[fill.filled_at.date()]
        day.realized += realized - fill.fee
        day.fees += fill.fee

    def extend(self, fills: Iterable[Fill]) -> None:
        for fill in sorted(fills, key=lambda f: f.filled_at):
            self.apply(fill)

    def positions(self) -> dict[tuple[Venue, str, Outcome], Decimal]:
        return {key: ledger.quantity for key, ledger in self._ledgers.items() if ledger.quantity}

    def report(self, marks: MarkSource, as_of: UtcDatetime) -> PnlReport:
        pairs: defaultdict[str, _Sums] = defaultdict(_Sums)
        venues: defaultdict[str, _Sums] = defaultdict(_Sums)
        total = _Sums()
        unmarked: list[str] = []
        for (venue, market_id, outcome), ledger in self._ledgers.items():
            quantity = ledger.quantity
            unrealized = ZERO
            if quantity:
                is_long = quantity > 0
                mark = marks(venue, market_id, outcome, is_long)
                if mark is None:
                    unmarked.append(f"{venue.value}:{market_id}:{outcome.value}")
                    mark = ZERO if is_long else ONE
                unrealized = ledger.unrealized(mark)
            realized = ledger.trading - ledger.fees
            for sums in (pairs[self._pair_of.get((venue, market_id), UNPAIRED)], venues[venue.value], total):
                sums.realized += realized
                sums.unrealized += unrealized
                sums.fees += ledger.fees
        today = as_of.date()
        lines = [_line(PnlScope.PAIR, key, s) for key, s in sorted(pairs.items())]
        lines += [_line(PnlScope.VENUE, key, s) for key, s in sorted(venues.items())]
        for day, sums in sorted(self._days.items()):
            unrealized = total.unrealized if day == today else ZERO
            lines.append(
                PnlLine(
                    scope=PnlScope.DAY,
                    key=day.isoformat(),
                    realized=sums.realized,
                    unrealized=unrealized,
                    fees=sums.fees,
                )
            )
        if today not in self._days:
            lines.append(
                PnlLine(
                    scope=PnlScope.DAY, key=today.isoformat(), realized=ZERO, unrealized=total.unrealized, fees=ZERO
                )
            )
        lines.append(_line(PnlScope.TOTAL, "all", total))
        return PnlReport(as_of=as_of, lines=tuple(lines), unmarked=tuple(sorted(unmarked)))


def _line(scope: PnlScope, key: str, sums: _Sums) -> PnlLine:
    return PnlLine(scope=scope, key=key, realized=sums.realized, unrealized=sums.unrealized, fees=sums.fees)
