"""The in-process risk gate every order activity consults before placing new exposure.

Propagation (chosen: database polling). The supervisor workflow is the only writer: on
every kill-switch or breaker change it bumps `GateState.version` and runs the
`publish_gate_state` activity, which writes the `risk_gate_state` row (a write with an
older version is ignored, so concurrent publications cannot go back in time). The kill
and reset updates return only after that write. Each process runs one `RiskGate` that
re-reads the row every `poll_interval` seconds; `allows_new_exposure()` is a plain
attribute check, no I/O and no Temporal round trip per order.

Bound: once a kill update has returned, every running gate refuses new exposure within
`poll_interval` plus one single-row read. A gate that could not read for longer than
`max_staleness`, or has never read a state, refuses too (fail closed). Orders that
reduce exposure (hedges, unwinds, compensations) are always allowed.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from risk.models import GateState, RejectCode
from risk.refreshing import refreshed_every
from storage.database import session_factory
from storage.tables import RiskGateStateRow

log = logging.getLogger(__name__)


class TradingHaltedError(Exception):
    """New exposure refused: kill switch, open breaker, or no recent word from the supervisor."""


class GateStateStore(Protocol):
    async def read(self, tenant_id: str) -> GateState | None: ...

    async def write(self, state: GateState) -> bool:
        """Store unless a newer version is already there; True when this version is now stored."""
        ...


class SqlGateStateStore:
    """The `risk_gate_state` table: one row per tenant, shared by every process of a deployment."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = session_factory(engine)

    async def read(self, tenant_id: str) -> GateState | None:
        async with self._sessions() as session:
            row = await session.get(RiskGateStateRow, tenant_id)
            return None if row is None else _to_state(row)

    async def write(self, state: GateState) -> bool:
        """One atomic upsert that only ever raises the version (INSERT ... ON CONFLICT DO UPDATE WHERE)."""
        values = state.model_dump(exclude={"tenant_id"})
        insert = postgresql_insert if self._engine.dialect.name == "postgresql" else sqlite_insert
        statement = insert(RiskGateStateRow).values(tenant_id=state.tenant_id, **values)
        statement = statement.on_conflict_do_update(
            index_elements=[RiskGateStateRow.tenant_id],
            set_={key: statement.excluded[key] for key in values},
            where=RiskGateStateRow.version < statement.excluded.version,
        )
        async with self._sessions() as session:
            await session.execute(statement)
            stored = await session.scalar(
                select(RiskGateStateRow.version).where(RiskGateStateRow.tenant_id == state.tenant_id)
            )
            await session.commit()
        return bool(stored == state.version)


def _to_state(row: RiskGateStateRow) -> GateState:
    return GateState(
        tenant_id=row.tenant_id,
        version=row.version,
        kill_switch=row.kill_switch,
        kill_reason=row.kill_reason,
        breaker_open=row.breaker_open,
        breaker_reason=row.breaker_reason,
        updated_at=row.updated_at,
    )


class RiskGate:
    """One per process and tenant; `run()` keeps it current, order activities call `check()`."""

    def __init__(
        self,
        store: GateStateStore,
        tenant_id: str,
        *,
        poll_interval: float = 0.25,
        max_staleness: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < poll_interval < max_staleness:
            raise ValueError("need 0 < poll_interval < max_staleness")
        self.tenant_id = tenant_id
        self.poll_interval = poll_interval
        self.max_staleness = max_staleness
        self.state: GateState | None = None
        self.read_failures = 0
        self._store = store
        self._clock = clock
        self._read_at: float | None = None

    async def refresh(self) -> None:
        """One read; a failed read keeps the last state and lets it age toward `max_staleness`."""
        try:
            state = await self._store.read(self.tenant_id)
        except Exception:
            self.read_failures += 1
            log.exception("risk gate for %s could not read its state", self.tenant_id)
            return
        self._read_at = self._clock()
        if state is not None and (self.state is None or state.version >= self.state.version):
            if self.state is None or state.halted != self.state.halted:
                level = logging.WARNING if state.halted else logging.INFO
                log.log(level, "risk gate for %s: halted=%s (version %d)", self.tenant_id, state.halted, state.version)
            self.state = state

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RiskGate]:
        """Poll in the background for the duration of the block (first read done on entry)."""
        async with refreshed_every(self.refresh, self.poll_interval, f"risk-gate-{self.tenant_id}"):
            yield self

    def halt(self) -> tuple[RejectCode, str] | None:
        """Why new exposure is refused right now (a code and a message), or None when it is allowed."""
        if self._read_at is None or self.state is None:
            return RejectCode.UNAVAILABLE, "risk gate has no state from the supervisor yet"
        age = self._clock() - self._read_at
        if age > self.max_staleness:
            return RejectCode.UNAVAILABLE, f"risk gate state is {age:.1f}s old (limit {self.max_staleness}s)"
        if self.state.kill_switch:
            return RejectCode.KILL_SWITCH, f"kill switch is on: {self.state.kill_reason or 'no reason given'}"
        if self.state.breaker_open:
            return RejectCode.CIRCUIT_BREAKER, f"circuit breaker is open: {self.state.breaker_reason}"
        return None

    def refusal(self) -> str | None:
        halt = self.halt()
        return None if halt is None else halt[1]

    def allows_new_exposure(self) -> bool:
        return self.refusal() is None

    def check(self, *, reduces_exposure: bool = False) -> None:
        """Raise TradingHaltedError for an order that adds exposure while trading is halted."""
        if reduces_exposure:
            return
        reason = self.refusal()
        if reason is not None:
            raise TradingHaltedError(reason)


class RiskGates:
    """The gates of every tenant a process trades for; a tenant without a gate here is never allowed."""

    def __init__(self, gates: Iterable[RiskGate]) -> None:
        self._gates = {gate.tenant_id: gate for gate in gates}

    def allows_new_exposure(self, tenant_id: str) -> bool:
        gate = self._gates.get(tenant_id)
        return gate is not None and gate.allows_new_exposure()
