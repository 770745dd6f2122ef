"""Bring up what every process needs — Temporal, the database, Redis — and take it down in reverse order.

Each failure is turned into a `ServiceError` with one line saying what failed,
where, and how to fix it, so the CLI never shows a traceback for a user error.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.converter import PayloadCodec

from control.app.operations import Operations
from control.config import Settings
from security.codec import NAMESPACE_OWNER, codec_keys
from security.envelope import VaultError
from security.vault import Vault, VaultNotInitialised, initialise
from storage import migrate
from storage.database import create_engine
from storage.redis_bus import RedisBus
from temporal.client import connect
from temporal.devserver import DevServerError, run_dev_server
from temporal.search_attributes import ensure_registered

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """A dependency is missing or unreachable; the message is meant for the user."""


@dataclass
class Services:
    client: Client
    engine: AsyncEngine
    redis: RedisBus | None
    temporal_address: str
    temporal_ui: str | None
    codec: PayloadCodec | None = None  # sealing every payload (security/codec.py); None when turned off

    def operations(self, settings: Settings) -> Operations:
        """The application layer every front end of this process calls."""
        return Operations(
            self.client, self.engine, settings.temporal.task_queue, paper=settings.dry_run, temporal_ui=self.temporal_ui
        )


def describe_database(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def open_database(settings: Settings, *, run_migrations: bool = True) -> AsyncEngine:
    url = settings.effective_database_url
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        if run_migrations:
            await migrate.upgrade(engine)
    except Exception as exc:
        await engine.dispose()
        raise ServiceError(
            f"cannot use database {describe_database(url)}: {_reason(exc)} "
            "(check INERTIAL_DATABASE_URL and that the server is running)"
        ) from None
    return engine


async def open_redis(settings: Settings) -> RedisBus | None:
    if settings.redis_url is None:
        return None
    bus = RedisBus(settings.redis_url.get_secret_value())
    try:
        await bus.ping()
    except Exception as exc:
        await bus.close()
        raise ServiceError(f"cannot reach Redis at INERTIAL_REDIS_URL: {_reason(exc)}") from None
    return bus


async def payload_codec(settings: Settings, engine: AsyncEngine) -> PayloadCodec | None:
    """The namespace's codec from the vault. On the embedded default (a key-file master) the first run
    creates the vault and its codec key; a passphrase or HSM vault must have been made by `vault init`."""
    cfg = settings.vault
    if not cfg.encrypt_payloads:
        return None
    try:
        source = cfg.source(settings.data_dir)
        try:
            vault = await Vault.unlock(engine, source)
        except VaultNotInitialised:
            if cfg.master != "keyfile":
                raise
            await initialise(engine, source)
            vault = await Vault.unlock(engine, source)
        return await codec_keys(vault, NAMESPACE_OWNER, create=True)
    except VaultError as exc:
        raise ServiceError(f"vault: {exc}") from None


@contextlib.asynccontextmanager
async def temporal_client(
    settings: Settings, codec: PayloadCodec | None = None
) -> AsyncIterator[tuple[Client, str, str | None]]:
    """A configured address is used as is; otherwise the embedded dev server is started and owned."""
    cfg = settings.temporal
    if cfg.address is not None:
        try:
            client = await connect(cfg.address, cfg.namespace, codec)
            await ensure_registered(client, cfg.namespace)
        except Exception as exc:
            raise ServiceError(
                f"cannot reach Temporal at INERTIAL_TEMPORAL__ADDRESS={cfg.address}: {_reason(exc)}"
            ) from None
        yield client, cfg.address, None
        return
    try:
        async with run_dev_server(
            settings.data_dir, port=cfg.dev_server_port, ui_port=cfg.ui_port, namespace=cfg.namespace
        ) as server:
            client = await connect(server.address, cfg.namespace, codec)
            yield client, server.address, server.ui_url
    except DevServerError as exc:
        raise ServiceError(str(exc)) from None


@contextlib.asynccontextmanager
async def services(settings: Settings) -> AsyncIterator[Services]:
    engine = await open_database(settings)
    try:
        codec = await payload_codec(settings, engine)
        redis = await open_redis(settings)
        try:
            async with temporal_client(settings, codec) as (client, address, ui):
                yield Services(client, engine, redis, temporal_address=address, temporal_ui=ui, codec=codec)
        finally:
            if redis is not None:
                await redis.close()
    finally:
        await engine.dispose()


def _reason(exc: BaseException) -> str:
    """The innermost useful message: drivers wrap the OS error several times."""
    while exc.__cause__ is not None or getattr(exc, "orig", None) is not None:
        exc = getattr(exc, "orig", None) or exc.__cause__  # type: ignore[assignment]
    text_ = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text_
