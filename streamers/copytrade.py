"""What the hot process does with a leader fill: one CopyTrade workflow per tenant that follows the leader.

The sources (RTDS, Data API, chain, Kalshi fills) hand every sighting here; the workflow id derives
from the fill's identity, so a fill seen again — by another source, after a restart, by a second
hot process — starts nothing new (counted as a duplicate). Copies are not admitted here: sizing
needs the follower's holdings, so the workflow sizes, then reserves room with the supervisor.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle

from copytrade.copies import COPY_TRADE, CopyStatus, CopyTradeInput, copy_workflow_id
from copytrade.fills import LeaderFill
from copytrade.rules import CopyRules
from domain.accounts import TenantId
from domain.models import Venue
from streamers.launcher import TradeLauncher, TradeStart
from workflows.copy_leader import running_follows

log = logging.getLogger(__name__)


def copy_start(fill: LeaderFill, rules: CopyRules, tenant_id: TenantId) -> TradeStart:
    return TradeStart(
        workflow=COPY_TRADE,
        arg=CopyTradeInput(fill=fill, rules=rules, tenant_id=tenant_id),
        workflow_id=copy_workflow_id(tenant_id, fill),
        result_type=CopyStatus,
        tenant_id=tenant_id,
        admitted=False,
    )


@dataclass
class CopyStats:
    sightings: int = 0
    started: int = 0
    duplicates: int = 0
    unfollowed: int = 0
    handles: list[WorkflowHandle[Any, Any]] = field(default_factory=list)


class CopyTrades:
    """`follows[leader][tenant]`: the rules each tenant set for that leader (leaders keyed as fills key them)."""

    def __init__(self, launcher: TradeLauncher, follows: Mapping[str, Mapping[TenantId, CopyRules]]) -> None:
        self.launcher = launcher
        self._follows = follows
        self.stats = CopyStats()

    async def take(self, fill: LeaderFill) -> list[WorkflowHandle[Any, Any]]:
        """The copies started for this sighting (none when it was seen before or nobody follows the leader)."""
        self.stats.sightings += 1
        tenants = self._follows.get(fill.leader, {})
        if not tenants:
            self.stats.unfollowed += 1
            return []
        started: list[WorkflowHandle[Any, Any]] = []
        for tenant_id, rules in tenants.items():
            # a start that fails raises to the source, which offers the fill again (its cursor stays put);
            # the tenants started already see a duplicate then
            handle = await self.launcher.launch(copy_start(fill, rules, tenant_id))
            if handle is None:
                self.stats.duplicates += 1
            else:
                self.stats.started += 1
                started.append(handle)
        self.stats.handles += started
        return started


class FollowsRefresh:
    """The follows the hot process copies, re-read from the leader workflows every `interval_s` (paused
    leaders left out), so a follow, unfollow, pause or rule change applies within that time."""

    def __init__(self, client: Client, interval_s: float = 5.0) -> None:
        self._client = client
        self._interval = interval_s
        self.follows: dict[str, dict[TenantId, CopyRules]] = {}
        self._leaders: dict[Venue, set[str]] = {venue: set() for venue in Venue}
        self.errors = 0

    def leaders(self, venue: Venue) -> set[str]:
        """The leaders of `venue` someone copies now (a live view: sources read it on every round)."""
        return self._leaders[venue]

    async def refresh(self) -> None:
        follows: dict[str, dict[TenantId, CopyRules]] = {}
        leaders: dict[Venue, set[str]] = {venue: set() for venue in Venue}
        for follow in await running_follows(self._client, rpc_timeout=timedelta(seconds=10)):
            if not follow.paused:
                follows.setdefault(follow.leader, {})[follow.tenant_id] = follow.rules
                leaders[follow.venue].add(follow.leader)
        self.follows.clear()
        self.follows.update(follows)
        for venue, now in leaders.items():
            self._leaders[venue].clear()
            self._leaders[venue].update(now)

    async def run(self) -> None:
        """Until cancelled; a refresh that fails keeps the last follows (logged and counted)."""
        while True:
            try:
                await self.refresh()
            except Exception:
                self.errors += 1
                log.exception("copy follows not refreshed; keeping the last ones")
            await asyncio.sleep(self._interval)
