"""Start any trade workflow (an arbitrage saga, a copy, a manual order) exactly once, as fast as Temporal allows.

Eager start lets the in-process worker pick up the first workflow task straight from the
start response (no extra round trip through the matching service). Workflow ids derive
from the trade's identity with a reuse policy that rejects duplicates, so a trade seen
twice — by a replay, a reconnect, a second hot process — still yields one workflow. A
trade this process admitted (streamers/admission.py) gives its admission back if it does
not start; one whose legs go at once has them sent ahead from here as soon as the workflow
exists (activities/send_ahead.py), and its order activities adopt them.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.send_ahead import SendAhead
from domain.accounts import TenantId
from domain.models import OrderIntent
from streamers.admission import TenantAdmissions

log = logging.getLogger(__name__)


class TradeStart(BaseModel):
    """One trade workflow to start: its type, input and id, whether this process admitted it, and the
    orders to send the moment it exists (only for an admitted trade: the supervisor was not asked)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    workflow: str
    arg: Any
    workflow_id: str
    result_type: type | None = None
    tenant_id: TenantId
    admitted: bool
    send_ahead: tuple[OrderIntent, ...] = ()

    @model_validator(mode="after")
    def _only_admitted_trades_send_ahead(self) -> TradeStart:
        if self.send_ahead and not self.admitted:
            raise ValueError("orders may be sent ahead of a trade only when this process admitted it")
        return self


class TradeLauncher:
    def __init__(
        self,
        client: Client,
        task_queue: str,
        *,
        admissions: TenantAdmissions | None = None,
        send_ahead: SendAhead | None = None,
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._admissions = admissions
        self._send_ahead = send_ahead
        self.started: list[WorkflowHandle[Any, Any]] = []
        self.duplicates = 0

    async def launch(self, start: TradeStart) -> WorkflowHandle[Any, Any] | None:
        """The started workflow, or None when one with this id already exists (its admission is released)."""
        starting = self._client.start_workflow(
            start.workflow,
            start.arg,
            id=start.workflow_id,
            result_type=start.result_type,
            task_queue=self._task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            request_eager_start=True,
        )
        if self._send_ahead is not None and start.send_ahead:
            starting = self._send_ahead.start_then_send(starting, start.send_ahead)
        try:
            handle = await starting
        except WorkflowAlreadyStartedError:
            self.duplicates += 1
            self.release(start)
            return None
        except Exception:
            if start.admitted:
                log.warning(
                    "%s: start failed with an unknown outcome; its admission is kept for now", start.workflow_id
                )
            raise
        self.started.append(handle)
        return handle

    def release(self, start: TradeStart) -> None:
        """The trade will not run (a duplicate, no pair): its admission no longer holds room."""
        if start.admitted and self._admissions is not None:
            self._admissions.release(start.tenant_id, start.workflow_id)
