"""`inertial doctor`: check every dependency and say exactly what is wrong and how to fix it."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from control.config import ConfigError, Settings, load_settings
from control.services import ServiceError, describe_database, open_database, open_redis
from storage.migrate import current_revision, head_revision
from temporal.client import connect
from temporal.devserver import DevServerError, find_binary, port_in_use


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


async def _python() -> Check:
    ok = sys.version_info >= (3, 11)
    return Check("python", ok, sys.version.split()[0] + ("" if ok else ": Python 3.11 or newer is required"))


async def _data_dir(settings: Settings) -> Check:
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        ok = os.access(path, os.W_OK)
    except OSError as exc:
        return Check("data directory", False, f"{path}: {exc.strerror} (set INERTIAL_DATA_DIR)")
    return Check("data directory", ok, str(path) + ("" if ok else ": not writable (set INERTIAL_DATA_DIR)"))


async def _temporal(settings: Settings) -> Check:
    cfg = settings.temporal
    if cfg.address is not None:
        try:
            client = await connect(cfg.address, cfg.namespace)
            await client.service_client.check_health()
        except Exception as exc:
            return Check("temporal", False, f"{cfg.address} unreachable: {exc} (check INERTIAL_TEMPORAL__ADDRESS)")
        return Check("temporal", True, f"external cluster at {cfg.address}, namespace {cfg.namespace}")
    try:
        binary = find_binary()
    except DevServerError as exc:
        return Check("temporal", False, str(exc))
    busy = [p for p in (cfg.dev_server_port, cfg.ui_port) if port_in_use("127.0.0.1", p)]
    if busy:
        return Check(
            "temporal",
            False,
            f"embedded dev server ports {busy} already in use (another `inertial up`? "
            "set INERTIAL_TEMPORAL__ADDRESS to use that server, or change the ports)",
        )
    return Check("temporal", True, f"embedded dev server {binary} (ports {cfg.dev_server_port}/{cfg.ui_port} free)")


async def _database(settings: Settings) -> Check:
    where = describe_database(settings.effective_database_url)
    try:
        engine = await open_database(settings, run_migrations=False)
    except ServiceError as exc:
        return Check("database", False, str(exc))
    try:
        revision = await current_revision(engine)
    finally:
        await engine.dispose()
    head = head_revision()
    if revision != head:
        return Check("database", False, f"{where} at revision {revision}, code expects {head}: run `inertial migrate`")
    return Check("database", True, f"{where} at revision {revision}")


async def _redis(settings: Settings) -> Check:
    try:
        bus = await open_redis(settings)
    except ServiceError as exc:
        return Check("redis", False, str(exc))
    if bus is None:
        return Check("redis", True, "off (single process; set INERTIAL_REDIS_URL for multi-process deployments)")
    await bus.close()
    return Check("redis", True, "reachable")


async def _live_credentials(settings: Settings) -> Check:
    if settings.dry_run:
        return Check("trading mode", True, "paper (DRY_RUN=1): orders go to the sandbox venues only")
    missing = []
    if settings.polymarket.private_key is None:
        missing.append("INERTIAL_POLYMARKET__PRIVATE_KEY")
    if settings.kalshi.key_id is None:
        missing.append("INERTIAL_KALSHI__KEY_ID")
    if settings.kalshi.private_key is None and settings.kalshi.private_key_path is None:
        missing.append("INERTIAL_KALSHI__PRIVATE_KEY_PATH")
    if missing:
        return Check("trading mode", False, "LIVE but credentials missing: " + ", ".join(missing))
    return Check("trading mode", True, f"LIVE on Kalshi {settings.kalshi.environment}")


async def run_checks() -> list[Check]:
    checks = [await _python()]
    try:
        settings = load_settings()
    except ConfigError as exc:
        return [*checks, Check("config", False, str(exc))]
    checks.append(Check("config", True, "valid"))
    steps: list[Callable[[Settings], Awaitable[Check]]] = [_data_dir, _database, _redis, _temporal, _live_credentials]
    for step in steps:
        checks.append(await step(settings))
    return checks
