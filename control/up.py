"""`inertial up`, the main job: bring every service up, start the worker, prove health, run until Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import uuid
from datetime import timedelta

from rich.console import Console
from rich.table import Table

from activities.health import DatabaseHealth
from control.config import Settings
from control.services import Services, describe_database, services
from workers.worker import build_worker
from workflows.health import HealthCheckWorkflow


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


async def run_up(settings: Settings, console: Console, *, once: bool = False) -> None:
    stop = _stop_event()
    mode = "PAPER (dry run: no real venue is ever called)" if settings.dry_run else "LIVE"
    console.print(f"[bold]InertialEvent[/] starting in [bold]{mode}[/] mode; data in {settings.data_dir}")
    async with services(settings) as svc:
        worker = build_worker(svc.client, settings.temporal.task_queue, svc.engine)
        async with worker:
            health = await probe_health(svc, settings.temporal.task_queue)
            table = Table(title="health", show_header=False)
            table.add_row(
                "Temporal", svc.temporal_address + (f"  (web UI {svc.temporal_ui})" if svc.temporal_ui else "")
            )
            table.add_row(
                "database", f"{describe_database(settings.effective_database_url)}  revision {health.revision}"
            )
            table.add_row("Redis", "on" if svc.redis else "off (embedded default)")
            table.add_row("worker", f"task queue {settings.temporal.task_queue}: healthy")
            console.print(table)
            if not once:
                console.print("running; Ctrl-C to stop")
                await stop.wait()
            console.print("stopping…")
    console.print("stopped cleanly")


async def run_worker(settings: Settings, console: Console) -> None:
    """A worker process only (no streamers): takes over sagas if the hot process dies."""
    stop = _stop_event()
    async with services(settings) as svc, build_worker(svc.client, settings.temporal.task_queue, svc.engine):
        console.print(f"worker on {svc.temporal_address}, task queue {settings.temporal.task_queue}")
        await stop.wait()
