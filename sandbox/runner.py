"""Run the sandbox venues: in-process for tests (async context managers) or as the `inertial sandbox` process.

`kalshi_sandbox` yields a ready `KalshiVenue` with its URLs; `run_sandboxes`
starts both venues (Polymarket through `sandbox.polymarket.app.serve`), an
optional scenario or replay, and yields a `Sandboxes` handle. `sandbox_process`
runs `inertial sandbox` as a child process (for benchmarks and for chaos tests
that kill a venue outright) and yields its base URLs once both answer.

On exit every fault is cleared first, so requests a test left stalled (hang,
order timeout) are answered and the server can stop without waiting for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from sandbox import replay as replayer
from sandbox import scenarios
from sandbox.handles import KalshiHandle, Sandboxes
from sandbox.kalshi import KalshiVenue, build_app
from sandbox.kalshi.app import API
from sandbox.polymarket.app import serve as serve_polymarket
from sandbox.polymarket.state import PolymarketState
from sandbox.serving import serve_app

VENUES = ("kalshi", "polymarket")


@contextlib.asynccontextmanager
async def kalshi_sandbox(
    venue: KalshiVenue | None = None, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[KalshiHandle]:
    venue = venue or KalshiVenue()
    async with serve_app(build_app(venue), host, port) as url:
        try:
            yield KalshiHandle(venue, url)
        finally:
            venue.faults.clear()
            await venue.stream.close_all()


@contextlib.asynccontextmanager
async def run_sandboxes(
    host: str = "127.0.0.1",
    kalshi_port: int = 0,
    polymarket_port: int = 0,
    *,
    scenario: str | None = None,
    replay: Path | None = None,
    seed: int = 0,
    rate: float | None = None,
    speed: float = 1.0,
    data_dir: Path | None = None,
    venues: tuple[str, ...] = VENUES,
) -> AsyncIterator[Sandboxes]:
    """The `venues` (both by default), optionally driven by a scenario or a replay, stopped on exit.

    A sandbox split over processes runs one venue in each with the same scenario and
    seed: scenarios act only on local venues but draw as if they drove both.
    """
    unknown = set(venues) - set(VENUES)
    if unknown:
        raise ValueError(f"unknown venues {sorted(unknown)}")
    async with contextlib.AsyncExitStack() as stack:
        handles = Sandboxes(None, data_dir=data_dir)
        if "kalshi" in venues:
            handles.kalshi = await stack.enter_async_context(kalshi_sandbox(host=host, port=kalshi_port))
        if "polymarket" in venues:
            handles.polymarket = PolymarketState()
            handles.polymarket_urls = await stack.enter_async_context(
                serve_polymarket(handles.polymarket, host, polymarket_port)
            )
        if scenario is not None:
            handles.scenario = scenarios.start(scenario, handles, seed=seed)
            handles.tasks.append(asyncio.create_task(handles.scenario.run(rate or scenarios.DEFAULT_RATE)))
        if replay is not None:
            handles.tasks.append(asyncio.create_task(replayer.replay_file(replay, handles, speed=speed)))
        try:
            yield handles
        finally:
            for task in handles.tasks:
                task.cancel()
            for task in handles.tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task


@dataclass(frozen=True)
class SandboxProcess:
    """A running `inertial sandbox` child: its base URLs and the process (kill it to crash the venues)."""

    kalshi_url: str
    polymarket_url: str
    process: asyncio.subprocess.Process


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now (the child binds it a moment later; fine on a loopback test machine)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def sandbox_process(*args: str, host: str = "127.0.0.1", ready_s: float = 30.0) -> AsyncIterator[SandboxProcess]:
    """`inertial sandbox <args>` on free ports; terminated (SIGTERM, then SIGKILL) on exit."""
    kalshi_port, polymarket_port = free_port(host), free_port(host)
    command = [
        sys.executable,
        "-c",
        "from control.cli.sandbox import app; app()",
        "--host",
        host,
        "--kalshi-port",
        str(kalshi_port),
        "--polymarket-port",
        str(polymarket_port),
        *args,
    ]
    root = Path(__file__).resolve().parents[1]
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=root,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    handle = SandboxProcess(f"http://{host}:{kalshi_port}", f"http://{host}:{polymarket_port}", process)
    try:
        await _wait_ready([f"{handle.kalshi_url}{API}/exchange/status", f"{handle.polymarket_url}/"], ready_s, process)
        yield handle
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=15)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _wait_ready(urls: list[str], ready_s: float, process: asyncio.subprocess.Process) -> None:
    deadline = asyncio.get_running_loop().time() + ready_s
    async with httpx.AsyncClient(timeout=1.0) as client:
        for url in urls:
            while True:
                if process.returncode is not None:
                    raise RuntimeError(f"sandbox process exited with {process.returncode} before serving {url}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code == 200:
                        break
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"sandbox process did not serve {url} within {ready_s} s")
                await asyncio.sleep(0.1)
