"""`inertial sandbox`: both sandbox venues on fixed local ports, optionally with a scenario or a replay.

Mount with `app.add_typer(control.cli.sandbox.app, name="sandbox")`: the callback is the
command itself, so `inertial sandbox --scenario twin` runs it. By default each
venue runs in its own process (Polymarket in a child), so the two books move on
two cores; both run the scenario with one seed, so they follow one price walk.
`--one-process` keeps them together. Ctrl-C (or SIGTERM) stops both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
from dataclasses import dataclass
from pathlib import Path

import typer

from control.cli.telegram import app as telegram_app
from sandbox.runner import VENUES, run_sandboxes
from sandbox.scenarios import SCENARIOS, TwinMarkets

app = typer.Typer(help="Local Polymarket and Kalshi venues that behave like the real ones on the wire.")


@dataclass(frozen=True)
class Plan:
    host: str
    polymarket_port: int
    kalshi_port: int
    scenario: str | None
    replay: Path | None
    speed: float
    rate: float
    seed: int
    data_dir: Path | None


app.add_typer(telegram_app, name="telegram")


@app.callback(invoke_without_command=True)
def sandbox(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Interface to bind (keep it on loopback)."),
    polymarket_port: int = typer.Option(8801, help="Polymarket CLOB, WebSockets, Gamma, Data API and admin."),
    kalshi_port: int = typer.Option(8802, help="Kalshi trade API v2, WebSocket v2 and admin."),
    scenario: str | None = typer.Option(None, help=f"Named scenario: {', '.join(sorted(SCENARIOS))}."),
    replay: Path | None = typer.Option(None, exists=True, dir_okay=False, help="Recorded stream to replay."),
    speed: float = typer.Option(1.0, min=0, help="Replay speed multiple (0 = as fast as possible)."),
    rate: float = typer.Option(200.0, min=1, help="Scenario book updates per second (both venues together)."),
    seed: int = typer.Option(0, help="Scenario random seed (same seed, same books)."),
    data_dir: Path | None = typer.Option(None, help="Recorded data for the `recorded` scenario."),
    one_process: bool = typer.Option(False, "--one-process", help="Run both venues in this process."),
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    if scenario is not None and scenario not in SCENARIOS:
        raise typer.BadParameter(f"unknown scenario {scenario!r}; known: {', '.join(sorted(SCENARIOS))}")
    plan = Plan(host, polymarket_port, kalshi_port, scenario, replay, speed, rate, seed, data_dir)
    if one_process:
        _run(plan, VENUES)
        return
    child = multiprocessing.get_context("spawn").Process(
        target=_run, args=(plan, ("polymarket",), os.getpid()), daemon=True
    )
    child.start()
    try:
        _run(plan, ("kalshi",))
    finally:
        child.terminate()
        child.join(timeout=10)


def _run(plan: Plan, venues: tuple[str, ...], parent: int | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(plan, venues, parent))


async def _orphaned(parent: int, stop: asyncio.Event) -> None:
    """Stop a child venue whose parent died (SIGKILL skips the parent's cleanup): never leave one running."""
    while True:
        await asyncio.sleep(0.5)
        if os.getppid() != parent:
            stop.set()
            return


async def _serve(plan: Plan, venues: tuple[str, ...], parent: int | None) -> None:
    async with run_sandboxes(
        plan.host,
        plan.kalshi_port,
        plan.polymarket_port,
        scenario=plan.scenario,
        replay=plan.replay,
        seed=plan.seed,
        rate=plan.rate,
        speed=plan.speed,
        data_dir=plan.data_dir,
        venues=venues,
    ) as handles:
        if handles.kalshi is not None:
            typer.echo(f"kalshi      {handles.kalshi.api_url}   ws {handles.kalshi.ws_url}   admin /_sandbox/")
        if handles.polymarket_urls is not None:
            urls = handles.polymarket_urls
            typer.echo(f"polymarket  {urls.clob}   ws {urls.ws_market}   gamma {urls.gamma}   admin /_sandbox/")
        if isinstance(handles.scenario, TwinMarkets) and handles.kalshi is not None:
            for spec in handles.scenario.specs:
                typer.echo(
                    f"twin {spec.key}: kalshi {spec.kalshi_ticker} = polymarket {spec.condition_id} "
                    f"(YES {spec.yes_token}, NO {spec.no_token})"
                )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # Installed after the servers started, so these replace uvicorn's per-server handlers.
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        watchdog = asyncio.create_task(_orphaned(parent, stop)) if parent is not None else None
        await stop.wait()
        if watchdog is not None:
            watchdog.cancel()
