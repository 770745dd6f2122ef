"""`inertial copy follow|unfollow|list|rules|pause|resume|history`: who a tenant copies, and how.

Follows live in leader workflows (a worker must run: `inertial up` or `inertial worker`); the
operations are `control.app.copy`; this module only talks. Bad input is one line and exit 1.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer

from control.app.connect import operator_client
from control.app.copy import Copying, rules_from
from control.app.errors import OperationError
from control.app.records import CopyView, Records
from control.cli.console import actor_name, console, fail, run, settings
from control.services import open_database
from copytrade.leaders import Follow
from domain.models import Venue

app = typer.Typer(no_args_is_help=True, help="Copy trading: follow leaders on Polymarket and Kalshi, set rules")
T = TypeVar("T")

TENANT = typer.Option("default", "--tenant", help="Tenant whose copies these are")
TIMEOUT = typer.Option(30.0, "--timeout", min=0.1, help="Seconds to wait for a worker to answer")
ACTOR = typer.Option(None, "--actor", help="Who is acting (kept in the audit log); default cli:<user>")
RULE = typer.Option([], "--rule", "-r", help="A rule as KEY=VALUE (e.g. fixed_amount=25, sides=buys_only); repeatable")


def _venue(name: str) -> Venue:
    try:
        return Venue(name.lower())
    except ValueError:
        fail(f"unknown venue {name!r}: polymarket or kalshi")


def _changes(pairs: list[str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"rule {pair!r} is not KEY=VALUE")
        text = value.strip()
        if key.strip() in ("markets_allow", "markets_deny"):
            changes[key.strip()] = [m for m in text.split(",") if m]
        elif text.lower() in ("none", "off", ""):
            changes[key.strip()] = None
        else:
            changes[key.strip()] = text
    return changes


def _call(tenant: str, action: Callable[[Copying], Awaitable[T]], timeout: float) -> T:
    loaded = settings()

    async def go() -> T:
        return await action(Copying(await operator_client(loaded), tenant, timeout))

    return run(go())


def _print(follow: Follow) -> None:
    c = follow.counters
    paused = f"PAUSED ({follow.pause_reason})" if follow.paused else "copying"
    typer.echo(
        f"{follow.venue.value} {follow.leader}: {paused}; {c.copies} copies, {c.filled} filled, "
        f"{c.skipped} skipped, {c.failed} failed, ${c.notional} traded, realized P&L ${c.realized_pnl}"
    )


@app.command()
def follow(
    venue: str,
    leader: str,
    rule: list[str] = RULE,
    tenant: str = TENANT,
    timeout: float = TIMEOUT,
) -> None:
    """Copy every trade of LEADER (a Polymarket wallet 0x..., or a Kalshi leader name) under the rules."""
    try:
        rules = rules_from(_changes(rule))
    except OperationError as exc:
        fail(str(exc))
    queue = settings().temporal.task_queue
    followed = _call(tenant, lambda c: c.follow(_venue(venue), leader, rules, queue), timeout)
    _print(followed)


@app.command()
def unfollow(
    venue: str, leader: str, tenant: str = TENANT, actor: str | None = ACTOR, timeout: float = TIMEOUT
) -> None:
    """Stop copying LEADER (copies in flight finish)."""
    gone = _call(tenant, lambda c: c.unfollow(_venue(venue), leader, actor_name(actor)), timeout)
    typer.echo(f"unfollowed {gone.venue.value} {gone.leader}")


@app.command(name="list")
def list_follows(tenant: str = TENANT, timeout: float = TIMEOUT) -> None:
    """Every leader the tenant follows, with its counters."""
    follows = _call(tenant, lambda c: c.follows(), timeout)
    if not follows:
        typer.echo("following nobody (inertial copy follow VENUE LEADER)")
    for f in follows:
        _print(f)


@app.command()
def rules(venue: str, leader: str, rule: list[str] = RULE, tenant: str = TENANT, timeout: float = TIMEOUT) -> None:
    """Show LEADER's rules, or change them with --rule KEY=VALUE (validated as a whole)."""
    if rule:
        changes = _changes(rule)
        shown = _call(tenant, lambda c: c.set_rules(_venue(venue), leader, changes), timeout)
    else:
        shown = _call(tenant, lambda c: c.state(_venue(venue), leader), timeout)
    for key, value in shown.rules.model_dump(mode="json").items():
        typer.echo(f"  {key} = {value}")


@app.command()
def pause(
    venue: str,
    leader: str,
    reason: str = typer.Option(..., "--reason", help="Why (kept with the follow)"),
    tenant: str = TENANT,
    actor: str | None = ACTOR,
    timeout: float = TIMEOUT,
) -> None:
    """Stop copying LEADER for now; the rules and counters stay."""
    _print(_call(tenant, lambda c: c.pause(_venue(venue), leader, reason, actor_name(actor)), timeout))


@app.command()
def resume(venue: str, leader: str, tenant: str = TENANT, actor: str | None = ACTOR, timeout: float = TIMEOUT) -> None:
    """Copy LEADER again."""
    _print(_call(tenant, lambda c: c.resume(_venue(venue), leader, actor_name(actor)), timeout))


@app.command()
def history(
    leader: str | None = typer.Argument(None),
    limit: int = typer.Option(50, "--limit"),
    tenant: str = TENANT,
) -> None:
    """The latest copies (of LEADER), newest first: state, filled, and why when not placed."""
    loaded = settings()

    async def go() -> list[CopyView]:
        engine = await open_database(loaded)
        try:
            return (await Records(engine).copies(tenant, leader=leader, limit=limit)).items
        finally:
            await engine.dispose()

    rows = run(go())
    if not rows:
        typer.echo("no copies yet")
    for row in rows:
        why = f"  {row.reason}" if row.reason else ""
        console.print(
            f"{row.recorded_at:%Y-%m-%d %H:%M:%S} {row.venue:10} {row.market_id[:24]:24} {row.state:16} "
            f"filled {row.filled} (${row.notional}){why}",
            highlight=False,
        )
