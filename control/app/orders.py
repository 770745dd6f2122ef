"""Manual orders of one tenant: placed as `ManualOrder` workflows, so each is visible in Temporal, goes
through the same order activities and risk limits as every trade, and is placed once per key.

The order id is derived from the tenant and the caller's idempotency key: the same key reaches the
same workflow (its answer, not a second order); the same key with a different order is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from datetime import timedelta

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from control.app.errors import NotFound, OperationError
from control.app.temporal_calls import answer
from domain.accounts import TenantId
from domain.manual_orders import ManualOrder, ManualOrderInput, ManualOrderState, ManualOrderStatus
from temporal.search_attributes import TENANT_ID
from workflows.manual_order import ManualOrderWorkflow

PREFIX = "manual-"
_POLL = timedelta(milliseconds=100)


def order_id(tenant_id: TenantId, idempotency_key: str) -> str:
    digest = hashlib.sha256(f"{tenant_id}\x00{idempotency_key}".encode()).hexdigest()
    return f"{PREFIX}{tenant_id}-{digest[:24]}"


class ManualOrders:
    def __init__(self, client: Client, tenant_id: TenantId, timeout: timedelta = timedelta(seconds=30)) -> None:
        self._client = client
        self.tenant_id = tenant_id
        self.timeout = timeout

    def _handle(self, order_id: str) -> WorkflowHandle[ManualOrderWorkflow, ManualOrderStatus]:
        if not order_id.startswith(f"{PREFIX}{self.tenant_id}-"):
            raise NotFound(f"no order {order_id}")
        return self._client.get_workflow_handle_for(ManualOrderWorkflow.run, order_id)

    async def place(
        self, order: ManualOrder, idempotency_key: str, task_queue: str, actor: str = ""
    ) -> ManualOrderStatus:
        """The order's state once it is done (fill-and-kill) or resting (GTC); never a second order."""
        if not idempotency_key.strip():
            raise OperationError("an order needs an idempotency key, so a retry cannot place it twice")
        oid = order_id(self.tenant_id, idempotency_key)
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await self._client.start_workflow(
                ManualOrderWorkflow.run,
                ManualOrderInput(tenant_id=self.tenant_id, order=order, actor=actor),
                id=oid,
                task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=TypedSearchAttributes([SearchAttributePair(TENANT_ID, self.tenant_id)]),
            )
        status = await self._settled(oid)
        if status.order != order:
            raise OperationError("this idempotency key was used for a different order; use a new key")
        return status

    async def _settled(self, oid: str) -> ManualOrderStatus:
        """Poll the query until the order is placed or done, bounded by `timeout`."""
        deadline = asyncio.get_running_loop().time() + self.timeout.total_seconds()
        while True:
            status = await self.state(oid)
            if status.state is not ManualOrderState.CHECKING:
                return status
            if asyncio.get_running_loop().time() > deadline:
                return status
            await asyncio.sleep(_POLL.total_seconds())

    async def state(self, order_id: str) -> ManualOrderStatus:
        handle = self._handle(order_id)
        status = await answer(
            handle.query(ManualOrderWorkflow.state, rpc_timeout=self.timeout), self.timeout, f"no order {order_id}"
        )
        if status is None or status.tenant_id != self.tenant_id:
            raise NotFound(f"no order {order_id}")
        return status

    async def cancel(self, order_id: str) -> ManualOrderStatus:
        """Ask a resting order to stop; answers with its state once the cancel is seen (or it was done)."""
        status = await self.state(order_id)
        if status.state.is_final:
            raise OperationError(f"order {order_id} is already {status.state.value}: nothing to cancel")
        handle = self._handle(order_id)
        await answer(handle.signal(ManualOrderWorkflow.cancel, rpc_timeout=self.timeout), self.timeout, order_id)
        try:
            return await asyncio.wait_for(handle.result(), self.timeout.total_seconds())
        except TimeoutError:
            return await self.state(order_id)

    async def list(self, limit: int = 50) -> list[ManualOrderStatus]:
        """Newest first, from Temporal's visibility (the tenant's search attribute) and each order's query."""
        query = f"WorkflowType = 'ManualOrder' AND {TENANT_ID.name} = '{self.tenant_id}'"
        found: list[ManualOrderStatus] = []
        async for execution in self._client.list_workflows(query, limit=limit):
            if execution.status is WorkflowExecutionStatus.TERMINATED:
                continue
            found.append(await self.state(execution.id))
        return found
