"""`inertial pairs ...`: propose, review, confirm and reject cross-venue market pairs.

Pairs live in the configured database (`INERTIAL_DATABASE_URL`, migrated on first use); only
confirmed pairs are traded. The operations are `control.app.pairs`; this module only talks.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import typer
from rich.table import Table

from control.app.pairs import Pairs
from control.cli.console import console, fail, run, settings
from control.services import open_database
from domain.models import MarketPair, PairStatus
from matching.pairs import SqlPairRepository

app = typer.Typer(help="Cross-venue market pairs: suggest, list, confirm, reject.", no_args_is_help=True)
T = TypeVar("T")


def _with_pairs(action: Callable[[Pairs], Awaitable[T]]) -> T:
    loaded = settings()

    async def go() -> T:
        engine = await open_database(loaded)
        try:
            return await action(Pairs(SqlPairRepository(engine)))
        finally:
            await engine.dispose()

    return run(go())


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
    try:
        listings = json.loads(polymarket.read_text()), json.loads(kalshi.read_text())
    except ValueError as exc:
        fail(f"a listing is not JSON: {exc}")
    stored, rejected = _with_pairs(
        lambda pairs: pairs.suggest_listings(*listings, top_k=top_k, min_confidence=min_confidence)
    )
    for reason in rejected:
        console.print(f"[yellow]skipped Polymarket listing:[/] {reason}")
    console.print(_table(stored))
    console.print(f"{len(stored)} candidate pairs stored")


@app.command("list")
def list_pairs(
    status: PairStatus | None = typer.Option(None, case_sensitive=False, help="Only pairs in this status"),
) -> None:
    """Show stored pairs, most confident first."""
    console.print(_table(_with_pairs(lambda pairs: pairs.list_pairs(status))))


def _decide(pair_id: str, status: PairStatus, by: str) -> None:
    pair = _with_pairs(lambda pairs: pairs.decide(pair_id, status, by))
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
