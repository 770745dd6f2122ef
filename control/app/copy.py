"""Copy-trading operations of a tenant: follow, unfollow, list, rules, pause/resume.

A follow lives in its leader's workflow (workflows/copy_leader.py), reached through Temporal; the
history of copies is read from the database (control/app/records.py). Every bad input (a malformed address, an unknown
leader, a rule out of range) is one `OperationError` line, the same on every front end.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from control.app.errors import OperationError
from control.app.temporal_calls import answer
from copytrade.leaders import Follow, PauseChange, leader_id, leader_workflow_id
from copytrade.rules import CopyRules
from domain.accounts import TenantId
from domain.models import Venue
from workflows.copy_leader import CopyLeaderWorkflow, running_follows


def rules_from(changes: dict[str, Any], base: CopyRules | None = None) -> CopyRules:
    """`base` with `changes` applied and validated as a whole; the first bad value is the error."""
    try:
        return CopyRules.model_validate({**(base or CopyRules()).model_dump(), **changes})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "rules"
        raise OperationError(f"{where}: {first['msg']}") from None


def _leader(venue: Venue, leader: str) -> str:
    try:
        return leader_id(venue, leader)
    except ValueError as exc:
        raise OperationError(str(exc)) from None


class Copying:
    def __init__(self, client: Client, tenant_id: TenantId, timeout: float = 30.0) -> None:
        self._client = client
        self.tenant_id = tenant_id
        self.timeout = timedelta(seconds=timeout)

    def _handle(self, venue: Venue, leader: str) -> WorkflowHandle[CopyLeaderWorkflow, Follow]:
        return self._client.get_workflow_handle_for(
            CopyLeaderWorkflow.run, leader_workflow_id(self.tenant_id, venue, _leader(venue, leader))
        )

    async def follow(self, venue: Venue, leader: str, rules: CopyRules, task_queue: str) -> Follow:
        """Start following (`rules` apply from the next fill); following again changes nothing."""
        key = _leader(venue, leader)
        follow = Follow(tenant_id=self.tenant_id, venue=venue, leader=key, rules=rules)
        try:
            await self._client.start_workflow(
                CopyLeaderWorkflow.run,
                follow,
                id=leader_workflow_id(self.tenant_id, venue, key),
                task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
        except WorkflowAlreadyStartedError:  # an unfollowed leader's closed run: start a new one
            raise OperationError(f"{key} was unfollowed moments ago; try again") from None
        return await self.state(venue, key)

    async def state(self, venue: Venue, leader: str) -> Follow:
        return await answer(
            self._handle(venue, leader).query(CopyLeaderWorkflow.state, rpc_timeout=self.timeout),
            self.timeout,
            f"tenant {self.tenant_id!r} does not follow {venue.value} leader {leader}",
        )

    async def set_rules(self, venue: Venue, leader: str, changes: dict[str, Any]) -> Follow:
        current = await self.state(venue, leader)
        rules = rules_from(changes, current.rules)
        return await self._update(venue, leader, "set_rules", rules)

    async def pause(self, venue: Venue, leader: str, reason: str, actor: str) -> Follow:
        return await self._update(venue, leader, "set_paused", PauseChange(paused=True, reason=reason, actor=actor))

    async def resume(self, venue: Venue, leader: str, actor: str) -> Follow:
        return await self._update(venue, leader, "set_paused", PauseChange(paused=False, actor=actor))

    async def unfollow(self, venue: Venue, leader: str, actor: str) -> Follow:
        return await self._update(venue, leader, "unfollow", actor)

    async def _update(self, venue: Venue, leader: str, name: str, arg: object) -> Follow:
        handle = self._handle(venue, leader)
        return await answer(
            handle.execute_update(name, arg, result_type=Follow, rpc_timeout=self.timeout),
            self.timeout,
            f"tenant {self.tenant_id!r} does not follow {venue.value} leader {leader}",
        )

    async def follows(self) -> list[Follow]:
        """Every leader this tenant follows (running leader workflows), each with its rules and counters."""
        found = await answer(
            running_follows(self._client, f"copy-leader-{self.tenant_id}-", self.timeout), self.timeout, ""
        )
        return sorted(found, key=lambda f: (f.venue.value, f.leader))
