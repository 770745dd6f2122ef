"""Placing one order from a workflow and learning its truth: the step every trade workflow shares.

The arbitrage saga's legs and compensations and a copy trade's order all go through `place`:
the idempotent `place_order` activity (kill switch checked inside it), then, when the answer is
lost or a refusal comes back, reconciliation by client order id (`find_order`), and a resting
remainder cancelled, so the workflow always ends up with what the venue really did.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.orders import KILL_SWITCH_ERROR, REJECTED_ERROR, OrderActivities, PlaceOrder
    from arbitrage.saga import LegFill
    from domain.models import Order, OrderIntent

PLACE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=8,
    non_retryable_error_types=[KILL_SWITCH_ERROR, REJECTED_ERROR],
)
RECONCILE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
# Patch (workflow.patched): sagas recorded before refusals were reconciled replay as they ran.
RECONCILE_REFUSALS = "reconcile-refused-placements"

Remember = Callable[[LegFill, bool], None]
Hold = Callable[[Order], Awaitable[Order]]


async def place(
    intent: OrderIntent,
    order_timeout: timedelta,
    *,
    reduces: bool = False,
    remember: Remember | None = None,
    hold: Hold | None = None,
) -> LegFill:
    """Place `intent` and return its final fill; `remember(fill, reduces)` runs as soon as it is known.
    `hold(order)`, for an order meant to rest, lets it work until it returns the order's latest state;
    whatever is still open then is cancelled.

    Shielded from workflow cancellation: an order in flight is always seen to its end (and
    remembered) before the cancellation is raised."""
    placing = asyncio.ensure_future(_place_and_reconcile(intent, order_timeout, reduces, remember, hold))
    try:
        return await asyncio.shield(placing)
    except asyncio.CancelledError:
        await placing
        raise


async def _place_and_reconcile(
    intent: OrderIntent, order_timeout: timedelta, reduces: bool, remember: Remember | None, hold: Hold | None
) -> LegFill:
    try:
        order = await workflow.execute_activity_method(
            OrderActivities.place_order,
            PlaceOrder(intent=intent, reduces_exposure=reduces),
            start_to_close_timeout=order_timeout,
            retry_policy=PLACE_RETRY,
        )
    except ActivityError as err:
        cause = err.cause
        refusal = None
        if isinstance(cause, ApplicationError) and cause.type in (KILL_SWITCH_ERROR, REJECTED_ERROR):
            refusal = cause.message
        if refusal is not None and not workflow.patched(RECONCILE_REFUSALS):
            fill = LegFill.rejected_intent(intent, refusal)
        else:
            fill = await reconcile(intent, refusal)
    else:
        if hold is not None and not order.status.is_terminal:
            order = await hold(order)
        fill = await final(order)
    if remember is not None:
        remember(fill, reduces)
    return fill


async def final(order: Order) -> LegFill:
    """A FAK order is final at once; anything still open (a venue that rested it) is cancelled first."""
    if not order.status.is_terminal:
        order = await workflow.execute_activity_method(
            OrderActivities.cancel_order,
            order,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RECONCILE_RETRY,
        )
    return LegFill.from_order(order)


async def reconcile(intent: OrderIntent, refusal: str | None = None) -> LegFill:
    """Placement ended without an order in hand: ask the venue what exists under this client order id.

    A refusal (rejection, kill switch) is believed only once the venue confirms it holds
    nothing: it may answer a retry whose earlier attempt was placed but lost its answer
    (a venue can check the balance that first order used before it checks duplicates).
    """
    found = await workflow.execute_activity_method(
        OrderActivities.find_order,
        intent,
        start_to_close_timeout=timedelta(seconds=10),
        retry_policy=RECONCILE_RETRY,
    )
    if found is None:
        return LegFill.rejected_intent(intent, refusal or "not placed: venue unreachable, no order under this id")
    return await final(found)
