"""From an opportunity to its saga: recorded, admitted, started once.

The detector only finds opportunities; this is what the hot process does with each one. It is
recorded as detected, becomes a `TradeRequest` that the tenant's admission answers with one
`Decision` (the same path a copy or a manual order takes), and an admitted one starts its
saga through the one `TradeLauncher`, its legs sent ahead when they go at once. What became
of it (taken, or skipped with the reason) is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from temporalio.client import WorkflowHandle

from arbitrage.opportunity import Opportunity, OpportunityRecorder, OutcomeKind
from arbitrage.risk_terms import trade_request
from arbitrage.saga import ArbSagaInput, LegOrder, SagaPolicy, SagaStatus, concurrent_leg_intents, workflow_id_for
from domain.accounts import DEFAULT_TENANT, AccountRef, TenantId
from domain.models import MarketPair
from streamers.admission import TenantAdmissions
from streamers.launcher import TradeLauncher, TradeStart

ARB_SAGA = "ArbSaga"


def saga_start(
    opportunity: Opportunity, pair: MarketPair, policy: SagaPolicy, tenant_id: TenantId, *, admitted: bool
) -> TradeStart:
    """The saga of `opportunity` for `tenant_id`; admitted sagas whose legs go at once send them ahead."""
    saga_id = workflow_id_for(tenant_id, opportunity.opportunity_id)
    concurrent = admitted and policy.leg_order is LegOrder.CONCURRENT
    return TradeStart(
        workflow=ARB_SAGA,
        arg=ArbSagaInput(opportunity=opportunity, pair=pair, policy=policy, tenant_id=tenant_id, admitted=admitted),
        workflow_id=saga_id,
        result_type=SagaStatus,
        tenant_id=tenant_id,
        admitted=admitted,
        send_ahead=concurrent_leg_intents(saga_id, opportunity, AccountRef(tenant_id=tenant_id)) if concurrent else (),
    )


class ArbitrageTrades:
    """`admissions` None: sagas start unadmitted and ask their supervisor before any leg."""

    def __init__(
        self,
        launcher: TradeLauncher,
        pairs: Mapping[str, MarketPair],
        recorder: OpportunityRecorder,
        policy: SagaPolicy | None = None,
        *,
        tenant_id: TenantId = DEFAULT_TENANT,
        admissions: TenantAdmissions | None = None,
    ) -> None:
        self.launcher = launcher
        self._pairs = pairs
        self._recorder = recorder
        self._policy = policy or SagaPolicy()
        self._tenant = tenant_id
        self._admissions = admissions

    async def take(self, opportunity: Opportunity) -> WorkflowHandle[Any, Any] | None:
        """The saga started for `opportunity`, or None (skipped, with the reason recorded)."""
        await self._recorder.record_detected(opportunity)
        pair = self._pairs.get(opportunity.pair_id)
        if pair is None:
            await self._skip(opportunity, "pair not loaded")
            return None
        admitted = False
        if self._admissions is not None:
            saga_id = workflow_id_for(self._tenant, opportunity.opportunity_id)
            decision = self._admissions.check(trade_request(opportunity, saga_id, self._tenant))
            if not decision.approved:
                await self._skip(opportunity, f"{decision.code}: {decision.message}")
                return None
            admitted = True
        start = saga_start(opportunity, pair, self._policy, self._tenant, admitted=admitted)
        handle = await self.launcher.launch(start)
        if handle is None:
            await self._skip(opportunity, "saga already exists")
            return None
        await self._recorder.record_outcome(opportunity.opportunity_id, OutcomeKind.TAKEN, handle.id)
        return handle

    async def _skip(self, opportunity: Opportunity, reason: str) -> None:
        await self._recorder.record_outcome(opportunity.opportunity_id, OutcomeKind.SKIPPED, reason)
