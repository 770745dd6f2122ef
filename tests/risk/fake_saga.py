"""A stand-in saga for the risk supervisor tests, in its own module so the workflow sandbox
imports only this (not the whole test module with its database and alembic imports)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.risk import RiskActivities
    from risk.models import ApprovalRequest, Decision, SagaFinished, SagaOutcome
    from tests.risk.factories import arb_request
    from workflows.risk_supervisor import report_saga_finished


@workflow.defn(name="FakeSaga")
class FakeSagaWorkflow:
    """What an arb saga does with risk: ask for room through the activity, report how it ended."""

    @workflow.run
    async def run(self, tenant_id: str, outcome: SagaOutcome) -> Decision:
        saga_id = workflow.info().workflow_id
        decision = await workflow.execute_activity_method(
            RiskActivities.request_trade_approval,
            ApprovalRequest(tenant_id=tenant_id, request=arb_request(saga_id)),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
        if decision.approved:
            await report_saga_finished(tenant_id, SagaFinished(saga_id=saga_id, outcome=outcome))
        return decision
