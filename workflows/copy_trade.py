"""One copied leader fill: received -> sized -> checked -> placed -> filled / partially filled, or skipped
with its reason, or failed.

The workflow id derives from the fill's identity (copytrade/copies.py), so however many sources saw
the fill, and however late, it is copied once; the one FAK order goes through the same placement step
as the arbitrage saga (workflows/placement.py: kill switch inside the order activity, reconciliation
by client order id); room is reserved with the tenant's risk supervisor before the order and released
when the copy ends, so copies count against the same per-market, per-venue, total and daily limits.
Sizing is pure and runs here, on the follower's holdings as read just before it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.copies import NO_ACCOUNT, NO_MARKETS, CopyActivities, TargetRequest, ViewRequest
    from arbitrage.saga import FillOutcome, LegFill
    from copytrade.copies import (
        CopyState,
        CopyStatus,
        CopyTradeInput,
        copy_finished,
        copy_intent,
        copy_request,
    )
    from copytrade.fills import LeaderFill
    from copytrade.rules import CopyRules, SellMode
    from copytrade.sizing import CopyTarget, Skip, plan_copy
    from domain.models import Side
    from temporal.search_attributes import COPY_LEADER, COPY_STATE, COPY_VENUE, TENANT_ID
    from workflows.copy_leader import report_copy_done
    from workflows.placement import place
    from workflows.risk_supervisor import report_saga_finished, request_approval

_STATES = {
    FillOutcome.REFUSED: CopyState.FAILED,
    FillOutcome.NOTHING: CopyState.SKIPPED,
    FillOutcome.PARTIAL: CopyState.PARTIALLY_FILLED,
    FillOutcome.FULL: CopyState.FILLED,
}
READ_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=5,
    non_retryable_error_types=[NO_ACCOUNT, NO_MARKETS],
)
ORDER_TIMEOUT = timedelta(seconds=10)
# Patch (workflow.patched): the reads run as local activities, in the worker that runs the workflow
# task, with no server round trip to schedule and start each one; copies recorded before replay as they ran.
LOCAL_READS = "copy-reads-as-local-activities"


def _mirrored_sell(fill: LeaderFill, rules: CopyRules) -> LeaderFill | None:
    return fill if fill.side is Side.SELL and rules.sell_mode is SellMode.MIRROR else None


@workflow.defn(name="CopyTrade", sandboxed=False)
class CopyTradeWorkflow:
    def __init__(self) -> None:
        self._status: CopyStatus | None = None

    @workflow.query(name="state")
    def state(self) -> CopyStatus | None:
        return self._status

    @workflow.run
    async def run(self, request: CopyTradeInput) -> CopyStatus:
        fill = request.fill
        workflow_id = workflow.info().workflow_id
        self._status = CopyStatus(
            workflow_id=workflow_id, tenant_id=request.tenant_id, fill=fill, state=CopyState.RECEIVED
        )
        workflow.upsert_search_attributes(
            [
                COPY_LEADER.value_set(fill.leader),
                COPY_VENUE.value_set(fill.venue.value),
                TENANT_ID.value_set(request.tenant_id),
                COPY_STATE.value_set(CopyState.RECEIVED.value),
            ]
        )
        try:
            await self._copy(request)
        except ActivityError as exc:
            self._set(CopyState.FAILED, reason=f"could not read what the copy needs: {exc.cause or exc}")
        await workflow.execute_activity_method(
            CopyActivities.record_copy, self._current(), start_to_close_timeout=timedelta(seconds=10)
        )
        try:
            await report_copy_done(self._current())
        except FailureError:
            workflow.logger.info("leader of %s is no longer followed: not counted", workflow.info().workflow_id)
        return self._current()

    async def _copy(self, request: CopyTradeInput) -> None:
        fill, rules, tenant = request.fill, request.rules, request.tenant_id
        local = workflow.patched(LOCAL_READS)
        read = workflow.execute_local_activity_method if local else workflow.execute_activity_method
        found = await read(
            CopyActivities.copy_target,
            TargetRequest(fill=fill, rules=rules),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=READ_RETRY,
        )
        if found.target is None:
            self._set(CopyState.SKIPPED, reason=found.skip)
            return
        target: CopyTarget = found.target
        view = await read(
            CopyActivities.follower_view,
            ViewRequest(tenant_id=tenant, target=target, leader_sell=_mirrored_sell(fill, rules)),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=READ_RETRY,
        )
        plan = plan_copy(fill, rules, target, view, workflow.now())
        if isinstance(plan, Skip):
            self._set(CopyState.SKIPPED, reason=plan.reason, target=target)
            return
        self._set(CopyState.SIZED, target=target, side=plan.side, limit_price=plan.limit_price, quantity=plan.quantity)
        workflow_id = workflow.info().workflow_id
        decision = await request_approval(tenant, copy_request(workflow_id, target, plan, tenant))
        if not decision.approved:
            self._set(CopyState.SKIPPED, reason=f"refused by risk ({decision.code}): {decision.message}")
            await report_saga_finished(tenant, copy_finished(self._current()))
            return
        self._set(CopyState.CHECKED)
        intent = copy_intent(workflow_id, target, plan, tenant)
        self._set(CopyState.PLACED)
        order = await place(intent, ORDER_TIMEOUT)
        self._settle(order)
        await report_saga_finished(tenant, copy_finished(self._current()))

    def _settle(self, order: LegFill) -> None:
        reason = order.reason("nothing at the limit price: the FAK order filled nothing (not chased)")
        self._set(_STATES[order.outcome], reason=reason, order=order)

    def _current(self) -> CopyStatus:
        assert self._status is not None
        return self._status

    def _set(self, state: CopyState, **changes: object) -> None:
        self._status = self._current().model_copy(update={"state": state, **changes})
        workflow.upsert_search_attributes([COPY_STATE.value_set(state.value)])
