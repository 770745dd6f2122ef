"""Bring up what every process needs — Temporal, the database, Redis — and take it down in reverse order.

Each failure is turned into a `ServiceError` with one line saying what failed,
where, and how to fix it, so the CLI never shows a traceback for a user error.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.converter import PayloadCodec

from control.app.operations import Operations
from control.config import Settings
from domain.accounts import DEFAULT_ACCOUNT, DEFAULT_TENANT
from security.codec import NAMESPACE_OWNER, codec_keys
from security.credentials import Purpose
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
    vault: Vault
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


async def open_vault(settings: Settings, engine: AsyncEngine) -> Vault:
    """The unlocked vault. On the embedded default (a key-file master) the first run creates it; a
    passphrase vault must have been made by `inertial vault init`."""
    source = settings.vault.source(settings.data_dir)
    try:
        return await Vault.unlock(engine, source)
    except VaultNotInitialised:
        if settings.vault.master != "keyfile":
            raise
        await initialise(engine, source)
        return await Vault.unlock(engine, source)


async def payload_codec(settings: Settings, engine: AsyncEngine, vault: Vault | None = None) -> PayloadCodec | None:
    """The namespace's codec from the vault, or None when payload encryption is turned off."""
    if not settings.vault.encrypt_payloads:
        return None
    try:
        return await codec_keys(vault or await open_vault(settings, engine), NAMESPACE_OWNER, create=True)
    except VaultError as exc:
        raise ServiceError(f"vault: {exc}") from None


async def with_vault_credentials(settings: Settings, vault: Vault) -> Settings:
    """Live trading signs with the default account's credentials from the vault. A credential both in
    the vault and in the configuration is refused (which one would sign?); paper mode never reads them."""
    if settings.dry_run:
        return settings
    tenant, account = DEFAULT_TENANT, DEFAULT_ACCOUNT
    held = {v.purpose for v in await vault.listing(tenant) if v.account == account}
    poly, kalshi = settings.polymarket, settings.kalshi

    def clash(name: str, configured: object) -> None:
        if configured is not None:
            raise ServiceError(f"{name} is both in the vault and in the configuration: remove one")

    if Purpose.POLYMARKET_PRIVATE_KEY in held:
        clash("the Polymarket private key", poly.private_key)
        key = await vault.open(tenant, account, Purpose.POLYMARKET_PRIVATE_KEY)
        poly = poly.model_copy(update={"private_key": SecretStr(key.get_secret_value().decode())})
    if Purpose.POLYMARKET_CLOB_API in held:
        clash("the Polymarket CLOB API key", poly.api_secret)
        api = json.loads((await vault.open(tenant, account, Purpose.POLYMARKET_CLOB_API)).get_secret_value())
        poly = poly.model_copy(
            update={
                "api_key": api["key"],
                "api_secret": SecretStr(api["secret"]),
                "api_passphrase": SecretStr(api["passphrase"]),
            }
        )
    if Purpose.KALSHI_API in held:
        clash("the Kalshi API key", kalshi.private_key or kalshi.private_key_path)
        api = json.loads((await vault.open(tenant, account, Purpose.KALSHI_API)).get_secret_value())
        kalshi = kalshi.model_copy(update={"key_id": api["key_id"], "private_key": SecretStr(api["private_key"])})
    return settings.model_copy(update={"polymarket": poly, "kalshi": kalshi})


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
        try:
            vault = await open_vault(settings, engine)
        except VaultError as exc:
            raise ServiceError(f"vault: {exc}") from None
        codec = await payload_codec(settings, engine, vault)
        redis = await open_redis(settings)
        try:
            async with temporal_client(settings, codec) as (client, address, ui):
                yield Services(client, engine, redis, address, ui, vault, codec)
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
