"""Risk activities: the supervisor's I/O (gate state, audit, account sync, P&L snapshots) and
the saga's request for room.

A saga workflow cannot call an update on another workflow, so `request_trade_approval`
does it through a client; the supervisor's update is idempotent per saga id, so a retried
activity gets the same answer and never reserves twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from domain.book import BookSnapshot
from domain.models import Fill, Outcome, Side, Venue, utc_now
from domain.money import MICRO, Rounding, quantize
from risk.gate import SqlGateStateStore
from risk.models import (
    AccountSnapshot,
    ApprovalRequest,
    AuditRecord,
    Decision,
    GatePublication,
    GateState,
    Holding,
    supervisor_id,
)
from risk.pnl import PnlLedger, PnlReport, PnlScope, book_marks
from storage.database import session_factory
from storage.tables import AuditEvent, FillRow, MarketPairRow, PnlSnapshot
from venues.accounts import VenueAccounts

CHECK_AND_RESERVE = "check_and_reserve"
RESERVATION_ADMITTED = "reservation_admitted"

log = logging.getLogger(__name__)

BookSource = Callable[[Venue, str], Awaitable[BookSnapshot | None]]
"""The latest book of a market, e.g. `RedisBus.get_book` or a lookup in the hot process's books."""


class RiskActivities:
    """`accounts` hold each tenant's trading clients, whose balances and positions its supervisor syncs from;
    `books` marks open positions for P&L; without it every open position is marked at its
    worst case and listed as unmarked (see risk.pnl)."""

    def __init__(
        self,
        engine: AsyncEngine,
        client: Client,
        *,
        accounts: VenueAccounts | None = None,
        books: BookSource | None = None,
    ) -> None:
        self._sessions = session_factory(engine)
        self._store = SqlGateStateStore(engine)
        self._client = client
        self._accounts = accounts or VenueAccounts({})
        self._books = books

    def activities(self) -> list[Callable[..., Awaitable[Any]]]:
        """Every risk activity, for a worker's registration list."""
        return [
            self.publish_gate_state,
            self.record_audit,
            self.read_gate_state,
            self.snapshot_pnl,
            self.request_trade_approval,
            self.fetch_account,
            self.closed_sagas,
        ]

    @activity.defn(name="publish_gate_state")
    async def publish_gate_state(self, publication: GatePublication) -> bool:
        """True when this version is stored (a newer one already there makes it a no-op, False)."""
        stored = await self._store.write(publication.state)
        if stored:
            async with self._sessions() as session:
                session.add(
                    AuditEvent(
                        tenant_id=publication.state.tenant_id,
                        actor=publication.actor,
                        action=publication.action,
                        subject=f"risk-gate:{publication.state.version}",
                        details=publication.state.model_dump(mode="json"),
                    )
                )
                await session.commit()
        return stored

    @activity.defn(name="record_audit")
    async def record_audit(self, record: AuditRecord) -> None:
        async with self._sessions() as session:
            session.add(
                AuditEvent(
                    tenant_id=record.tenant_id,
                    actor=record.actor,
                    action=record.action,
                    subject=record.subject,
                    details=record.details,
                )
            )
            await session.commit()

    @activity.defn(name="read_gate_state")
    async def read_gate_state(self, tenant_id: str) -> GateState | None:
        return await self._store.read(tenant_id)

    @activity.defn(name="snapshot_pnl")
    async def snapshot_pnl(self, tenant_id: str) -> PnlReport:
        """P&L of every fill of the tenant, marked now; one `pnl_snapshots` row per pair, venue,
        today and total.

        Rows are rounded to the 1e-6 column unit toward the safe side: P&L down, fees up.
        The returned report keeps the exact figures.
        """
        async with self._sessions() as session:
            fills = (await session.scalars(select(FillRow).where(FillRow.tenant_id == tenant_id))).all()
            pairs = (await session.scalars(select(MarketPairRow))).all()
        pair_of: dict[tuple[Venue, str], str] = {}
        for pair in pairs:
            pair_of[(Venue.POLYMARKET, pair.polymarket_condition_id)] = pair.id
            pair_of[(Venue.KALSHI, pair.kalshi_ticker)] = pair.id
        ledger = PnlLedger(pair_of)
        ledger.extend(_to_fill(row) for row in fills)
        report = ledger.report(book_marks(await self._books_of(ledger)), utc_now())
        async with self._sessions() as session:
            today = report.as_of.date().isoformat()
            for line in report.lines:
                if line.scope is PnlScope.DAY and line.key != today:
                    continue  # past days were persisted on their day; their lines no longer change
                session.add(
                    PnlSnapshot(
                        tenant_id=tenant_id,
                        scope=line.scope.value,
                        scope_key=line.key,
                        realized=quantize(line.realized, MICRO, Rounding.DOWN),
                        unrealized=quantize(line.unrealized, MICRO, Rounding.DOWN),
                        fees=quantize(line.fees, MICRO, Rounding.UP),
                        taken_at=report.as_of,
                    )
                )
            await session.commit()
        return report

    async def _books_of(self, ledger: PnlLedger) -> dict[tuple[Venue, str], BookSnapshot]:
        """The books of the markets with open positions (a failed lookup leaves that market unmarked)."""
        if self._books is None:
            return {}
        markets = sorted({(venue, market_id) for venue, market_id, _ in ledger.positions()})
        found = await asyncio.gather(*(self._books(v, m) for v, m in markets), return_exceptions=True)
        books: dict[tuple[Venue, str], BookSnapshot] = {}
        for market, book in zip(markets, found, strict=True):
            if isinstance(book, BaseException):
                log.warning("no book for %s:%s to mark P&L: %s", market[0].value, market[1], book)
            elif book is not None:
                books[market] = book
        return books

    @activity.defn(name="closed_sagas")
    async def closed_sagas(self, saga_ids: list[str]) -> list[str]:
        """Which of these saga workflows are no longer running (or unknown to Temporal)."""
        closed = []
        for saga_id in saga_ids:
            try:
                described = await self._client.get_workflow_handle(saga_id).describe()
            except RPCError as exc:
                if exc.status is not RPCStatusCode.NOT_FOUND:
                    raise
                closed.append(saga_id)
                continue
            if described.status is not WorkflowExecutionStatus.RUNNING:
                closed.append(saga_id)
        return closed

    @activity.defn(name="request_trade_approval")
    async def request_trade_approval(self, approval: ApprovalRequest) -> Decision:
        handle = self._client.get_workflow_handle(supervisor_id(approval.tenant_id))
        return await handle.execute_update(
            CHECK_AND_RESERVE,
            approval.request,
            id=f"reserve-{approval.request.saga_id}",
            result_type=Decision,
        )

    @activity.defn(name="fetch_account")
    async def fetch_account(self, tenant_id: str) -> AccountSnapshot | None:
        """Balances and holdings of the tenant's account on every venue (None when it has none here).

        `as_of` is taken before the first request, so whatever completes during the reads is
        re-applied by the supervisor (see RiskBook.sync). A holding's dollars at risk are its
        cost basis, or one dollar per contract when the venue reports none (the most it can lose).
        """
        venues = list(self._accounts.of_tenant(tenant_id).values())
        if not venues:
            return None
        as_of = utc_now()
        balances = await asyncio.gather(*(v.get_balance() for v in venues))
        positions = await asyncio.gather(*(v.get_positions() for v in venues))
        holdings: dict[tuple[Venue, str], tuple[Decimal, Decimal]] = {}
        for position in (p for per_venue in positions for p in per_venue):
            if not position.quantity:
                continue
            contracts = abs(position.quantity)
            at_risk = position.cost_basis if position.cost_basis > 0 else contracts
            held = holdings.get((position.venue, position.market_id), (Decimal(0), Decimal(0)))
            holdings[(position.venue, position.market_id)] = (held[0] + contracts, held[1] + at_risk)
        return AccountSnapshot(
            balances={b.venue: b.available for b in balances},
            holdings=tuple(
                Holding(venue=venue, market_id=market_id, contracts=contracts, at_risk=at_risk)
                for (venue, market_id), (contracts, at_risk) in sorted(holdings.items())
            ),
            as_of=as_of,
        )


def _to_fill(row: FillRow) -> Fill:
    return Fill(
        fill_id=row.fill_id,
        venue=Venue(row.venue),
        venue_order_id=row.venue_order_id,
        client_order_id=row.client_order_id,
        market_id=row.market_id,
        outcome=Outcome(row.outcome),
        side=Side(row.side),
        price=row.price,
        quantity=row.quantity,
        fee=row.fee,
        is_taker=row.is_taker,
        filled_at=row.filled_at,
    )
