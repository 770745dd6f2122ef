"""`inertial pairs ...`: propose, review, confirm and reject cross-venue market pairs.

Mount with ``app.add_typer(arbitrage.cli.app, name="pairs")``. Pairs live in the configured
database (`INERTIAL_DATABASE_URL`, migrated on first use); only confirmed pairs are traded.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from control.config import ConfigError, load_settings
from control.services import ServiceError, open_database
from domain.models import Market, MarketPair, PairStatus
from matching.candidates import CandidateGenerator
from matching.pairs import PairNotFoundError, SqlPairRepository
from venues.kalshi.parse import parse_events_page, parse_markets_page
from venues.polymarket.parse import gamma_events, gamma_markets

app = typer.Typer(help="Cross-venue market pairs: suggest, list, confirm, reject.", no_args_is_help=True)
console = Console()
T = TypeVar("T")


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/] {message}", highlight=False)
    return typer.Exit(2)


def _with_repository(action: Callable[[SqlPairRepository], Awaitable[T]]) -> T:
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise _fail(f"config error: {exc}") from None

    async def go() -> T:
        engine = await open_database(settings)
        try:
            return await action(SqlPairRepository(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except ServiceError as exc:
        raise _fail(str(exc)) from None


def load_polymarket(path: Path) -> list[Market]:
    """A saved Gamma `/events` or `/markets` response."""
    raw: Any = json.loads(path.read_text())
    items = raw.get("events", raw.get("data", raw)) if isinstance(raw, dict) else raw
    is_events = isinstance(items, list) and any(isinstance(i, dict) and "markets" in i for i in items)
    page = gamma_events(raw) if is_events else gamma_markets(raw)
    for rejected in page.rejected:
        console.print(f"[yellow]skipped Polymarket listing:[/] {rejected}")
    return page.markets


def load_kalshi(path: Path) -> list[Market]:
    """A saved Kalshi `/markets` page, or an `/events` page with nested markets."""
    raw: Any = json.loads(path.read_text())
    if isinstance(raw, dict) and "events" in raw:
        return [m for event in parse_events_page(raw).items for m in event.markets]
    return list(parse_markets_page(raw).items)


def _table(pairs: list[MarketPair]) -> Table:
    table = Table("pair", "status", "conf.", "aligned", "polymarket", "kalshi", "flags", "decided by")
    for p in pairs:
        table.add_row(
            p.pair_id,
            p.status.value,
            str(p.confidence),
            "yes" if p.aligned else "REVERSED",
            p.polymarket.title,
            f"{p.kalshi.market_id}\n{p.kalshi.title}",
            ", ".join(p.risk_flags) or "-",
            f"{p.confirmed_by} {p.confirmed_at:%Y-%m-%d %H:%M}" if p.confirmed_by and p.confirmed_at else "-",
        )
    return table


@app.command()
def suggest(
    polymarket: Path = typer.Argument(..., exists=True, help="Gamma /events or /markets JSON"),
    kalshi: Path = typer.Argument(..., exists=True, help="Kalshi /markets (or /events with markets) JSON"),
    top_k: int = typer.Option(3, min=1, help="Candidates kept per Kalshi market"),
    min_confidence: float = typer.Option(0.5, min=0.0, max=1.0, help="Drop candidates below this"),
) -> None:
    """Match the listings and store the candidates (existing decisions are kept)."""
    generator = CandidateGenerator(load_polymarket(polymarket))
    candidates = generator.generate(load_kalshi(kalshi), top_k=top_k, min_confidence=min_confidence)

    async def store(repo: SqlPairRepository) -> list[MarketPair]:
        return [await repo.suggest(c.to_pair()) for c in candidates]

    stored = _with_repository(store)
    console.print(_table(stored))
    console.print(f"{len(stored)} candidate pairs stored")


@app.command("list")
def list_pairs(
    status: PairStatus | None = typer.Option(None, case_sensitive=False, help="Only pairs in this status"),
) -> None:
    """Show stored pairs, most confident first."""

    async def fetch(repo: SqlPairRepository) -> list[MarketPair]:
        return await repo.list_pairs(status)

    console.print(_table(_with_repository(fetch)))


def _decide(pair_id: str, status: PairStatus, by: str) -> None:
    async def go(repo: SqlPairRepository) -> MarketPair:
        return await repo.decide(pair_id, status, by)

    try:
        pair = _with_repository(go)
    except PairNotFoundError:
        raise _fail(f"no pair {pair_id}") from None
    except ValueError as exc:
        raise _fail(str(exc)) from None
    console.print(_table([pair]))


@app.command()
def confirm(
    pair_id: str,
    by: str = typer.Option(..., "--by", help="Who checked that both markets resolve on the same event"),
) -> None:
    """Confirm a pair: the detector will trade it."""
    _decide(pair_id, PairStatus.CONFIRMED, by)


@app.command()
def reject(pair_id: str, by: str = typer.Option(..., "--by", help="Who rejected it")) -> None:
    """Reject a pair: it will not be traded or suggested as new again."""
    _decide(pair_id, PairStatus.REJECTED, by)
