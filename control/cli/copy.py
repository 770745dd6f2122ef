"""`inertial copy follow|unfollow|list|rules|pause|resume|history`: who a tenant copies, and how.

Follows live in leader workflows (a worker must run: `inertial up` or `inertial worker`); the
operations are `control.app.operations` (role check, audit), as for REST and Telegram; this module
only talks. Bad input is one line and exit 1.
"""

from __future__ import annotations

from typing import Any

import typer

from control.app.records import CopyView, Records
from control.cli.console import console, fail, operate, run, settings
from control.services import open_database
from copytrade.leaders import Follow
from domain.models import Venue

app = typer.Typer(no_args_is_help=True, help="Copy trading: follow leaders on Polymarket and Kalshi, set rules")

TENANT = typer.Option("default", "--tenant", help="Tenant whose copies these are")
TIMEOUT = typer.Option(30.0, "--timeout", min=0.1, help="Seconds to wait for a worker to answer")
ACTOR = typer.Option(None, "--actor", help="Who is acting (kept in the audit log); default your login name")
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
    actor: str | None = ACTOR,
    timeout: float = TIMEOUT,
) -> None:
    """Copy every trade of LEADER (a Polymarket wallet 0x..., or a Kalshi leader name) under the rules."""
    changes, where = _changes(rule), _venue(venue)
    _print(operate(tenant, lambda ops, who: ops.follow(who, where, leader, changes), timeout, actor))


@app.command()
def unfollow(
    venue: str, leader: str, tenant: str = TENANT, actor: str | None = ACTOR, timeout: float = TIMEOUT
) -> None:
    """Stop copying LEADER (copies in flight finish)."""
    where = _venue(venue)
    gone = operate(tenant, lambda ops, who: ops.unfollow(who, where, leader), timeout, actor)
    typer.echo(f"unfollowed {gone.venue.value} {gone.leader}")


@app.command(name="list")
def list_follows(tenant: str = TENANT, timeout: float = TIMEOUT) -> None:
    """Every leader the tenant follows, with its counters."""
    follows = operate(tenant, lambda ops, who: ops.follows(who), timeout)
    if not follows:
        typer.echo("following nobody (inertial copy follow VENUE LEADER)")
    for f in follows:
        _print(f)


@app.command()
def rules(
    venue: str,
    leader: str,
    rule: list[str] = RULE,
    tenant: str = TENANT,
    actor: str | None = ACTOR,
    timeout: float = TIMEOUT,
) -> None:
    """Show LEADER's rules, or change them with --rule KEY=VALUE (validated as a whole)."""
    where = _venue(venue)
    if rule:
        changes = _changes(rule)
        shown = operate(tenant, lambda ops, who: ops.set_rules(who, where, leader, changes), timeout, actor)
    else:
        shown = operate(tenant, lambda ops, who: ops.follow_state(who, where, leader), timeout)
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
    where = _venue(venue)
    _print(operate(tenant, lambda ops, who: ops.pause(who, where, leader, reason), timeout, actor))


@app.command()
def resume(venue: str, leader: str, tenant: str = TENANT, actor: str | None = ACTOR, timeout: float = TIMEOUT) -> None:
    """Copy LEADER again."""
    where = _venue(venue)
    _print(operate(tenant, lambda ops, who: ops.resume(who, where, leader), timeout, actor))


@app.command()
def history(
    leader: str | None = typer.Argument(None),
    limit: int = typer.Option(50, "--limit"),
    tenant: str = TENANT,
) -> None:
    """The latest copies (of LEADER), newest first: state, filled, and why when not placed."""
    loaded = settings()

    async def go() -> list[CopyView]:
        """Read from the database alone, so history works while nothing else runs."""
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
