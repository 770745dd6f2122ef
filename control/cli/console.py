"""What every `inertial` command shares: the consoles, the one-line error, settings and running a coroutine.

Exit codes are the same in every command group: 2 for a configuration problem (or bad usage,
which typer reports itself), 1 for anything else the user can fix; a traceback means a bug.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine

from control.app.access import Access, Caller, Interface, Role
from control.app.connect import operator_client
from control.app.errors import OperationError
from control.app.operations import Operations
from control.config import ConfigError, Settings, load_settings
from control.services import ServiceError, open_database, payload_codec
from security.envelope import VaultError

T = TypeVar("T")

CONFIG_EXIT = 2
USER_EXIT = 1

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = USER_EXIT) -> NoReturn:
    err_console.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def settings() -> Settings:
    """The effective settings, with logging configured from them; a bad configuration ends the command."""
    try:
        loaded = load_settings()
    except ConfigError as exc:
        fail(f"config error: {exc}", CONFIG_EXIT)
    logging.basicConfig(level=loaded.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("alembic", "temporalio.worker", "httpx"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
    return loaded


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one command's work; a refused operation or a service that cannot be reached is one line, exit 1."""
    try:
        return asyncio.run(coro)
    except (OperationError, ServiceError, VaultError) as exc:
        fail(str(exc))


def cli_caller(tenant: str, actor: str | None = None) -> Caller:
    """The person at this machine's shell, as an owner of `tenant` (whoever runs the CLI can already read
    the database); audited as `cli:<actor>`, by default their login name."""
    if not actor:
        try:
            actor = getpass.getuser()
        except (KeyError, OSError):  # no login name (e.g. a container without a passwd entry)
            actor = "unknown"
    return Caller(tenant_id=tenant, user_id=actor, role=Role.OWNER, interface=Interface.CLI)


def operate(
    tenant: str, action: Callable[[Operations, Caller], Awaitable[T]], timeout: float = 30.0, actor: str | None = None
) -> T:
    """Run one operation of the application layer, exactly as REST and Telegram do (role check, audit)."""
    loaded = settings()

    async def go() -> T:
        engine = await open_database(loaded)
        try:
            client = await operator_client(loaded, await payload_codec(loaded, engine))
            ops = Operations(
                client, engine, loaded.temporal.task_queue, paper=loaded.dry_run, timeout=timedelta(seconds=timeout)
            )
            return await action(ops, cli_caller(tenant, actor))
        finally:
            await engine.dispose()

    return run(go())


def with_database(action: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run `action` on the configured database (migrated, with the embedded default tenant), no Temporal."""
    loaded = settings()

    async def go() -> T:
        engine = await open_database(loaded)
        try:
            await Access(engine).ensure_default()
            return await action(engine)
        finally:
            await engine.dispose()

    return run(go())
