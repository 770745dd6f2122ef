"""The live terminal view of the main job: books, opportunities, sagas, copies, P&L, alerts and links.

Saga outcomes come from the `sagas` table (what the workflows recorded), so the
view shows the durable truth, not the hot process's hopes; sagas still running are
the difference between those started and those recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rich.console import Group, RenderableType
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from control.app.audit import Audit, AuditView, alert_text
from control.copying import CopyStack
from control.trading import TradingStack
from domain.accounts import DEFAULT_TENANT
from storage.database import session_factory
from storage.tables import CopyOutcomeRow, SagaRow


@dataclass(frozen=True)
class SagaSummary:
    by_state: dict[str, int]
    realized_pnl: Decimal
    recent: list[SagaRow]
    copies_by_state: dict[str, int]
    recent_copies: list[CopyOutcomeRow]
    alerts: list[AuditView]

    @property
    def finished(self) -> int:
        return sum(self.by_state.values())


async def saga_summary(engine: AsyncEngine, recent: int = 8) -> SagaSummary:
    async with session_factory(engine)() as session:
        counts = await session.execute(select(SagaRow.state, func.count()).group_by(SagaRow.state))
        rows = list(
            (await session.execute(select(SagaRow).order_by(SagaRow.updated_at.desc()).limit(recent))).scalars()
        )
        pnl_rows = await session.execute(select(SagaRow.realized_pnl))
        copy_counts = await session.execute(select(CopyOutcomeRow.state, func.count()).group_by(CopyOutcomeRow.state))
        copies = await session.execute(select(CopyOutcomeRow).order_by(CopyOutcomeRow.recorded_at.desc()).limit(recent))
    alerts = await Audit(engine).events(DEFAULT_TENANT, alerts_only=True, limit=5)
    return SagaSummary(
        by_state={state: int(n) for state, n in counts.all()},
        realized_pnl=sum((p for (p,) in pnl_rows.all()), Decimal(0)),
        recent=rows,
        copies_by_state={state: int(n) for state, n in copy_counts.all()},
        recent_copies=list(copies.scalars()),
        alerts=alerts.items,
    )


def _price(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _copies(summary: SagaSummary) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(summary.copies_by_state.items())) or "none recorded"


def render(stack: TradingStack, summary: SagaSummary, copying: CopyStack | None = None, links: str = "") -> Group:
    """One screen, redrawn in place: counters, the links to look further, books, opportunities, sagas,
    copies and the latest alerts."""
    stats = stack.loop.stats
    running = max(0, stats.sagas_started - summary.finished)
    header = (
        f"[bold]pairs[/] {len(stack.pairs)}   [bold]book updates[/] {stack.loop.relay.received}   "
        f"[bold]evaluated[/] {stats.evaluations}   [bold]opportunities[/] {stats.opportunities}   "
        f"[bold]sagas[/] started {stats.sagas_started}, running {running}, "
        + ", ".join(f"{k} {v}" for k, v in sorted(summary.by_state.items()))
        + f"   [bold]realized P&L[/] ${summary.realized_pnl:.4f}"
    )
    books = Table(title="books (YES bid / ask)", expand=True)
    for column in ("pair", "Polymarket", "Kalshi", "sync"):
        books.add_column(column)
    for pair in stack.pairs[:10]:
        poly, kalshi = stack.snapshots(pair)
        books.add_row(
            pair.kalshi.market_id,
            f"{_price(poly.best_bid())} / {_price(poly.best_ask())}",
            "-" if kalshi is None else f"{_price(kalshi.best_bid())} / {_price(kalshi.best_ask())}",
            "yes" if poly.in_sync and kalshi is not None and kalshi.in_sync else "no",
        )
    opportunities = Table(title="latest opportunities", expand=True)
    for column in ("id", "direction", "contracts", "expected profit"):
        opportunities.add_column(column)
    for opp in stats.recent[:6]:
        opportunities.add_row(
            opp.opportunity_id[:16], opp.direction.value, str(opp.contracts), f"${opp.expected_profit:.4f}"
        )
    sagas = Table(title="latest sagas", expand=True)
    for column in ("workflow", "state", "unmatched", "P&L"):
        sagas.add_column(column)
    for row in summary.recent:
        sagas.add_row(row.workflow_id[:24], row.state, str(row.net_exposure), f"${row.realized_pnl}")
    alerts = Table(title="latest alerts", expand=True, show_header=False)  # near the top: a short terminal crops
    alerts.add_column("at", width=8, no_wrap=True)
    alerts.add_column("alert", ratio=1)
    for event in summary.alerts[:3]:
        alerts.add_row(f"{event.at:%H:%M:%S}", alert_text(event))
    if not summary.alerts:
        alerts.add_row("", "none")
    parts: list[RenderableType] = [header, links] if links else [header]
    if copying is None:
        return Group(*parts, alerts, books, opportunities, sagas)
    copies = Table(title=f"latest copies ({copying.status()}; {_copies(summary)})", expand=True)
    for column in ("leader", "venue", "market", "state", "filled", "reason"):
        copies.add_column(column)
    for copy_row in summary.recent_copies:
        copies.add_row(
            copy_row.leader[:14],
            copy_row.venue,
            copy_row.market_id[:24],
            copy_row.state,
            str(copy_row.filled),
            copy_row.reason[:60],
        )
    return Group(*parts, alerts, books, opportunities, sagas, copies)


def status_line(stack: TradingStack, summary: SagaSummary, copying: CopyStack | None = None) -> str:
    stats = stack.loop.stats
    states = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_state.items())) or "none finished"
    return (
        f"updates {stack.loop.relay.received}  opportunities {stats.opportunities}  "
        f"sagas started {stats.sagas_started} ({states})  realized P&L ${summary.realized_pnl:.4f}"
        + ("" if copying is None else f"  copies: {copying.status()} ({_copies(summary)})")
    )
