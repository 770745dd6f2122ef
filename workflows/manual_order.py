"""A manual order: checked against its market, reserved with the tenant's risk supervisor, placed once
through the shared placement step (kill switch inside the order activity, reconciliation by client
order id), and for a resting order held until it is cancelled or its time is up.

The workflow id is the order's id and comes from the caller's idempotency key
(control/app/orders.py), so a retried request reaches the same order instead of placing another.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.markets import UNKNOWN_MARKET, MarketActivities, MarketRequest
    from activities.orders import OrderActivities
    from arbitrage.saga import FillOutcome, LegFill, client_order_id
    from domain.accounts import AccountRef
    from domain.manual_orders import ManualOrderInput, ManualOrderState, ManualOrderStatus, market_problem
    from domain.models import Order, OrderIntent
    from risk.models import SagaFinished, SagaOutcome, TradeKind, TradeLeg, TradeRequest
    from workflows.placement import RECONCILE_RETRY, place
    from workflows.risk_supervisor import report_saga_finished, request_approval

_STATES = {
    FillOutcome.REFUSED: ManualOrderState.FAILED,
    FillOutcome.NOTHING: ManualOrderState.UNFILLED,
    FillOutcome.PARTIAL: ManualOrderState.PARTIALLY_FILLED,
    FillOutcome.FULL: ManualOrderState.FILLED,
}
READ_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=5)
ORDER_TIMEOUT = timedelta(seconds=10)


@workflow.defn(name="ManualOrder")
class ManualOrderWorkflow:
    def __init__(self) -> None:
        self._status: ManualOrderStatus | None = None

    @workflow.query(name="state")
    def state(self) -> ManualOrderStatus | None:
        return self._status

    @workflow.signal(name="cancel")
    def cancel(self) -> None:
        """Honoured while the order rests; an order already done has nothing left to cancel."""
        self._set(cancel_requested=True)

    @workflow.run
    async def run(self, request: ManualOrderInput) -> ManualOrderStatus:
        order_id = workflow.info().workflow_id
        self._status = ManualOrderStatus(order_id=order_id, tenant_id=request.tenant_id, order=request.order)
        try:
            await self._trade(request)
        except ActivityError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type == UNKNOWN_MARKET:
                self._set(state=ManualOrderState.REFUSED, reason=cause.message)
            else:
                self._set(state=ManualOrderState.FAILED, reason=f"could not read the market: {cause or exc}")
        return self._current()

    async def _trade(self, request: ManualOrderInput) -> None:
        order, tenant = request.order, request.tenant_id
        market = await workflow.execute_activity_method(
            MarketActivities.read_market,
            MarketRequest(venue=order.venue, market_id=order.market_id),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=READ_RETRY,
        )
        problem = market_problem(order, market)
        if problem is not None:
            self._set(state=ManualOrderState.REFUSED, reason=problem)
            return
        order_id = self._current().order_id
        leg = TradeLeg(
            venue=order.venue,
            market_id=order.market_id,
            outcome=order.outcome,
            side=order.side,
            price=order.price,
            quantity=order.quantity,
        )
        decision = await request_approval(
            tenant, TradeRequest(saga_id=order_id, legs=(leg,), kind=TradeKind.MANUAL, tenant_id=tenant)
        )
        if not decision.approved:
            self._set(state=ManualOrderState.REFUSED, reason=f"refused by risk ({decision.code}): {decision.message}")
            return
        intent = OrderIntent(
            client_order_id=client_order_id(order_id, "manual"),
            venue=order.venue,
            market_id=order.market_id,
            token_id=market.token(order.outcome).token_id,
            outcome=order.outcome,
            side=order.side,
            price=order.price,
            quantity=order.quantity,
            time_in_force=order.time_in_force,
            account=AccountRef(tenant_id=tenant),
        )
        self._set(state=ManualOrderState.PLACED)
        fill = await place(intent, ORDER_TIMEOUT, hold=self._rest if order.rest_seconds else None)
        self._settle(fill)
        outcome = SagaOutcome.FAILED if self._current().state is ManualOrderState.FAILED else SagaOutcome.COMPLETED
        await report_saga_finished(tenant, SagaFinished(saga_id=order_id, outcome=outcome, fees=fill.fees))

    async def _rest(self, placed: Order) -> Order:
        """Rest until cancelled or the order's time is up, then read what the venue did with it."""
        self._set(venue_order_id=placed.venue_order_id)
        rest = timedelta(seconds=self._current().order.rest_seconds)
        try:
            await workflow.wait_condition(lambda: self._current().cancel_requested, timeout=rest)
        except TimeoutError:
            workflow.logger.info("manual order %s rested its %s; cancelling", self._current().order_id, rest)
        found = await workflow.execute_activity_method(
            OrderActivities.find_order,
            placed.intent,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RECONCILE_RETRY,
        )
        return found or placed

    def _settle(self, fill: LegFill) -> None:
        self._set(
            state=_STATES[fill.outcome],
            reason=fill.reason("nothing filled at the limit price"),
            filled=fill.filled,
            cost=fill.cost,
            fees=fill.fees,
            venue_order_id=fill.venue_order_id,
        )

    def _current(self) -> ManualOrderStatus:
        assert self._status is not None
        return self._status

    def _set(self, **changes: object) -> None:
        self._status = self._current().model_copy(update=changes)
