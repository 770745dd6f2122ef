"""A follower's relation to one leader: the rules, paused or not, and what has been copied so far.

It lives in one long-running workflow per (tenant, venue, leader) (workflows/copy_leader.py), changed
only through validated updates, so every front end (CLI, REST, Telegram) changes it the same way and
the Temporal UI shows who follows whom.
"""

from __future__ import annotations

import re
from collections import deque
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from copytrade.copies import CopyState, CopyStatus
from copytrade.rules import CopyRules
from domain.accounts import DEFAULT_TENANT, TENANT_ID, TenantId
from domain.addresses import valid_wallet
from domain.models import Venue
from risk.pnl import Lot, OutcomeLedger

COPY_LEADER_WORKFLOW = "CopyLeader"
KALSHI_LEADER = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CopyCounters(_Model):
    """`realized_pnl` (fees included) is booked FIFO per outcome token from the copies' own fills, with
    the lots still open kept as (signed shares, price) per `venue:token`."""

    copies: int = 0
    filled: int = 0
    skipped: int = 0
    failed: int = 0
    notional: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)
    lots: dict[str, tuple[tuple[Decimal, Decimal], ...]] = {}

    def add(self, status: CopyStatus) -> CopyCounters:
        state, order = status.state, status.order
        realized, lots = self.realized_pnl, self.lots
        if order is not None and order.filled > 0:
            intent = order.intent
            key = f"{intent.venue.value}:{intent.token_id}"
            ledger = OutcomeLedger(deque(Lot(quantity, price) for quantity, price in lots.get(key, ())))
            realized += ledger.apply(intent.side, order.cost / order.filled, order.filled, order.fees) - order.fees
            lots = {**lots, key: tuple((lot.quantity, lot.price) for lot in ledger.lots)}
        return CopyCounters(
            copies=self.copies + 1,
            filled=self.filled + (state in (CopyState.FILLED, CopyState.PARTIALLY_FILLED)),
            skipped=self.skipped + (state is CopyState.SKIPPED),
            failed=self.failed + (state is CopyState.FAILED),
            notional=self.notional + (order.cost if order is not None else Decimal(0)),
            realized_pnl=realized,
            lots={key: open_lots for key, open_lots in lots.items() if open_lots},
        )


class Follow(_Model):
    """What the leader's workflow holds; its `state` query answers this."""

    tenant_id: TenantId = Field(default=DEFAULT_TENANT, pattern=TENANT_ID)
    venue: Venue
    leader: str
    rules: CopyRules = CopyRules()
    paused: bool = False
    pause_reason: str = ""
    counters: CopyCounters = CopyCounters()
    seen: tuple[str, ...] = ()  # the last copies' workflow ids, so a repeated report counts once

    def counted(self, status: CopyStatus) -> Follow:
        """This copy counted; past the rules' `auto_pause_loss`, the leader is paused (and says why)."""
        counters = self.counters.add(status)
        changes: dict[str, object] = {"counters": counters}
        limit = self.rules.auto_pause_loss
        if limit is not None and not self.paused and -counters.realized_pnl >= limit:
            changes["paused"] = True
            changes["pause_reason"] = (
                f"auto-paused: copies of this leader lost ${-counters.realized_pnl} (realized, fees included), "
                f"at or over the ${limit} the rules allow"
            )
        return self.model_copy(update=changes)


class PauseChange(_Model):
    paused: bool
    reason: str = Field(default="", max_length=500)
    actor: str = Field(min_length=1, max_length=200)


def leader_id(venue: Venue, leader: str) -> str:
    """The leader as fills key it: a lowercase wallet on Polymarket, the account name on Kalshi (checked)."""
    if venue is Venue.POLYMARKET:
        return valid_wallet(leader)
    if not re.match(KALSHI_LEADER, leader):
        raise ValueError(f"{leader!r} is not a Kalshi leader name (letters, digits, . _ -, at most 64)")
    return leader


def leader_workflow_id(tenant_id: TenantId, venue: Venue, leader: str) -> str:
    return f"copy-leader-{tenant_id}-{venue.value}-{leader}"
