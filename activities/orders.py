"""Order activities: every placement is idempotent and every ambiguous outcome is reconciled.

The client order id comes from the workflow (workflow id + role + attempt), so when
Temporal retries `place_order` — after a timeout, a 5xx, or a worker that died
mid-call — the venue sees the same id (Kalshi) or the same signed order (Polymarket,
salt derived from the id) and cannot place twice. A duplicate rejection is not an
error here: it means the earlier attempt landed, so we return what the venue has.
A refusal (by the venue or by the risk gate) is an outcome the workflow handles, so it
is one log line and a benign failure, not a traceback in the worker's log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from activities.send_ahead import SendAhead
from arbitrage.compensation import BookQuote
from domain.accounts import AccountRef, TenantId
from domain.models import Order, OrderIntent, Outcome, Venue
from venues.accounts import UnknownAccountError, VenueAccounts
from venues.base import TradingClient
from venues.errors import DuplicateOrderError, VenueError

log = logging.getLogger(__name__)

KILL_SWITCH_ERROR = "KillSwitchOn"
REJECTED_ERROR = "OrderRejected"
NOT_FOUND_YET = "OrderNotFoundYet"


class PlaceOrder(BaseModel):
    model_config = ConfigDict(frozen=True)

    intent: OrderIntent
    reduces_exposure: bool = False


class QuoteRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    venue: Venue
    market_id: str
    token_id: str
    outcome: Outcome
    account: AccountRef = Field(default_factory=AccountRef)


class OrderActivities:
    """Every order names its account (`OrderIntent.account`): placed with that account's client, and
    `trading_allowed(tenant)` (the tenant's risk gate: kill switch, breaker) is consulted in-process
    on every new order."""

    def __init__(
        self,
        accounts: VenueAccounts,
        trading_allowed: Callable[[TenantId], bool],
        send_ahead: SendAhead | None = None,
    ) -> None:
        self._accounts = accounts
        self._trading_allowed = trading_allowed
        self._send_ahead = send_ahead

    def _client(self, intent: OrderIntent | QuoteRequest) -> TradingClient:
        try:
            return self._accounts.client(intent.account, intent.venue)
        except UnknownAccountError as exc:
            raise ApplicationError(str(exc), type=REJECTED_ERROR, non_retryable=True) from None

    @activity.defn(name="place_order")
    async def place_order(self, request: PlaceOrder) -> Order:
        """A leg the hot process already sent for this saga (activities/send_ahead.py) is adopted, not placed."""
        intent = request.intent
        client = self._client(intent)
        sent_ahead = None if self._send_ahead is None else self._send_ahead.take(intent.client_order_id)
        try:
            if sent_ahead is not None and (sent := await sent_ahead) is not None:
                return sent
            if not request.reduces_exposure and not self._trading_allowed(intent.account.tenant_id):
                raise ApplicationError(
                    "trading halted (kill switch, open circuit breaker, or a risk state too old to trust): "
                    "no new exposure",
                    type=KILL_SWITCH_ERROR,
                    non_retryable=True,
                    category=ApplicationErrorCategory.BENIGN,
                )
            return await client.place_order(intent)
        except DuplicateOrderError:
            log.info("duplicate %s on %s: reconciling the earlier placement", intent.client_order_id, intent.venue)
        except VenueError as exc:
            if not exc.retryable:
                log.warning("order %s refused: %s", intent.client_order_id, exc)
                raise ApplicationError(
                    str(exc), type=REJECTED_ERROR, non_retryable=True, category=ApplicationErrorCategory.BENIGN
                ) from exc
            log.warning("placement of %s uncertain (%s): reconciling", intent.client_order_id, exc)
        found = await client.find_order(intent)
        if found is None:
            raise ApplicationError(
                f"order {intent.client_order_id} not at the venue yet",
                type=NOT_FOUND_YET,
                category=ApplicationErrorCategory.BENIGN,
            )
        return found

    @activity.defn(name="find_order")
    async def find_order(self, intent: OrderIntent) -> Order | None:
        return await self._client(intent).find_order(intent)

    @activity.defn(name="cancel_order")
    async def cancel_order(self, order: Order) -> Order:
        return await self._client(order.intent).cancel_order(order)

    @activity.defn(name="quote_book")
    async def quote_book(self, request: QuoteRequest) -> BookQuote:
        book = await self._client(request).market_book(request.market_id, request.token_id)
        return BookQuote(asks=list(book.asks(request.outcome)), bids=list(book.bids(request.outcome)))
