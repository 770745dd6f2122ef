"""The live terminal view of the main job: books, opportunities, sagas and P&L.

Saga outcomes come from the `sagas` table (what the workflows recorded), so the
view shows the durable truth, not the hot process's hopes; sagas still running are
the difference between those started and those recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rich.console import Group
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from control.trading import TradingStack
from storage.database import session_factory
from storage.tables import SagaRow


@dataclass(frozen=True)
class SagaSummary:
    by_state: dict[str, int]
    realized_pnl: Decimal
    recent: list[SagaRow]

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
    return SagaSummary(
        by_state={state: int(n) for state, n in counts.all()},
        realized_pnl=sum((p for (p,) in pnl_rows.all()), Decimal(0)),
        recent=rows,
    )


def _price(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def render(stack: TradingStack, summary: SagaSummary) -> Group:
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
            opp.opportunity_id[:16], opp.direction.value, str(opp.contracts), f"${opp.expected_profit}"
        )
    sagas = Table(title="latest sagas", expand=True)
    for column in ("workflow", "state", "unmatched", "P&L"):
        sagas.add_column(column)
    for row in summary.recent:
        sagas.add_row(row.workflow_id[:24], row.state, str(row.net_exposure), f"${row.realized_pnl}")
    return Group(header, books, opportunities, sagas)


def status_line(stack: TradingStack, summary: SagaSummary) -> str:
    stats = stack.loop.stats
    states = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_state.items())) or "none finished"
    return (
        f"updates {stack.loop.relay.received}  opportunities {stats.opportunities}  "
        f"sagas started {stats.sagas_started} ({states})  realized P&L ${summary.realized_pnl:.4f}"
    )
