"""Operator access to a tenant's risk supervisor through a Temporal client (CLI, bot, `inertial up`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from risk.gate import RiskGate, SqlGateStateStore
from risk.models import KillSwitchChange, LimitChange, Limits, supervisor_id
from risk.pnl import PnlReport
from workflows.risk_supervisor import RiskStatus, RiskSupervisorWorkflow, SupervisorInput, SupervisorState


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
        return await self.handle.query(RiskSupervisorWorkflow.status, rpc_timeout=self.timeout)

    async def limits(self) -> Limits:
        return await self.handle.query(RiskSupervisorWorkflow.limits, rpc_timeout=self.timeout)

    async def pnl(self) -> PnlReport | None:
        return await self.handle.query(RiskSupervisorWorkflow.pnl, rpc_timeout=self.timeout)

    async def kill(self, reason: str, actor: str) -> RiskStatus:
        return await self._set_kill_switch(KillSwitchChange(engaged=True, reason=reason, actor=actor))

    async def unkill(self, actor: str) -> RiskStatus:
        return await self._set_kill_switch(KillSwitchChange(engaged=False, actor=actor))

    async def reset_breaker(self, actor: str) -> RiskStatus:
        return await self.handle.execute_update(
            "reset_breaker", actor, result_type=RiskStatus, rpc_timeout=self.timeout
        )

    async def set_limit(self, key: str, value: str, actor: str) -> Limits:
        change = LimitChange(key=key, value=value, actor=actor)
        return await self.handle.execute_update("set_limit", change, result_type=Limits, rpc_timeout=self.timeout)

    async def _set_kill_switch(self, change: KillSwitchChange) -> RiskStatus:
        return await self.handle.execute_update(
            "set_kill_switch", change, result_type=RiskStatus, rpc_timeout=self.timeout
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
    and its pre-trade admission (`risk.admission.HotAdmission`). The gate refuses until the supervisor
    has published, i.e. until a worker on `task_queue` runs it."""
    await RiskControl(client, tenant_id).ensure_started(task_queue, limits)
    async with RiskGate(SqlGateStateStore(engine), tenant_id).running() as gate:
        yield gate
