"""What every `inertial` command shares: the consoles, the one-line error, settings and running a coroutine.

Exit codes are the same in every command group: 2 for a configuration problem (or bad usage,
which typer reports itself), 1 for anything else the user can fix; a traceback means a bug.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from control.app.errors import OperationError
from control.config import ConfigError, Settings, load_settings
from control.services import ServiceError

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
    except (OperationError, ServiceError) as exc:
        fail(str(exc))


def actor_name(actor: str | None) -> str:
    """Who is acting, for the audit log: as given, else `cli:<login name>`."""
    if actor:
        return actor
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (e.g. a container without a passwd entry)
        return "cli:unknown"
