"""The `inertial` command. User errors print one line and exit non-zero; tracebacks are for bugs only."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import typer
from rich.table import Table

from control.cli.access import keys_app, tenants_app, users_app
from control.cli.console import console, run, settings
from control.cli.copy import app as copy_app
from control.cli.pairs import app as pairs_app
from control.cli.polymarket import app as polymarket_app
from control.cli.risk import app as risk_app
from control.cli.sandbox import app as sandbox_app
from control.cli.vault import app as vault_app
from control.config import masked_dump
from control.doctor import run_checks
from control.services import describe_database, open_database
from control.up import run_api, run_up, run_worker
from storage import migrate as migrations

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="InertialEvent: cross-venue prediction-market trading"
)
config_app = typer.Typer(no_args_is_help=True, help="Inspect the effective configuration")
app.add_typer(config_app, name="config")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(pairs_app, name="pairs")
app.add_typer(polymarket_app, name="polymarket")
app.add_typer(risk_app, name="risk")
app.add_typer(copy_app, name="copy")
app.add_typer(tenants_app, name="tenants")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(vault_app, name="vault")


@app.command()
def up(
    once: bool = typer.Option(False, help="Start the services, prove health and exit (no trading)"),
    duration: float | None = typer.Option(None, min=1, help="Stop after this many seconds"),
    until_sagas: int | None = typer.Option(None, min=1, help="Stop once this many sagas have finished"),
) -> None:
    """The main job: services, venues (sandboxes in paper mode), streamers, detector and worker; until Ctrl-C."""
    run(run_up(settings(), console, once=once, duration=duration, until_sagas=until_sagas))


@app.command()
def api() -> None:
    """Serve the REST API on its own (against a running system's Temporal and database)."""
    run(run_api(settings(), console))


@app.command()
def worker() -> None:
    """Run a worker process only (standby for sagas, hedges and compensations)."""
    run(run_worker(settings(), console))


@app.command()
def migrate(
    revision: str = typer.Argument("head", help="Target revision"),
    down: bool = typer.Option(False, "--down", help="Downgrade to the revision instead of upgrading"),
) -> None:
    """Apply (or revert) database migrations."""
    loaded = settings()

    async def go() -> None:
        engine = await open_database(loaded, run_migrations=False)
        try:
            if down:
                await migrations.downgrade(engine, revision)
            else:
                await migrations.upgrade(engine, revision)
            now = await migrations.current_revision(engine)
        finally:
            await engine.dispose()
        console.print(f"{describe_database(loaded.effective_database_url)} at revision {now}")

    run(go())


@config_app.command("show")
def config_show(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """Print the effective configuration with secrets masked."""
    dumped = masked_dump(settings())
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
