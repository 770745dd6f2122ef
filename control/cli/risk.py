"""`inertial risk status|pnl|kill|unkill|reset-breaker|set-limit`: drive a tenant's risk supervisor.

Talks to the configured Temporal address, or to the embedded dev server started by
`inertial up` (127.0.0.1:<temporal.dev_server_port>); it never starts a server itself.
User errors print one line and exit 1 (2 for configuration problems).
"""

from __future__ import annotations

import json
from decimal import Decimal

import typer

from control.app.access import Caller
from control.app.operations import Operations
from control.cli.console import operate
from risk.supervision import RiskStatus

app = typer.Typer(no_args_is_help=True, help="Risk manager: status, kill switch, circuit breaker, limits")

TENANT = typer.Option("default", "--tenant", help="Tenant whose supervisor to address")
TIMEOUT = typer.Option(30.0, "--timeout", min=0.1, help="Seconds to wait for a worker to answer")
ACTOR = typer.Option(None, "--actor", help="Who is acting (kept in the audit log); default your login name")


def _dollars(value: Decimal) -> str:
    """Exact, without trailing zeros beyond the cents (0.400000 -> 0.40, 0.1234 stays)."""
    whole, _, fraction = format(value.normalize(), "f").partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def _print_status(status: RiskStatus) -> None:
    kill = f"ON ({status.kill_reason})" if status.kill_switch else "off"
    if status.breaker_open:
        until = f", reopens {status.breaker_reopens_at.isoformat()}" if status.breaker_reopens_at else ""
        breaker = f"OPEN ({status.breaker_reason}{until})"
    else:
        breaker = "closed"
    venues = ", ".join(f"{v.value} {a}" for v, a in sorted(status.exposure_by_venue.items())) or "none"
    balances = ", ".join(f"{v.value} {b}" for v, b in sorted(status.balances.items())) or "not synced"
    lines = [
        f"tenant          {status.tenant_id}",
        f"kill switch     {kill}",
        f"circuit breaker {breaker}",
        f"open sagas      {len(status.open_sagas)} {' '.join(status.open_sagas)}".rstrip(),
        f"exposure        {status.exposure} ({venues}); {status.contracts} contracts",
        f"balances        {balances}",
        f"net P&L today   {status.net_pnl_today}",
        f"gate version    {status.gate_version} (published {status.published_version})",
    ]
    typer.echo("\n".join(lines))
    if status.published_version < status.gate_version:
        typer.echo("warning: the latest state is not yet published to the order gates", err=True)


@app.command()
def status(
    tenant: str = TENANT,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable status, limits and P&L"),
    timeout: float = TIMEOUT,
) -> None:
    """Kill switch, breaker, open sagas, exposure and limits."""

    async def read(ops: Operations, who: Caller) -> tuple[RiskStatus, str]:
        state = await ops.risk_status(who)
        limits = await ops.limits(who)
        if as_json:
            pnl = await ops.pnl(who)
            payload = {
                "state": state.model_dump(mode="json"),
                "limits": limits.model_dump(mode="json"),
                "pnl": pnl.model_dump(mode="json") if pnl else None,
            }
            return state, json.dumps(payload, indent=2)
        return state, "\n".join(f"  {key} = {value}" for key, value in limits.model_dump().items())

    state, rest = operate(tenant, read, timeout)
    if as_json:
        typer.echo(rest)
        return
    _print_status(state)
    typer.echo("limits:\n" + rest)


@app.command()
def pnl(tenant: str = TENANT, timeout: float = TIMEOUT) -> None:
    """The latest P&L snapshot: realized (fees included), unrealized, fees; per pair, venue, day, total."""
    report = operate(tenant, lambda ops, who: ops.pnl(who), timeout)
    if report is None:
        typer.echo("no P&L snapshot yet (the supervisor takes one every few minutes)")
        return
    typer.echo(f"as of {report.as_of.isoformat()}")
    typer.echo(f"{'scope':6} {'key':36} {'realized':>14} {'unrealized':>14} {'fees':>12}")
    for line in report.lines:
        realized, unrealized, fees = (_dollars(v) for v in (line.realized, line.unrealized, line.fees))
        typer.echo(f"{line.scope.value:6} {line.key:36} {realized:>14} {unrealized:>14} {fees:>12}")
    if report.unmarked:
        typer.echo(f"marked at worst case (no book): {', '.join(report.unmarked)}")


@app.command()
def kill(
    reason: str = typer.Option(..., "--reason", help="Why (shown to everyone and kept in the audit log)"),
    tenant: str = TENANT,
    actor: str | None = ACTOR,
    timeout: float = TIMEOUT,
) -> None:
    """Stop all new exposure now; sagas in flight still hedge and unwind. Returns once order gates can see it."""
    _print_status(operate(tenant, lambda ops, who: ops.kill(who, reason), timeout, actor))


@app.command()
def unkill(tenant: str = TENANT, actor: str | None = ACTOR, timeout: float = TIMEOUT) -> None:
    """Allow new exposure again."""
    _print_status(operate(tenant, lambda ops, who: ops.unkill(who), timeout, actor))


@app.command("reset-breaker")
def reset_breaker(tenant: str = TENANT, actor: str | None = ACTOR, timeout: float = TIMEOUT) -> None:
    """Close an open circuit breaker (its failure window starts empty)."""
    _print_status(operate(tenant, lambda ops, who: ops.reset_breaker(who), timeout, actor))


@app.command("set-limit")
def set_limit(
    key: str = typer.Argument(..., help="Limit name, e.g. max_exposure_total (see `inertial risk status`)"),
    value: str = typer.Argument(..., help="New value: dollars/contracts as decimals, counts and seconds as integers"),
    tenant: str = TENANT,
    actor: str | None = ACTOR,
    timeout: float = TIMEOUT,
) -> None:
    """Change one limit; bad keys and values are refused with the reason. A negative value needs `--`."""
    limits = operate(tenant, lambda ops, who: ops.set_limit(who, key, value), timeout, actor)
    typer.echo(f"{key} = {getattr(limits, key)}")
