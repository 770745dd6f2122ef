"""`inertial up`, the main job: services, venues (the sandboxes in paper mode), streamers, detector, worker.

Paper mode (`DRY_RUN=1`, the default) starts both sandbox venues in this process with
the twin-market scenario and trades them with freshly provisioned paper accounts; it
never calls a real venue. Live mode trades the configured venues with the configured
credentials. Either way the health of the whole path is proven first (a workflow that
round-trips through Temporal, the worker and the database), then the live view runs
until Ctrl-C, `--duration` or `--until-sagas`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import uuid
from datetime import timedelta

from rich.console import Console
from rich.live import Live
from rich.table import Table

from activities.health import DatabaseHealth
from activities.send_ahead import SendAhead
from control.api.serve import ApiPortTaken, serving_api
from control.api.stream import BookTop
from control.app.access import DEFAULT_OWNER, Access
from control.app.risk import running_risk
from control.config import Settings
from control.copying import CopyStack, copy_stack
from control.dashboard import render, saga_summary, status_line
from control.heap import settle_heap
from control.paper import point_at_sandboxes, provision
from control.sandbox_leader import SandboxLeader, follow_sandbox_leader
from control.services import ServiceError, Services, describe_database, services, with_vault_credentials
from control.telegram.serve import TelegramPortTaken, serving_bot
from control.trading import (
    TradingStack,
    rest_books,
    trading_accounts,
    trading_stack,
    trading_worker,
    venue_clients,
)
from risk.gate import RiskGates
from sandbox.runner import run_sandboxes
from streamers.admission import HotAdmission, TenantAdmissions
from workers.worker import build_worker
from workflows.health import HealthCheckWorkflow

PAPER_SCENARIO = "twin"
TENANT = "default"
PAPER_RATE = 500.0


async def probe_health(svc: Services, task_queue: str) -> DatabaseHealth:
    """Round trip client -> Temporal -> worker -> activity -> database."""
    return await svc.client.execute_workflow(
        HealthCheckWorkflow.run,
        id=f"health-{uuid.uuid4()}",
        task_queue=task_queue,
        execution_timeout=timedelta(seconds=30),
    )


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _health_table(
    settings: Settings, svc: Services, health: DatabaseHealth, venues: str, copying: str, api: str, telegram: str
) -> Table:
    table = Table(title="health", show_header=False)
    table.add_row("Temporal", svc.temporal_address + (f"  (web UI {svc.temporal_ui})" if svc.temporal_ui else ""))
    table.add_row("database", f"{describe_database(settings.effective_database_url)}  revision {health.revision}")
    table.add_row("Redis", "on" if svc.redis else "off (embedded default)")
    table.add_row("worker", f"task queue {settings.temporal.task_queue}: healthy")
    table.add_row("venues", venues)
    table.add_row("copy trading", copying)
    table.add_row("REST API", api)
    table.add_row("Telegram", telegram)
    return table


async def _serve_api(
    settings: Settings, svc: Services, stack: contextlib.AsyncExitStack, trading: TradingStack | None
) -> tuple[str, str | None]:
    """The health table's line and the API's URL. A port in use leaves trading running and says which
    setting to change; the stream carries the books the streamers keep."""
    if not settings.api.enabled:
        return "off", None
    book_tops = None
    if trading is not None:
        books = trading

        async def tops() -> list[BookTop]:
            return [BookTop.of(book) for book in books.book_snapshots()]

        book_tops = tops
    try:
        url = await stack.enter_async_context(serving_api(settings, svc, book_tops))
    except ApiPortTaken as exc:
        return f"not served: {exc}", None
    return f"{url}/v1 (docs {url}/docs, dashboard {url}/ui); a key: `inertial keys create {DEFAULT_OWNER}`", url


async def _serve_telegram(settings: Settings, svc: Services, stack: contextlib.AsyncExitStack) -> str:
    """Like the API: a port in use leaves trading running and says which setting to change."""
    if not settings.telegram.enabled:
        return "off"
    try:
        where = await stack.enter_async_context(serving_bot(settings, svc))
    except TelegramPortTaken as exc:
        return f"not started: {exc}"
    return f"{where}; link: `inertial users link {DEFAULT_OWNER}`, then /start <code>"


async def _start_copying(
    settings: Settings, svc: Services, trading: TradingStack, stack: contextlib.AsyncExitStack
) -> str:
    """In paper mode with nothing configured, a sandbox leader trades both venues and is followed."""
    if not (settings.dry_run and settings.copytrade.sandbox_leader and trading.pairs):
        return "on (leaders from `inertial copy follow`)"
    await follow_sandbox_leader(svc.client, settings.temporal.task_queue)
    leader = SandboxLeader(
        trading.pairs,
        rest_books(trading.polymarket, trading.kalshi),
        clob_url=settings.polymarket.clob_url,
        kalshi_base_url=settings.kalshi.hosts()[0].removesuffix("/trade-api/v2"),
        interval_s=settings.copytrade.sandbox_leader_interval_s,
    )
    task = asyncio.create_task(leader.run(), name="sandbox-leader")

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop)
    return "on; a sandbox leader trades both venues, followed with default rules"


async def _watch(
    trading: TradingStack,
    copying: CopyStack | None,
    svc: Services,
    console: Console,
    stop: asyncio.Event,
    duration: float | None,
    until_sagas: int | None,
    links: str,
) -> None:
    loop = asyncio.get_running_loop()
    deadline = None if duration is None else loop.time() + duration

    def done(finished: int) -> bool:
        if stop.is_set() or (deadline is not None and loop.time() >= deadline):
            return True
        return until_sagas is not None and finished >= until_sagas

    summary = await saga_summary(svc.engine)
    if console.is_terminal:
        with Live(render(trading, summary, copying, links), console=console, refresh_per_second=2) as live:
            while not done(summary.finished):
                await asyncio.sleep(0.5)
                summary = await saga_summary(svc.engine)
                live.update(render(trading, summary, copying, links))
        return
    ticks = 0
    while not done(summary.finished):
        await asyncio.sleep(0.5)
        summary = await saga_summary(svc.engine)
        ticks += 1
        if ticks % 10 == 0:
            console.print(status_line(trading, summary, copying), highlight=False)
    console.print(status_line(trading, summary, copying), highlight=False)


async def run_up(
    settings: Settings,
    console: Console,
    *,
    once: bool = False,
    duration: float | None = None,
    until_sagas: int | None = None,
) -> None:
    stop = _stop_event()
    mode = "PAPER (dry run: no real venue is ever called)" if settings.dry_run else "LIVE"
    console.print(f"[bold]InertialEvent[/] starting in [bold]{mode}[/] mode; data in {settings.data_dir}")
    async with contextlib.AsyncExitStack() as stack:
        venues = "not started (--once)"
        if settings.dry_run and not once:
            sandboxes = await stack.enter_async_context(run_sandboxes(scenario=PAPER_SCENARIO, rate=PAPER_RATE))
            settings = await provision(point_at_sandboxes(settings, sandboxes))
            venues = f"sandboxes: Polymarket {settings.polymarket.clob_url}, Kalshi {settings.kalshi.hosts()[0]}"
        elif not once:
            venues = f"Polymarket {settings.polymarket.clob_url}, Kalshi {settings.kalshi.hosts()[0]}"
        svc = await stack.enter_async_context(services(settings))
        settings = await with_vault_credentials(settings, svc.vault)
        await Access(svc.engine).ensure_default()  # the embedded default: one tenant and its owner
        queue = settings.temporal.task_queue
        trading = None
        copying = None
        copy_line = "off"
        if once:
            await stack.enter_async_context(build_worker(svc.client, queue, svc.engine))
        else:
            polymarket, kalshi = await stack.enter_async_context(venue_clients(settings))
            gate = await stack.enter_async_context(running_risk(svc.client, svc.engine, TENANT, queue))
            gates = RiskGates([gate])
            send_ahead = SendAhead(trading_accounts(polymarket, kalshi), gates.allows_new_exposure)
            await stack.enter_async_context(
                trading_worker(svc.client, queue, svc.engine, polymarket, kalshi, gates, send_ahead)
            )
            admission = await stack.enter_async_context(HotAdmission(svc.client, gate).running())
            trading = await stack.enter_async_context(
                trading_stack(
                    settings,
                    svc.client,
                    svc.engine,
                    polymarket,
                    kalshi,
                    admissions=TenantAdmissions([admission]),
                    send_ahead=send_ahead,
                    redis=svc.redis,
                )
            )
            if settings.copytrade.enabled:
                copy_line = await _start_copying(settings, svc, trading, stack)
                copying = await stack.enter_async_context(copy_stack(settings, svc.client, svc.engine, polymarket))
        api_line, api_url = (
            await _serve_api(settings, svc, stack, trading) if not once else ("not started (--once)", None)
        )
        telegram_line = await _serve_telegram(settings, svc, stack) if not once else "not started (--once)"
        health = await probe_health(svc, settings.temporal.task_queue)
        settle_heap()
        console.print(_health_table(settings, svc, health, venues, copy_line, api_line, telegram_line))
        if trading is not None:
            console.print(f"trading {len(trading.pairs)} confirmed pairs; Ctrl-C to stop")
            links = f"[bold]dashboard[/] {api_url}/ui" if api_url else "[bold]dashboard[/] off"
            links += f"   [bold]Temporal UI[/] {svc.temporal_ui or settings.temporal.address}"
            await _watch(trading, copying, svc, console, stop, duration, until_sagas, links)
        console.print("stopping…")
    console.print("stopped cleanly")


async def run_worker(settings: Settings, console: Console) -> None:
    """A worker process only (no streamers): with its own venue clients and risk gate it continues any
    saga, hedge or compensation if the hot process dies."""
    stop = _stop_event()
    queue = settings.temporal.task_queue
    async with contextlib.AsyncExitStack() as stack:
        svc = await stack.enter_async_context(services(settings))
        settings = await with_vault_credentials(settings, svc.vault)
        polymarket, kalshi = await stack.enter_async_context(venue_clients(settings))
        gate = await stack.enter_async_context(running_risk(svc.client, svc.engine, TENANT, queue))
        gates = RiskGates([gate])
        await stack.enter_async_context(trading_worker(svc.client, queue, svc.engine, polymarket, kalshi, gates))
        settle_heap()
        console.print(f"worker on {svc.temporal_address}, task queue {queue}")
        await stop.wait()


async def run_api(settings: Settings, console: Console) -> None:
    """The API alone, for a deployment where it runs apart from the hot process and the workers."""
    stop = _stop_event()
    async with contextlib.AsyncExitStack() as stack:
        svc = await stack.enter_async_context(services(settings))
        await Access(svc.engine).ensure_default()
        try:
            url = await stack.enter_async_context(serving_api(settings, svc))
        except ApiPortTaken as exc:
            raise ServiceError(str(exc)) from None
        console.print(f"REST API on {url}/v1 (docs {url}/docs); Ctrl-C to stop")
        await stop.wait()
