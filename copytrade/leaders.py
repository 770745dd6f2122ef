"""A follower's relation to one leader: the rules, paused or not, and what has been copied so far.

It lives in one long-running workflow per (tenant, venue, leader) (workflows/copy_leader.py), changed
only through validated updates, so every front end (CLI, REST, Telegram) changes it the same way and
the Temporal UI shows who follows whom.
"""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from copytrade.copies import CopyState, CopyStatus
from copytrade.fills import valid_wallet
from copytrade.rules import CopyRules
from domain.accounts import DEFAULT_TENANT, TENANT_ID, TenantId
from domain.models import Venue

COPY_LEADER_WORKFLOW = "CopyLeader"
KALSHI_LEADER = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CopyCounters(_Model):
    copies: int = 0
    filled: int = 0
    skipped: int = 0
    failed: int = 0
    notional: Decimal = Decimal(0)

    def add(self, status: CopyStatus) -> CopyCounters:
        state = status.state
        return CopyCounters(
            copies=self.copies + 1,
            filled=self.filled + (state in (CopyState.FILLED, CopyState.PARTIALLY_FILLED)),
            skipped=self.skipped + (state is CopyState.SKIPPED),
            failed=self.failed + (state is CopyState.FAILED),
            notional=self.notional + (status.order.cost if status.order is not None else Decimal(0)),
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
