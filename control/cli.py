"""The `inertial` command. User errors print one line and exit non-zero; tracebacks are for bugs only."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from arbitrage.cli import app as pairs_app
from control.config import ConfigError, Settings, load_settings, masked_dump
from control.doctor import run_checks
from control.services import ServiceError, describe_database, open_database
from control.up import run_up, run_worker
from risk.cli import app as risk_app
from sandbox.cli import app as sandbox_app
from storage import migrate as migrations
from venues.polymarket.cli import app as polymarket_app

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="InertialEvent: cross-venue prediction-market trading"
)
config_app = typer.Typer(no_args_is_help=True, help="Inspect the effective configuration")
app.add_typer(config_app, name="config")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(pairs_app, name="pairs")
app.add_typer(polymarket_app, name="polymarket")
app.add_typer(risk_app, name="risk")

console = Console()
err_console = Console(stderr=True)


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail(f"config error: {exc}")
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("alembic", "temporalio.worker", "httpx"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
    return settings


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _run(coro: Coroutine[Any, Any, None]) -> None:
    try:
        asyncio.run(coro)
    except ServiceError as exc:
        _fail(str(exc), code=1)


@app.command()
def up(
    once: bool = typer.Option(False, help="Start the services, prove health and exit (no trading)"),
    duration: float | None = typer.Option(None, min=1, help="Stop after this many seconds"),
    until_sagas: int | None = typer.Option(None, min=1, help="Stop once this many sagas have finished"),
) -> None:
    """The main job: services, venues (sandboxes in paper mode), streamers, detector and worker; until Ctrl-C."""
    _run(run_up(_settings(), console, once=once, duration=duration, until_sagas=until_sagas))


@app.command()
def worker() -> None:
    """Run a worker process only (standby for sagas, hedges and compensations)."""
    _run(run_worker(_settings(), console))


@app.command()
def migrate(
    revision: str = typer.Argument("head", help="Target revision"),
    down: bool = typer.Option(False, "--down", help="Downgrade to the revision instead of upgrading"),
) -> None:
    """Apply (or revert) database migrations."""
    settings = _settings()

    async def go() -> None:
        engine = await open_database(settings, run_migrations=False)
        try:
            if down:
                await migrations.downgrade(engine, revision)
            else:
                await migrations.upgrade(engine, revision)
            now = await migrations.current_revision(engine)
        finally:
            await engine.dispose()
        console.print(f"{describe_database(settings.effective_database_url)} at revision {now}")

    _run(go())


@config_app.command("show")
def config_show(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """Print the effective configuration with secrets masked."""
    dumped = masked_dump(_settings())
    if as_json:
        console.print_json(json.dumps(dumped))
        return
    table = Table(show_header=True)
    table.add_column("setting")
    table.add_column("value")

    def rows(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                rows(f"{prefix}.{key}" if prefix else key, sub)
        else:
            table.add_row(prefix, "" if value is None else str(value))

    rows("", dumped)
    console.print(table)


@app.command()
def doctor() -> None:
    """Check every dependency and say what is wrong and how to fix it."""
    checks = asyncio.run(run_checks())
    for check in checks:
        mark = "[green]ok[/]  " if check.ok else "[red]FAIL[/]"
        console.print(f"{mark} {check.name:15} {check.detail}", highlight=False, soft_wrap=True)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)
