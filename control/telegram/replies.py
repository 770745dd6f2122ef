"""What the bot says: the application layer's answers as short plain-text messages for a phone."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from control.app.operations import Health
from control.app.positions import Positions
from control.app.records import CopyView, SagaView
from copytrade.leaders import Follow
from domain.manual_orders import ManualOrder, ManualOrderStatus
from domain.models import MarketPair, utc_now
from risk.models import Limits
from risk.pnl import PnlReport, PnlScope
from risk.supervision import RiskStatus

CENT = Decimal("0.01")  # shown to the cent, half-up: a display, never a booking

HELP = """Commands:
/status  health, mode and risk
/pnl [day|week|all]  profit and loss
/positions  exposure and balances per venue
/sagas  recent arbitrage sagas
/copies  recent copies
/pairs  pairs waiting for review
/leaders  leaders you follow
/follow <venue> <leader> [key=value ...]
/unfollow <venue> <leader>
/pause <venue> <leader> [reason]   /resume <venue> <leader>
/kill <reason>   /unkill
/limits [key value]
/buy or /sell <venue> <market> <yes|no> <size> <price> [rest seconds]
/orders   /cancel <order id>"""


def money(value: Decimal) -> str:
    return f"${value.quantize(CENT, rounding=ROUND_HALF_UP)}"


def status(health: Health, risk: RiskStatus) -> str:
    lines = [
        f"{health.mode.upper()} · tenant {health.tenant_id} · you are {health.role.value}",
        f"Temporal {'up' if health.temporal else 'DOWN'} · database {'up' if health.database else 'DOWN'}",
        f"kill switch: {'ON — ' + risk.kill_reason if risk.kill_switch else 'off'}",
        f"breaker: {'OPEN — ' + risk.breaker_reason if risk.breaker_open else 'closed'}",
        f"open sagas: {len(risk.open_sagas)} · exposure {money(risk.exposure)} · today {money(risk.net_pnl_today)}",
    ]
    return "\n".join(lines)


def pnl(report: PnlReport | None, period: str) -> str:
    if report is None:
        return "no P&L yet: nothing has traded"
    if period == "all":
        line = report.total
        return (
            f"P&L all time: {money(line.total)} (realized {money(line.realized)}, "
            f"open {money(line.unrealized)}, fees {money(line.fees)})"
        )
    days = 1 if period == "day" else 7
    first = (utc_now() - timedelta(days=days - 1)).date().isoformat()
    chosen = [ln for ln in report.lines if ln.scope is PnlScope.DAY and ln.key >= first]
    total = sum((ln.total for ln in chosen), Decimal(0))
    fees = sum((ln.fees for ln in chosen), Decimal(0))
    label = "today" if period == "day" else "last 7 days"
    return f"P&L {label}: {money(total)} (fees {money(fees)}, {len(chosen)} trading day(s))"


def positions(book: Positions) -> str:
    lines = [f"contracts held: {book.contracts} · exposure {money(book.exposure)}"]
    for v in book.venues:
        balance = money(v.balance) if v.balance is not None else "unknown"
        pnl = f", P&L {money(v.pnl.total)}" if v.pnl is not None else ""
        lines.append(f"{v.venue.value}: exposure {money(v.exposure)}, balance {balance}{pnl}")
    lines += [f"pair {ln.key}: {money(ln.total)}" for ln in book.pairs]
    lines += [
        f"leader {ld.venue.value} {ld.leader}: {ld.filled} filled, P&L {money(ld.realized_pnl)}" for ld in book.leaders
    ]
    return "\n".join(lines)


def sagas(rows: list[SagaView]) -> str:
    if not rows:
        return "no sagas yet"
    return "\n".join(f"{s.state:12} {s.workflow_id} · P&L {money(s.realized_pnl)}" for s in rows)


def copies(rows: list[CopyView]) -> str:
    if not rows:
        return "no copies yet"
    return "\n".join(
        f"{c.state:16} {c.venue} {c.market_id} {c.filled} for {money(c.notional)} {c.reason}".rstrip() for c in rows
    )


def follow(f: Follow) -> str:
    state = f"paused ({f.pause_reason})" if f.paused else "copying"
    return f"{f.venue.value} {f.leader}: {state}, {f.rules.sizing.value} {f.rules.fixed_amount} per trade"


def leaders(rows: list[Follow]) -> str:
    return "\n".join(follow(f) for f in rows) if rows else "you follow no leaders: /follow <venue> <leader>"


def pair(p: MarketPair) -> str:
    flags = ", ".join(p.risk_flags) if p.risk_flags else "none"
    return (
        f"pair {p.pair_id} ({p.status.value}, confidence {p.confidence})\n"
        f"Polymarket: {p.polymarket.title}\nKalshi: {p.kalshi.title} ({p.kalshi.market_id})\n"
        f"{'same wording' if p.aligned else 'worded the other way round'} · resolution-risk flags: {flags}"
    )


def limits(lim: Limits) -> str:
    return "\n".join(f"{key} = {value}" for key, value in lim.model_dump().items())


def order_question(o: ManualOrder) -> str:
    return f"Place {o.describe()}?\nworst-case cost: {money(o.worst_case_cost)}"


def order(s: ManualOrderStatus) -> str:
    text = f"order {s.order_id}: {s.state.value}"
    if s.filled:
        text += f", {s.filled} filled for {money(s.cost)} (fees {money(s.fees)})"
    return f"{text}. {s.reason}".rstrip(". ") if s.reason else text
