"""`inertial pairs ...`: propose, review, confirm and reject cross-venue market pairs.

Pairs live in the configured database (`INERTIAL_DATABASE_URL`, migrated on first use); only
confirmed pairs are traded. The operations are `control.app.pairs`; this module only talks.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from control.app.operations import PairDesk
from control.cli.console import cli_caller, console, fail, with_database
from domain.models import MarketPair, PairStatus

app = typer.Typer(help="Cross-venue market pairs: suggest, list, confirm, reject.", no_args_is_help=True)
TENANT = typer.Option("default", "--tenant", help="The tenant whose audit log records the decision")


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
    tenant: str = TENANT,
) -> None:
    """Match the listings and store the candidates (existing decisions are kept)."""
    try:
        listings = json.loads(polymarket.read_text()), json.loads(kalshi.read_text())
    except ValueError as exc:
        fail(f"a listing is not JSON: {exc}")
    stored, rejected = with_database(
        lambda engine: PairDesk(engine).suggest(
            cli_caller(tenant), *listings, top_k=top_k, min_confidence=min_confidence
        )
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
    console.print(_table(with_database(lambda engine: PairDesk(engine).pairs(cli_caller("default"), status))))


def _decide(pair_id: str, status: PairStatus, by: str, tenant: str) -> None:
    pair = with_database(lambda engine: PairDesk(engine).decide(cli_caller(tenant, by), pair_id, status))
    console.print(_table([pair]))


@app.command()
def confirm(
    pair_id: str,
    by: str = typer.Option(..., "--by", help="Who checked that both markets resolve on the same event"),
    tenant: str = TENANT,
) -> None:
    """Confirm a pair: the detector will trade it."""
    _decide(pair_id, PairStatus.CONFIRMED, by, tenant)


@app.command()
def reject(pair_id: str, by: str = typer.Option(..., "--by", help="Who rejected it"), tenant: str = TENANT) -> None:
    """Reject a pair: it will not be traded or suggested as new again."""
    _decide(pair_id, PairStatus.REJECTED, by, tenant)
