"""Risk operations on a tenant's risk supervisor: status, P&L, kill switch, breaker, limits.

The supervisor's state lives in its workflow, so every operation is a query or an update through
Temporal; what Temporal answers when something is wrong becomes one `OperationError` line here, so
the CLI, REST and Telegram say the same thing.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from control.app.temporal_calls import answer
from risk.gate import RiskGate, SqlGateStateStore
from risk.models import KillSwitchChange, LimitChange, Limits, supervisor_id
from risk.pnl import PnlReport
from risk.supervision import RiskStatus, SupervisorInput, SupervisorState
from workflows.risk_supervisor import RiskSupervisorWorkflow

T = TypeVar("T")


class RiskControl:
    """Async updates are called by name with `result_type`: the SDK types an async handler's
    result as a coroutine when it is passed as a method."""

    def __init__(self, client: Client, tenant_id: str, timeout: timedelta = timedelta(seconds=30)) -> None:
        """`timeout` bounds every call: with no worker running, queries and updates would wait on."""
        self.tenant_id = tenant_id
        self.timeout = timeout
        self.handle: WorkflowHandle[RiskSupervisorWorkflow, None] = client.get_workflow_handle_for(
            RiskSupervisorWorkflow.run, supervisor_id(tenant_id)
        )
        self._client = client

    async def ensure_started(self, task_queue: str, limits: Limits | None = None, **params: int) -> None:
        """Start the supervisor unless it already runs; a running one (and its limits) is left untouched.

        `limits` are the initial limits of a first start (e.g. from configuration); later
        changes go through `set_limit`, so they are validated and audited.
        """
        state = SupervisorState(limits=limits or Limits())
        await self._client.start_workflow(
            RiskSupervisorWorkflow.run,
            SupervisorInput(tenant_id=self.tenant_id, state=state, **params),
            id=supervisor_id(self.tenant_id),
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )

    async def status(self) -> RiskStatus:
        return await self._answer(self.handle.query(RiskSupervisorWorkflow.status, rpc_timeout=self.timeout))

    async def limits(self) -> Limits:
        return await self._answer(self.handle.query(RiskSupervisorWorkflow.limits, rpc_timeout=self.timeout))

    async def pnl(self) -> PnlReport | None:
        return await self._answer(self.handle.query(RiskSupervisorWorkflow.pnl, rpc_timeout=self.timeout))

    async def kill(self, reason: str, actor: str) -> RiskStatus:
        return await self._update(
            "set_kill_switch", KillSwitchChange(engaged=True, reason=reason, actor=actor), RiskStatus
        )

    async def unkill(self, actor: str) -> RiskStatus:
        return await self._update("set_kill_switch", KillSwitchChange(engaged=False, actor=actor), RiskStatus)

    async def reset_breaker(self, actor: str) -> RiskStatus:
        return await self._update("reset_breaker", actor, RiskStatus)

    async def set_limit(self, key: str, value: str, actor: str) -> Limits:
        return await self._update("set_limit", LimitChange(key=key, value=value, actor=actor), Limits)

    async def _update(self, name: str, arg: object, result_type: type[T]) -> T:
        return await self._answer(
            self.handle.execute_update(name, arg, result_type=result_type, rpc_timeout=self.timeout)
        )

    async def _answer(self, call: Awaitable[T]) -> T:
        return await answer(
            call, self.timeout, f"no risk supervisor for tenant {self.tenant_id!r} (start it with `inertial up`)"
        )


@contextlib.asynccontextmanager
async def running_risk(
    client: Client,
    engine: AsyncEngine,
    tenant_id: str,
    task_queue: str,
    limits: Limits | None = None,
) -> AsyncIterator[RiskGate]:
    """What a trading process needs: the tenant's supervisor started (if it was not) and a polling
    gate for its order activities (`build_worker(..., trading_allowed=gate.allows_new_exposure)`)
    and its pre-trade admission (`streamers.admission.HotAdmission`). The gate refuses until the supervisor
    has published, i.e. until a worker on `task_queue` runs it."""
    await RiskControl(client, tenant_id).ensure_started(task_queue, limits)
    async with RiskGate(SqlGateStateStore(engine), tenant_id).running() as gate:
        yield gate
