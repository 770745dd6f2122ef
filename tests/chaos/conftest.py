"""Chaos fixtures: both sandbox venues, our funded paper accounts, saga worker processes; and the summary table.

Randomness is seeded (`INERTIAL_CHAOS_SEED`, default below), so a run's fault choices
and timings are reproducible up to scheduling.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from random import Random

import httpx
import pytest
from _pytest.terminal import TerminalReporter
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from sandbox.handles import Sandboxes
from sandbox.runner import run_sandboxes
from storage import migrate
from storage.database import create_engine
from tests.chaos.config import WorkerConfig
from tests.chaos.rig import KALSHI_ACCOUNT, LEDGER, Accounts, ChaosVenues, WorkerPool
from venues.polymarket.client import PolymarketClient
from venues.polymarket.eip712 import Wallet

SEED = int(os.environ.get("INERTIAL_CHAOS_SEED", "20261125"))
POLY_USDC_MICRO = 10_000_000 * 1_000_000
KALSHI_CENTS = 1_000_000_000
KILLS_WARM = 5  # a worker takes seconds to import and connect on a busy machine; standbys take over at once


@dataclass
class ChaosEnv:
    client: Client
    venues: ChaosVenues
    worker_config: WorkerConfig
    workdir: Path

    def rng(self, phase: str) -> Random:
        return Random(f"{SEED}:{phase}")

    def pool_config(self, queue: str, database_url: str) -> WorkerConfig:
        return self.worker_config.model_copy(update={"task_queue": queue, "database_url": database_url})


@dataclass
class Pool:
    workers: WorkerPool
    engine: AsyncEngine
    queue: str


@pytest.fixture(scope="module")
async def chaos_sandboxes() -> AsyncIterator[Sandboxes]:
    async with run_sandboxes() as handles:
        yield handles


@pytest.fixture(scope="module")
async def chaos(
    dev_server_env: WorkflowEnvironment, chaos_sandboxes: Sandboxes, tmp_path_factory: pytest.TempPathFactory
) -> ChaosEnv:
    """Our accounts, opened as a trader opens them: a Polymarket wallet with L1-derived API creds, a Kalshi RSA key."""
    assert chaos_sandboxes.polymarket_urls is not None and chaos_sandboxes.kalshi is not None
    clob = chaos_sandboxes.polymarket_urls.clob
    kalshi = chaos_sandboxes.kalshi
    poly_key = "0x" + Random(SEED).randbytes(32).hex()
    async with PolymarketClient(clob, wallet=Wallet(poly_key)) as poly:
        creds = await poly.create_or_derive_api_key()
        address = Wallet(poly_key).address
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        rsa_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    async with httpx.AsyncClient(timeout=10) as http:
        funded = await http.post(f"{clob}/_sandbox/accounts/{address}/fund", json={"usdc": POLY_USDC_MICRO})
        funded.raise_for_status()
        key = await http.post(
            f"{kalshi.base_url}/_sandbox/keys", json={"account": KALSHI_ACCOUNT, "public_key_pem": public}
        )
        key.raise_for_status()
        cash = await http.post(
            f"{kalshi.base_url}/_sandbox/accounts/{KALSHI_ACCOUNT}/fund", json={"cents": KALSHI_CENTS}
        )
        cash.raise_for_status()
    accounts = Accounts(
        poly_key=poly_key, poly_address=address, poly_api_key=creds.api_key, kalshi_account=KALSHI_ACCOUNT
    )
    target = dev_server_env.client.service_client.config.target_host
    config = WorkerConfig(
        temporal_address=target,
        namespace=dev_server_env.client.namespace,
        task_queue="unset",
        database_url="unset",
        polymarket_url=clob,
        polymarket_key=poly_key,
        polymarket_api_key=creds.api_key,
        polymarket_secret=creds.secret,
        polymarket_passphrase=creds.passphrase,
        kalshi_url=kalshi.api_url,
        kalshi_key_id=key.json()["key_id"],
        kalshi_pem=pem,
    )
    workdir = tmp_path_factory.mktemp("chaos")
    return ChaosEnv(dev_server_env.client, ChaosVenues(chaos_sandboxes, accounts), config, workdir)


@pytest.fixture(scope="module")
async def sqlite_pool(chaos: ChaosEnv) -> AsyncIterator[Pool]:
    """Two worker processes on one queue recording sagas in a SQLite file, and warm standbys to replace killed ones."""
    url = f"sqlite+aiosqlite:///{chaos.workdir / 'sagas.db'}"
    engine = create_engine(url)
    await migrate.upgrade(engine)
    queue = "chaos-sqlite"
    workers = WorkerPool(chaos.pool_config(queue, url), chaos.workdir, standbys=KILLS_WARM)
    await workers.start()
    try:
        yield Pool(workers, engine, queue)
    finally:
        await workers.stop()
        await engine.dispose()


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    if not LEDGER.sagas:
        return
    tr = terminalreporter
    tr.section("chaos summary")
    tr.write_line(f"seed {SEED}; sagas audited: {LEDGER.sagas}")
    tr.write_line(f"faults injected: {sum(LEDGER.faults.values())}")
    for kind, count in sorted(LEDGER.faults.items()):
        tr.write_line(f"  {kind:<28}{count:>6}")
    tr.write_line("fault signals observed (venue fault counters, worker logs):")
    for kind, count in sorted(LEDGER.signals.items()):
        tr.write_line(f"  {kind:<28}{count:>6}")
    tr.write_line("sagas per final state:")
    for state, count in sorted(LEDGER.states.items()):
        tr.write_line(f"  {state:<28}{count:>6}")
    tr.write_line("last hedge strategy used:")
    for strategy, count in sorted(LEDGER.strategies.items()):
        tr.write_line(f"  {strategy:<28}{count:>6}")
    tr.write_line(f"max residual exposure (contracts, from venue logs): {LEDGER.max_residual}")
    tr.write_line(f"sagas left with any residual (each alerted): {LEDGER.alerted_residuals}")
    if LEDGER.hot_kills:
        tr.write_line("hot process (send-ahead) killed when its target saga was:")
        for moment, count in LEDGER.hot_kills.items():
            tr.write_line(f"  {moment:<44}{count:>6}")
        tr.write_line("sagas by where they were when their hot process was killed:")
        for where, count in LEDGER.hot_sagas.items():
            tr.write_line(f"  {where:<44}{count:>6}")
        tr.write_line("those started, per final state:")
        for state, count in sorted(LEDGER.hot_states.items()):
            tr.write_line(f"  {state:<44}{count:>6}")
    for phase, seconds in LEDGER.phases.items():
        tr.write_line(f"  phase {phase:<22}{seconds:>8.1f} s")
