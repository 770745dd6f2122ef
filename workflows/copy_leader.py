"""One follower's relation to one leader, as a long-running workflow (`copy-leader-<tenant>-<venue>-<leader>`).

It holds the rules (the hot process reads them with the `state` query), the pause switch and the
counters of every copy made for it (each CopyTrade reports with the `copy_done` signal), with the
copies' realized P&L, which pauses the leader when it passes the rules' `auto_pause_loss`. Rules and
pauses change only through updates whose validators refuse bad input before anything is written to
history; `unfollow` ends it. The history is carried over with continue-as-new when it grows long.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

with workflow.unsafe.imports_passed_through():
    from copytrade.copies import CopyStatus
    from copytrade.leaders import COPY_LEADER_WORKFLOW, Follow, PauseChange, leader_workflow_id
    from copytrade.rules import CopyRules

log = logging.getLogger(__name__)
# How a query says nobody answers: no worker seen on its queue, or none before the deadline.
_NO_ANSWER = (RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED)

SEEN_KEPT = 200
HISTORY_LIMIT = 5_000


async def report_copy_done(status: CopyStatus) -> None:
    """From a copy workflow: count it on its leader's workflow (gone when the leader was unfollowed)."""
    fill = status.fill
    handle = workflow.get_external_workflow_handle(leader_workflow_id(status.tenant_id, fill.venue, fill.leader))
    await handle.signal("copy_done", status)


@workflow.defn(name="CopyLeader")
class CopyLeaderWorkflow:
    @workflow.init
    def __init__(self, follow: Follow) -> None:
        self._follow = follow
        self._unfollowed = False

    @workflow.run
    async def run(self, follow: Follow) -> Follow:
        await workflow.wait_condition(
            lambda: self._unfollowed or workflow.info().get_current_history_length() > HISTORY_LIMIT
        )
        if not self._unfollowed:
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(self._follow)
        return self._follow

    @workflow.query(name="state")
    def state(self) -> Follow:
        return self._follow

    @workflow.update(name="set_rules")
    def set_rules(self, rules: CopyRules) -> Follow:
        self._follow = self._follow.model_copy(update={"rules": rules})
        return self._follow

    @set_rules.validator
    def _check_rules(self, rules: CopyRules) -> None:
        self._check_following()

    @workflow.update(name="set_paused")
    def set_paused(self, change: PauseChange) -> Follow:
        self._follow = self._follow.model_copy(update={"paused": change.paused, "pause_reason": change.reason})
        return self._follow

    @set_paused.validator
    def _check_pause(self, change: PauseChange) -> None:
        self._check_following()
        if change.paused and not change.reason.strip():
            raise ValueError("say why the leader is paused (--reason)")

    def _check_following(self) -> None:
        if self._unfollowed:
            raise ValueError(f"{self._follow.leader} is no longer followed")

    @workflow.update(name="unfollow")
    def unfollow(self, actor: str) -> Follow:
        self._unfollowed = True
        return self._follow

    @workflow.signal(name="copy_done")
    def copy_done(self, status: CopyStatus) -> None:
        follow = self._follow
        if status.workflow_id in follow.seen:
            return
        counted = follow.counted(status)
        self._follow = counted.model_copy(update={"seen": (*follow.seen[-(SEEN_KEPT - 1) :], status.workflow_id)})


async def running_follows(
    client: Client, id_prefix: str = "copy-leader-", rpc_timeout: timedelta | None = None
) -> list[Follow]:
    """Every running follow whose workflow id starts with `id_prefix` (one tenant's: `copy-leader-<tenant>-`).

    A follow whose workflow cannot answer (no worker polls its queue) is left out and logged: one
    unreachable leader must not hide every other one."""
    follows: list[Follow] = []
    query = f"WorkflowType = '{COPY_LEADER_WORKFLOW}' AND ExecutionStatus = 'Running'"
    async for execution in client.list_workflows(query):
        if execution.id.startswith(id_prefix):
            handle = client.get_workflow_handle_for(CopyLeaderWorkflow.run, execution.id)
            try:
                follows.append(await handle.query(CopyLeaderWorkflow.state, rpc_timeout=rpc_timeout))
            except RPCError as exc:
                if exc.status not in _NO_ANSWER:
                    raise
                log.warning("follow %s left out: its workflow does not answer (%s)", execution.id, exc.message)
    return follows
