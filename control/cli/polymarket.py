"""`inertial polymarket ...`: operator commands against the configured Polymarket hosts.

Mount with `app.add_typer(polymarket_app, name="polymarket")` in control/cli/main.py.
User errors (configuration, venue rejections, network) print one line and exit 1.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.table import Table

from control.app.errors import OperationError
from control.cli.console import console, run, settings
from venues.errors import VenueError
from venues.polymarket.client import PolymarketClient
from venues.polymarket.factory import client_from_settings
from venues.polymarket.messages import PolymarketParseError

app = typer.Typer(no_args_is_help=True, help="Polymarket: API credentials, books, markets, balance")
T = TypeVar("T")


def _with_client(call: Callable[[PolymarketClient], Awaitable[T]]) -> T:
    polymarket = settings().polymarket

    async def go() -> T:
        async with client_from_settings(polymarket) as client:
            try:
                return await call(client)
            except (VenueError, PolymarketParseError) as exc:
                raise OperationError(str(exc)) from None

    return run(go())


@app.command()
def creds(
    nonce: int = typer.Option(0, help="Key nonce (one API key per wallet and nonce)"),
    show_secrets: bool = typer.Option(False, "--show-secrets", help="Print secret and passphrase in clear"),
) -> None:
    """Create (or, if it exists, derive) the CLOB API key of the configured wallet; prints it as env lines."""
    found = _with_client(lambda client: client.create_or_derive_api_key(nonce))

    def shown(value: str) -> str:
        return value if show_secrets else "****"

    console.print(f"INERTIAL_POLYMARKET__API_KEY={found.api_key}", highlight=False)
    console.print(f"INERTIAL_POLYMARKET__API_SECRET={shown(found.secret)}", highlight=False)
    console.print(f"INERTIAL_POLYMARKET__API_PASSPHRASE={shown(found.passphrase)}", highlight=False)


@app.command()
def book(token_id: str, depth: int = typer.Option(10, min=1, help="Levels per side")) -> None:
    """Print the top of one token's order book (REST `GET /book`)."""
    event = _with_client(lambda client: client.get_book(token_id))
    table = Table(title=f"{token_id[:16]}... hash {event.hash}")
    table.add_column("bid size", justify="right")
    table.add_column("bid", justify="right")
    table.add_column("ask", justify="right")
    table.add_column("ask size", justify="right")
    bids = sorted(event.bids, key=lambda lvl: -lvl[0])[:depth]
    asks = sorted(event.asks)[:depth]
    for n in range(max(len(bids), len(asks))):
        bid = bids[n] if n < len(bids) else None
        ask = asks[n] if n < len(asks) else None
        table.add_row(
            str(bid[1]) if bid else "",
            str(bid[0]) if bid else "",
            str(ask[0]) if ask else "",
            str(ask[1]) if ask else "",
        )
    console.print(table)


@app.command()
def markets(
    limit: int = typer.Option(20, min=1, max=500, help="How many markets"),
    closed: bool = typer.Option(False, help="List closed markets instead of open ones"),
) -> None:
    """List Gamma markets (condition id, tick, neg-risk, taker fee rate, end date, question)."""

    async def first_page(client: PolymarketClient) -> list[list[str]]:
        params = {"closed": str(closed).lower(), "active": "true"}
        async for page in client.iter_gamma_markets(params, page_size=limit):
            return [
                [
                    m.market_id,
                    str(m.tick_size),
                    "yes" if m.neg_risk else "",
                    str(m.taker_fee_rate),
                    m.end_date.isoformat() if m.end_date else "",
                    m.title,
                ]
                for m in page.markets
            ]
        return []

    rows = _with_client(first_page)
    table = Table()
    table.add_column("condition id", no_wrap=True)
    for column in ("tick", "neg-risk", "taker fee", "ends", "question"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)


@app.command()
def balance() -> None:
    """USDC on the CLOB account (needs API credentials) and what open orders leave available."""
    result = _with_client(lambda client: client.get_balance())
    console.print(f"total {result.total} USDC, available {result.available} USDC", highlight=False)
