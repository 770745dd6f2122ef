"""The gate store keeps the newest version; the gate fails closed, lets hedges through, and sees a flip
within its poll interval."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from risk.gate import RiskGate, SqlGateStateStore, TradingHaltedError
from risk.models import GateState
from storage import migrate
from storage.database import create_engine
from tests.conftest import fresh_postgres_database
from tests.risk.factories import T0


def gate_state(version: int, *, kill: bool = False, breaker: bool = False, tenant: str = "t1") -> GateState:
    return GateState(
        tenant_id=tenant,
        version=version,
        kill_switch=kill,
        kill_reason="manual" if kill else "",
        breaker_open=breaker,
        breaker_reason="3 failed sagas" if breaker else "",
        updated_at=T0,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        eng = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}")
        await migrate.upgrade(eng)
        yield eng
        await eng.dispose()
        return
    async with fresh_postgres_database() as url:
        eng = create_engine(url)
        await migrate.upgrade(eng)
        yield eng
        await eng.dispose()


async def test_store_keeps_only_the_newest_version(engine: AsyncEngine) -> None:
    store = SqlGateStateStore(engine)
    assert await store.read("t1") is None
    assert await store.write(gate_state(2, kill=True))
    assert not await store.write(gate_state(1))  # a late, older publication loses
    assert await store.write(gate_state(2, kill=True))  # a retried publication is a success
    assert await store.read("t1") == gate_state(2, kill=True)
    assert await store.write(gate_state(3))
    assert await store.read("t1") == gate_state(3)
    assert await store.read("other") is None


async def test_concurrent_first_writes_converge_on_the_highest_version(engine: AsyncEngine) -> None:
    store = SqlGateStateStore(engine)
    versions = sorted(range(1, 21), key=lambda v: (v * 7) % 20)  # out of order
    results = await asyncio.gather(*(store.write(gate_state(v, kill=v % 2 == 0)) for v in versions))
    stored = await store.read("t1")
    assert stored is not None and stored.version == 20 and stored.kill_switch
    assert results[versions.index(20)]


class MemoryStore:
    def __init__(self) -> None:
        self.state: GateState | None = None
        self.fail = False

    async def read(self, tenant_id: str) -> GateState | None:
        if self.fail:
            raise ConnectionError("database down")
        return self.state

    async def write(self, state: GateState) -> bool:
        self.state = state
        return True


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_gate_fails_closed_until_it_has_read_a_state() -> None:
    store = MemoryStore()
    gate = RiskGate(store, "t1", clock=FakeClock())
    assert not gate.allows_new_exposure()
    await gate.refresh()  # read succeeded, but nothing published yet
    with pytest.raises(TradingHaltedError, match="no state"):
        gate.check()
    gate.check(reduces_exposure=True)
    store.state = gate_state(1)
    await gate.refresh()
    assert gate.allows_new_exposure()


async def test_kill_and_breaker_refuse_new_exposure_but_not_hedges() -> None:
    store = MemoryStore()
    gate = RiskGate(store, "t1", clock=FakeClock())
    store.state = gate_state(1, kill=True)
    await gate.refresh()
    with pytest.raises(TradingHaltedError, match="kill switch is on: manual"):
        gate.check()
    gate.check(reduces_exposure=True)
    store.state = gate_state(2, breaker=True)
    await gate.refresh()
    with pytest.raises(TradingHaltedError, match="circuit breaker is open: 3 failed"):
        gate.check()
    store.state = gate_state(3)
    await gate.refresh()
    gate.check()


async def test_stale_gate_refuses_after_max_staleness() -> None:
    store, clock = MemoryStore(), FakeClock()
    store.state = gate_state(1)
    gate = RiskGate(store, "t1", poll_interval=0.25, max_staleness=2.0, clock=clock)
    await gate.refresh()
    store.fail = True
    clock.now = 2.0
    await gate.refresh()
    assert gate.allows_new_exposure() and gate.read_failures == 1
    clock.now = 2.01
    with pytest.raises(TradingHaltedError, match="old"):
        gate.check()
    store.fail = False
    await gate.refresh()
    gate.check()


async def test_gate_never_goes_back_to_an_older_version() -> None:
    store = MemoryStore()
    gate = RiskGate(store, "t1", clock=FakeClock())
    store.state = gate_state(5, kill=True)
    await gate.refresh()
    store.state = gate_state(4)
    await gate.refresh()
    assert not gate.allows_new_exposure()


def test_poll_interval_must_be_shorter_than_staleness_limit() -> None:
    with pytest.raises(ValueError, match="poll_interval"):
        RiskGate(MemoryStore(), "t1", poll_interval=5, max_staleness=5)


async def test_running_gate_sees_a_published_kill_within_its_poll_interval(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}")
    await migrate.upgrade(engine)
    store = SqlGateStateStore(engine)
    await store.write(gate_state(1))
    gate = RiskGate(store, "t1", poll_interval=0.05, max_staleness=5.0)
    try:
        async with gate.running():
            assert gate.allows_new_exposure()  # the first read happens on entry
            await store.write(gate_state(2, kill=True))
            published = time.monotonic()
            while gate.allows_new_exposure():
                await asyncio.sleep(0.005)
            delay = time.monotonic() - published
            # bound: one poll interval plus one read; generous slack for a loaded CI machine
            assert delay < gate.poll_interval + 0.5, delay
        await store.write(gate_state(3))
        await asyncio.sleep(0.15)
        assert gate.state is not None and gate.state.version == 2  # stopped polling on exit
    finally:
        await engine.dispose()
