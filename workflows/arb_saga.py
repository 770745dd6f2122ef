"""The two-leg arbitrage saga: buy YES on one venue and NO on the other, and never stay exposed on one side.

Legs are FAK (fill-and-kill) orders placed by idempotent activities. Whatever the legs
did — filled, partly filled, rejected, timed out, or the workflow was cancelled while
they were in flight — the saga first learns the truth from the venues (reconciliation
by client order id), then makes the position flat: hedge on the other venue within a
loss budget, hedge with the complement on the same venue, or unwind; cheapest first
(`arbitrage.compensation`), retried with backoff until flat, with an alert if it cannot.

The saga runs outside the workflow sandbox (`sandboxed=False`): the sandbox re-imports
the workflow module for every run, 3-5 ms of the tick -> orders path before the first
command (bench/bench_tick_to_order.py). What the sandbox would enforce is kept by hand
and checked: these modules take time, randomness and ids only from `workflow.*`
(tests/workflows/test_saga_determinism.py reads their source), and recorded histories
replay (tests/workflows/test_arb_saga.py).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from activities.orders import OrderActivities, QuoteRequest
    from activities.sagas import SagaRecordActivities
    from arbitrage.compensation import BookQuote, choose_plan
    from arbitrage.risk_terms import saga_finished, trade_request
    from arbitrage.saga import (
        ArbSagaInput,
        ArbState,
        HedgeStrategy,
        LegFill,
        LegOrder,
        SagaPolicy,
        SagaStatus,
        client_order_id,
        concurrent_leg_intents,
        leg_intent,
    )
    from domain.accounts import DEFAULT_TENANT, AccountRef
    from domain.models import Market, OrderIntent, Outcome, Side, TimeInForce, Venue
    from domain.money import Rounding
    from domain.venue_rules import orderable
    from temporal.search_attributes import ARB_PAIR, ARB_STATE, ARB_VENUES, OPPORTUNITY_ID
    from workflows.placement import RECONCILE_RETRY, place
    from workflows.risk_supervisor import report_admitted, report_saga_finished, request_approval

ZERO = Decimal(0)
# Patches (workflow.patched): histories recorded before these changes replay as they ran.
ALERT_RESIDUAL = "alert-residual-within-tolerance"
ALERT_COMPENSATED = "alert-compensated"


@workflow.defn(name="ArbSaga", sandboxed=False)
class ArbSagaWorkflow:
    def __init__(self) -> None:
        self._input: ArbSagaInput | None = None
        self._state = ArbState.PENDING
        self._strategy: HedgeStrategy | None = None
        self._legs: dict[str, LegFill] = {}
        self._compensations: list[LegFill] = []
        self._alerts: list[str] = []
        self._handover: asyncio.Task[None] | None = None

    @workflow.query(name="state")
    def state(self) -> SagaStatus:
        return self._status()

    @workflow.run
    async def run(self, request: ArbSagaInput) -> SagaStatus:
        self._input = request
        opportunity = request.opportunity
        workflow.upsert_search_attributes(
            [
                ARB_PAIR.value_set(opportunity.pair_id),
                ARB_VENUES.value_set([Venue.POLYMARKET.value, Venue.KALSHI.value]),
                OPPORTUNITY_ID.value_set(opportunity.opportunity_id),
                ARB_STATE.value_set(self._state.value),
            ]
        )
        if request.policy.pre_trade_approval and request.admitted:
            self._handover = asyncio.create_task(self._hand_over_reservation(request))
        elif request.policy.pre_trade_approval and not await self._approved(request):
            self._set_state(ArbState.FAILED)
            await self._record()
            return self._status()
        try:
            await self._place_legs(request)
            await self._settle(request.policy)
        except asyncio.CancelledError:
            self._alerts.append("saga cancelled: legs in flight were finished, getting flat")
            await self._settle(request.policy)
            await self._finish(request)
            raise
        await self._finish(request)
        return self._status()

    async def _hand_over_reservation(self, request: ArbSagaInput) -> None:
        """A signal sent in the same workflow task as the legs, so it costs the legs no round trip."""
        try:
            await report_admitted(
                request.tenant_id, trade_request(request.opportunity, workflow.info().workflow_id, request.tenant_id)
            )
        except FailureError as exc:
            self._alerts.append(f"risk supervisor did not take the admitted reservation: {exc}")

    async def _approved(self, request: ArbSagaInput) -> bool:
        decision = await request_approval(
            request.tenant_id, trade_request(request.opportunity, workflow.info().workflow_id, request.tenant_id)
        )
        if not decision.approved:
            self._alerts.append(f"refused by risk ({decision.code}): {decision.message}")
        return decision.approved

    async def _finish(self, request: ArbSagaInput) -> None:
        """Record the outcome, then release the reservation and feed the circuit breaker."""
        await self._record()
        if self._handover is not None:
            await self._handover
        if request.policy.pre_trade_approval:
            await report_saga_finished(request.tenant_id, saga_finished(self._status()))

    def _set_state(self, state: ArbState, strategy: HedgeStrategy | None = None) -> None:
        self._state = state
        if strategy is not None:
            self._strategy = strategy
        workflow.upsert_search_attributes([ARB_STATE.value_set(state.value)])

    async def _place_legs(self, request: ArbSagaInput) -> None:
        opportunity, policy = request.opportunity, request.policy
        workflow_id = workflow.info().workflow_id
        if policy.leg_order is LegOrder.CONCURRENT:
            first_intent, second_intent = concurrent_leg_intents(workflow_id, opportunity, self._account())
            self._set_state(ArbState.LEG1_INITIATED)
            self._set_state(ArbState.LEG2_INITIATED)
            await asyncio.gather(self._place(first_intent, policy), self._place(second_intent, policy))
            return
        contracts = Decimal(opportunity.contracts)
        first, second = opportunity.polymarket, opportunity.kalshi
        if policy.riskier_venue is Venue.KALSHI:
            first, second = second, first
        self._set_state(ArbState.LEG1_INITIATED)
        filled = (await self._place(leg_intent(workflow_id, first, "leg1", contracts, self._account()), policy)).filled
        if filled <= 0:
            return
        self._set_state(ArbState.LEG1_FILLED)
        whole = orderable(second.venue, filled, Rounding.DOWN)
        if whole <= 0:
            return
        self._set_state(ArbState.LEG2_INITIATED)
        await self._place(leg_intent(workflow_id, second, "leg2", whole, self._account()), policy)

    async def _place(self, intent: OrderIntent, policy: SagaPolicy, *, reduces: bool = False) -> LegFill:
        return await place(intent, policy.order_timeout, reduces=reduces, remember=self._remember)

    def _remember(self, fill: LegFill, reduces: bool) -> None:
        if reduces:
            self._compensations.append(fill)
        else:
            self._legs[fill.intent.client_order_id] = fill

    def _account(self) -> AccountRef:
        """Whose orders these are: every leg and every compensation trades the tenant's account."""
        assert self._input is not None
        return AccountRef(tenant_id=self._input.tenant_id)

    def _pair_outcome(self, venue: Venue, outcome: Outcome) -> Outcome:
        """Express a holding as the Polymarket outcome it pays with, so the two venues' legs net out."""
        assert self._input is not None
        if venue is Venue.POLYMARKET or self._input.pair.aligned:
            return outcome
        return outcome.other

    def _net(self) -> dict[Outcome, Decimal]:
        held = {Outcome.YES: ZERO, Outcome.NO: ZERO}
        for fill in [*self._legs.values(), *self._compensations]:
            sign = 1 if fill.intent.side is Side.BUY else -1
            held[self._pair_outcome(fill.intent.venue, fill.intent.outcome)] += sign * fill.filled
        return held

    async def _settle(self, policy: SagaPolicy) -> None:
        held = self._net()
        if held[Outcome.YES] == held[Outcome.NO] == 0:
            self._set_state(ArbState.FAILED)
            return
        if abs(held[Outcome.YES] - held[Outcome.NO]) <= policy.hedge_tolerance:
            self._set_state(ArbState.COMPLETED)
            await self._alert_residual()
            return
        await self._compensate(policy)

    async def _alert_residual(self) -> None:
        """Exposure within the tolerance is accepted, never silent: a human sees every contract left unmatched."""
        excess = self._excess()
        if excess and workflow.patched(ALERT_RESIDUAL):
            await self._alert(f"left {excess} contracts unmatched (within the hedge tolerance)")

    async def _compensated(self) -> None:
        """Legging is always told: the saga did not get the trade it set out to make."""
        self._set_state(ArbState.COMPENSATED)
        await self._alert_residual()
        if workflow.patched(ALERT_COMPENSATED):
            strategy = self._strategy.value if self._strategy else "compensation"
            await self._alert(f"legged: one leg did not fill as planned; compensated ({strategy})")

    def _excess(self) -> Decimal:
        held = self._net()
        return abs(held[Outcome.YES] - held[Outcome.NO])

    def _excess_source(self) -> LegFill:
        """The largest buy on the heavier side: its venue holds the excess, its price is what it cost."""
        held = self._net()
        heavy = Outcome.YES if held[Outcome.YES] > held[Outcome.NO] else Outcome.NO
        buys = [
            f
            for f in [*self._legs.values(), *self._compensations]
            if f.intent.side is Side.BUY
            and f.filled > 0
            and self._pair_outcome(f.intent.venue, f.intent.outcome) is heavy
        ]
        return max(buys, key=lambda f: f.filled)

    def _markets(self, venue: Venue) -> tuple[Market, Market]:
        assert self._input is not None
        pair = self._input.pair
        return (pair.polymarket, pair.kalshi) if venue is Venue.POLYMARKET else (pair.kalshi, pair.polymarket)

    async def _quote(self, market: Market, outcome: Outcome) -> BookQuote:
        return await workflow.execute_activity_method(
            OrderActivities.quote_book,
            QuoteRequest(
                venue=market.venue,
                market_id=market.market_id,
                token_id=market.yes_token,
                outcome=outcome,
                account=self._account(),
            ),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RECONCILE_RETRY,
        )

    async def _compensate(self, policy: SagaPolicy) -> None:
        backoff = policy.compensation_backoff
        refused: set[HedgeStrategy] = set()
        for attempt in range(policy.max_compensation_attempts):
            excess = self._excess()
            if excess <= policy.hedge_tolerance:
                await self._compensated()
                return
            source = self._excess_source()
            held_market, other_market = self._markets(source.intent.venue)
            held_outcome = source.intent.outcome
            other_outcome = self._other_leg_outcome(source)
            self._set_state(ArbState.COMPENSATING, self._strategy)
            held_book, complement_book, other_book = await asyncio.gather(
                self._quote(held_market, held_outcome),
                self._quote(held_market, held_outcome.other),
                self._quote(other_market, other_outcome),
            )
            per_contract = (source.cost + source.fees) / source.filled
            plan = choose_plan(
                excess_contracts=excess,
                cost_per_contract=per_contract,
                held_market=held_market,
                held_outcome=held_outcome,
                held_book=held_book,
                same_venue_complement_book=complement_book,
                other_market=other_market,
                other_outcome=other_outcome,
                other_book=other_book,
                loss_budget_per_contract=policy.hedge_loss_budget,
                exclude=refused,
            )
            if plan is None:
                refused.clear()
                await self._alert(f"no way to hedge or unwind {excess} contracts yet (attempt {attempt + 1})")
            else:
                self._set_state(ArbState.COMPENSATING, plan.strategy)
                market = held_market if plan.venue is held_market.venue else other_market
                contracts = orderable(
                    plan.venue, plan.contracts, Rounding.UP if plan.side is Side.BUY else Rounding.DOWN
                )
                if contracts <= 0:
                    break
                intent = OrderIntent(
                    client_order_id="comp-" + client_order_id(workflow.info().workflow_id, "comp", attempt)[3:],
                    venue=plan.venue,
                    market_id=market.market_id,
                    token_id=market.token(plan.outcome).token_id,
                    outcome=plan.outcome,
                    side=plan.side,
                    price=plan.limit_price,
                    quantity=contracts,
                    time_in_force=TimeInForce.FAK,
                    account=self._account(),
                )
                fill = await self._place(intent, policy, reduces=True)
                if fill.rejected is not None or fill.filled == 0:
                    refused.add(plan.strategy)
                if self._excess() <= policy.hedge_tolerance:
                    await self._compensated()
                    return
            await workflow.sleep(backoff)
            backoff = min(backoff * 2, policy.max_compensation_backoff)
        self._set_state(ArbState.FAILED)
        attempts = policy.max_compensation_attempts
        await self._alert(f"still exposed by {self._excess()} contracts after {attempts} attempts")

    def _other_leg_outcome(self, source: LegFill) -> Outcome:
        """The outcome the other venue's leg was meant to buy (what completes the pair)."""
        other = [f for f in self._legs.values() if f.intent.venue is not source.intent.venue]
        if other:
            return other[0].intent.outcome
        assert self._input is not None
        opportunity = self._input.opportunity
        leg = opportunity.kalshi if source.intent.venue is Venue.POLYMARKET else opportunity.polymarket
        return leg.outcome

    async def _alert(self, message: str) -> None:
        self._alerts.append(message)
        await workflow.execute_activity_method(
            SagaRecordActivities.alert,
            args=[workflow.info().workflow_id, message, self._input.tenant_id if self._input else DEFAULT_TENANT],
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RECONCILE_RETRY,
        )

    async def _record(self) -> None:
        await workflow.execute_activity_method(
            SagaRecordActivities.record_saga,
            self._status(),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RECONCILE_RETRY,
        )

    def _legs_in_order(self) -> list[LegFill]:
        """Leg 1 first: concurrent legs are remembered in the order they happened to finish."""
        first = client_order_id(workflow.info().workflow_id, "leg1")
        return sorted(self._legs.values(), key=lambda fill: fill.intent.client_order_id != first)

    def _status(self) -> SagaStatus:
        opportunity = self._input.opportunity if self._input else None
        held = self._net() if self._input else {Outcome.YES: ZERO, Outcome.NO: ZERO}
        fills = [*self._legs.values(), *self._compensations]
        paid = sum((f.cost + f.fees for f in fills if f.intent.side is Side.BUY), ZERO)
        received = sum((f.cost - f.fees for f in fills if f.intent.side is Side.SELL), ZERO)
        return SagaStatus(
            workflow_id=workflow.info().workflow_id,
            tenant_id=self._input.tenant_id if self._input else DEFAULT_TENANT,
            opportunity_id=opportunity.opportunity_id if opportunity else "",
            pair_id=opportunity.pair_id if opportunity else "",
            state=self._state,
            hedge_strategy=self._strategy,
            legs=self._legs_in_order(),
            compensations=list(self._compensations),
            unmatched=abs(held[Outcome.YES] - held[Outcome.NO]),
            realized_pnl=min(held[Outcome.YES], held[Outcome.NO]) + received - paid,
            alerts=list(self._alerts),
        )
