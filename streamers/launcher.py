"""Turn each approved opportunity into exactly one saga workflow, as fast as Temporal allows.

Eager start lets the in-process worker pick up the first workflow task straight from
the start response (no extra round trip through the matching service). The workflow
id is derived from the opportunity id with a reuse policy that rejects duplicates, so
an opportunity seen twice — by a replay, a reconnect, a second hot process — still
yields one saga. With a `HotAdmission` (the detector's risk hook) every launched saga
was admitted here and says so; one that does not start gives its admission back. With
`PresentOrders` too, an admitted saga whose legs go concurrently has them sent from here
as soon as it exists (activities/presend.py); its activities adopt them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.presend import PresentOrders
from arbitrage.opportunity import Opportunity, OpportunityRecorder, OutcomeKind
from arbitrage.saga import (
    ArbSagaInput,
    LegOrder,
    SagaPolicy,
    SagaStatus,
    concurrent_leg_intents,
    workflow_id_for,
)
from domain.models import MarketPair
from streamers.admission import HotAdmission
from workflows.arb_saga import ArbSagaWorkflow

log = logging.getLogger(__name__)


class SagaLauncher:
    def __init__(
        self,
        client: Client,
        task_queue: str,
        pairs: Mapping[str, MarketPair],
        recorder: OpportunityRecorder,
        policy: SagaPolicy | None = None,
        tenant_id: str = "default",
        admission: HotAdmission | None = None,
        presends: PresentOrders | None = None,
    ) -> None:
        if presends is not None and admission is None:
            raise ValueError("legs may be sent ahead of a saga only when this process admitted it")
        self._client = client
        self._task_queue = task_queue
        self._pairs = pairs
        self._recorder = recorder
        self._policy = policy or SagaPolicy()
        self._tenant = tenant_id
        self._admission = admission
        self._presends = presends if self._policy.leg_order is LegOrder.CONCURRENT else None
        self.started: list[WorkflowHandle[ArbSagaWorkflow, SagaStatus]] = []
        self.duplicates = 0

    async def launch(self, opportunity: Opportunity) -> WorkflowHandle[ArbSagaWorkflow, SagaStatus] | None:
        saga_id = workflow_id_for(opportunity.opportunity_id)
        pair = self._pairs.get(opportunity.pair_id)
        if pair is None:
            self._release(saga_id)
            await self._recorder.record_outcome(opportunity.opportunity_id, OutcomeKind.SKIPPED, "pair not loaded")
            return None
        request = ArbSagaInput(
            opportunity=opportunity,
            pair=pair,
            policy=self._policy,
            tenant_id=self._tenant,
            admitted=self._admission is not None,
        )
        start = self._client.start_workflow(
            ArbSagaWorkflow.run,
            request,
            id=saga_id,
            task_queue=self._task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            request_eager_start=True,
        )
        if self._presends is not None:
            start = self._presends.start_then_send(start, concurrent_leg_intents(saga_id, opportunity))
        try:
            handle = await start
        except WorkflowAlreadyStartedError:
            self.duplicates += 1
            self._release(saga_id)
            await self._recorder.record_outcome(opportunity.opportunity_id, OutcomeKind.SKIPPED, "saga already exists")
            return None
        except Exception:
            self._forget_unless_started(saga_id)
            raise
        await self._recorder.record_outcome(opportunity.opportunity_id, OutcomeKind.TAKEN, handle.id)
        self.started.append(handle)
        return handle

    def _release(self, saga_id: str) -> None:
        if self._admission is not None:
            self._admission.release(saga_id)

    def _forget_unless_started(self, saga_id: str) -> None:
        """The start's outcome is unknown (timeout, lost answer): the admission keeps counting it until the
        supervisor is seen to know it, or until its grace runs out (see HotAdmission)."""
        log.warning("saga %s: start failed with an unknown outcome; its admission is kept for now", saga_id)
