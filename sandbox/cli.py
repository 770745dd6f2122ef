"""`inertial sandbox`: both sandbox venues on fixed local ports, optionally with a scenario or a replay.

Mount with `app.add_typer(sandbox.cli.app, name="sandbox")`: the callback is the
command itself, so `inertial sandbox --scenario twin` runs it. Stops on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

import typer

from sandbox.runner import run_sandboxes
from sandbox.scenarios import SCENARIOS

app = typer.Typer(help="Local Polymarket and Kalshi venues that behave like the real ones on the wire.")


@app.callback(invoke_without_command=True)
def sandbox(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (keep it on loopback)."),
    polymarket_port: int = typer.Option(8801, help="Polymarket CLOB, WebSockets, Gamma, Data API and admin."),
    kalshi_port: int = typer.Option(8802, help="Kalshi trade API v2, WebSocket v2 and admin."),
    scenario: str | None = typer.Option(None, help=f"Named scenario: {', '.join(sorted(SCENARIOS))}."),
    replay: Path | None = typer.Option(None, exists=True, dir_okay=False, help="Recorded stream to replay."),
    speed: float = typer.Option(1.0, min=0, help="Replay speed multiple (0 = as fast as possible)."),
    rate: float = typer.Option(200.0, min=1, help="Scenario book updates per second."),
    seed: int = typer.Option(0, help="Scenario random seed (same seed, same books)."),
    data_dir: Path | None = typer.Option(None, help="Recorded data for the `recorded` scenario."),
) -> None:
    if scenario is not None and scenario not in SCENARIOS:
        raise typer.BadParameter(f"unknown scenario {scenario!r}; known: {', '.join(sorted(SCENARIOS))}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(host, polymarket_port, kalshi_port, scenario, replay, speed, rate, seed, data_dir))


async def _serve(
    host: str,
    polymarket_port: int,
    kalshi_port: int,
    scenario: str | None,
    replay: Path | None,
    speed: float,
    rate: float,
    seed: int,
    data_dir: Path | None,
) -> None:
    async with run_sandboxes(
        host,
        kalshi_port,
        polymarket_port,
        scenario=scenario,
        replay=replay,
        seed=seed,
        rate=rate,
        speed=speed,
        data_dir=data_dir,
    ) as handles:
        typer.echo(f"kalshi      {handles.kalshi.api_url}   ws {handles.kalshi.ws_url}")
        if handles.polymarket_urls is not None:
            urls = handles.polymarket_urls
            typer.echo(f"polymarket  {urls.clob}   ws {urls.ws_market}   gamma {urls.gamma}")
        typer.echo("admin API under /_sandbox/ on both ports (see sandbox/README.md); Ctrl-C stops")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # Installed after the servers started, so these replace uvicorn's per-server handlers.
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
