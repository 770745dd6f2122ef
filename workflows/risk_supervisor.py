"""The risk supervisor: one long-running workflow per tenant (`risk-supervisor-<tenant>`).

It owns the limits, the risk book (holdings, balances, reservations, daily P&L), the
circuit breaker and the kill switch. Sagas reserve room with the `check_and_reserve`
update (idempotent per saga id), or hand over the reservation the hot process admitted
them with (`reservation_admitted` signal, checked against the `admission` query; see
streamers/admission.py), and report back with the `saga_finished` signal;
operators use the `set_limit`, `set_kill_switch` and `reset_breaker` updates, whose
validators reject bad input before anything is written to history; everyone reads it
through the `state`, `limits` and `pnl` queries. Every kill-switch or breaker change is
published to the `risk_gate_state` row that the in-process `RiskGate`s poll (see
risk/gate.py). On timers it syncs balances and holdings from the venues and snapshots
P&L. Time is `workflow.now()` only, so the history replays; the state is carried across
continue-as-new when the history grows long. A supervisor started afresh for a tenant
keeps the halt (kill switch, open breaker) its predecessor published.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.risk import CHECK_AND_RESERVE, RESERVATION_ADMITTED, RiskActivities
    from risk.checks import check_trade
    from risk.models import (
        AccountSnapshot,
        ApprovalRequest,
        AuditRecord,
        Decision,
        GatePublication,
        GateState,
        KillSwitchChange,
        LimitChange,
        Limits,
        SagaFinished,
        SagaOutcome,
        TradeRequest,
        supervisor_id,
    )
    from risk.pnl import PnlReport
    from risk.supervision import AdmissionView, RiskStatus, SupervisorInput, apply_limit_change
    from workflows.placement import RECONCILE_RETRY

SUPERVISOR = "risk-supervisor"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FINISHED_SAGAS_KEPT = 1000
REPUBLISH_AFTER = timedelta(seconds=5)
ORPHAN_GRACE = timedelta(seconds=60)
PUBLISH_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=2), maximum_attempts=5
)


async def report_admitted(tenant_id: str, request: TradeRequest) -> None:
    """For saga workflows the hot process admitted: hand the reservation to the supervisor."""
    handle = workflow.get_external_workflow_handle(supervisor_id(tenant_id))
    await handle.signal(RESERVATION_ADMITTED, request)


async def request_approval(tenant_id: str, request: TradeRequest) -> Decision:
    """For trade workflows the hot process did not admit: the supervisor checks the limits and reserves
    room atomically (idempotent per workflow id, so a retry is the same answer).

    A local activity: it only talks to Temporal (an update on the supervisor), so scheduling it
    through the server would add a workflow-task round trip before the first order."""
    return await workflow.execute_local_activity_method(
        RiskActivities.request_trade_approval,
        ApprovalRequest(tenant_id=tenant_id, request=request),
        start_to_close_timeout=timedelta(seconds=10),
        retry_policy=RECONCILE_RETRY,
    )


async def report_saga_finished(tenant_id: str, finished: SagaFinished) -> None:
    """For saga workflows: release the reservation and feed the breaker (a signal, no activity needed)."""
    handle = workflow.get_external_workflow_handle(supervisor_id(tenant_id))
    await handle.signal("saga_finished", finished)


@workflow.defn(name="RiskSupervisor")
class RiskSupervisorWorkflow:
    @workflow.init
    def __init__(self, params: SupervisorInput) -> None:
        self._params = params
        self._state = params.state
        self._published = 0
        self._publishing = 0
        self._wake = False

    @workflow.run
    async def run(self, params: SupervisorInput) -> None:
        if self._state.gate_version == 0:
            await self._recover_halt()
            self._bump_gate_version()
        await self._publish(SUPERVISOR, "supervisor_started")
        while True:
            await self._sleep()
            now = workflow.now()
            if self._state.breaker.expire(self._state.limits, now):
                await self._gate_changed(SUPERVISOR, "breaker_cooled_down")
            if self._needs_republish():
                await self._publish(SUPERVISOR, "gate_republished")
            if self._state.next_account_at is not None and now >= self._state.next_account_at:
                await self._sync_account()
            if self._state.next_orphan_check_at is not None and now >= self._state.next_orphan_check_at:
                await self._release_orphans()
            if self._state.next_pnl_at is not None and now >= self._state.next_pnl_at:
                await self._snapshot_pnl()
            info = workflow.info()
            if info.is_continue_as_new_suggested() or info.get_current_history_length() >= params.max_history_events:
                await workflow.wait_condition(workflow.all_handlers_finished)
                self._state.generation += 1
                workflow.continue_as_new(params.model_copy(update={"state": self._state}))

    # --- saga interface -------------------------------------------------------------------

    @workflow.update(name=CHECK_AND_RESERVE)
    def check_and_reserve(self, request: TradeRequest) -> Decision:
        state = self._state
        if request.saga_id in state.book.reservations:
            return Decision(saga_id=request.saga_id, approved=True, message="already reserved")
        now = workflow.now()
        decision = self._check(request, now)
        if decision.approved:
            state.book.reserve(request, now)
        self._wake = True  # every message lets the main loop see the history grow
        return decision

    def _check(self, request: TradeRequest, now: datetime) -> Decision:
        """Every limit against this book, the kill switch and the breaker as they are at `now`."""
        state = self._state
        return check_trade(
            request,
            state.limits,
            state.book,
            today=now.date(),
            kill_switch=state.kill_switch,
            breaker_open=state.breaker.is_open(state.limits, now),
        )

    @check_and_reserve.validator
    def _validate_request(self, request: TradeRequest) -> None:
        if request.saga_id in self._state.finished_sagas:
            raise ValueError(f"saga {request.saga_id} has already finished; a new trade needs a new saga id")
        held = self._state.book.reservations.get(request.saga_id)
        if held is not None and held.request != request:
            raise ValueError(f"saga {request.saga_id} already reserved a different trade")

    @workflow.signal(name=RESERVATION_ADMITTED)
    def reservation_admitted(self, request: TradeRequest) -> None:
        """A saga the hot process admitted against `admission` (its orders may already be out):
        recorded as is. Should this book refuse it (a limit lowered or a halt since the hot
        process last read), it is still recorded — the room is in use — and logged loudly."""
        state = self._state
        if request.saga_id in state.book.reservations or request.saga_id in state.finished_sagas:
            return
        now = workflow.now()
        decision = self._check(request, now)
        if not decision.approved:
            workflow.logger.error(
                "saga %s was admitted by the hot process but this book refuses it (%s): %s",
                request.saga_id,
                decision.code,
                decision.message,
            )
        state.book.reserve(request, now)
        self._wake = True

    @workflow.signal(name="saga_finished")
    async def saga_finished(self, finished: SagaFinished) -> None:
        """A repeated report is ignored; a saga we never reserved for still counts for the breaker."""
        self._wake = True
        await self._finish(finished)

    async def _finish(self, finished: SagaFinished) -> None:
        state = self._state
        if finished.saga_id in state.finished_sagas:
            workflow.logger.info("saga %s reported twice; ignored", finished.saga_id)
            return
        state.finished_sagas = [*state.finished_sagas[-(FINISHED_SAGAS_KEPT - 1) :], finished.saga_id]
        now = workflow.now()
        if state.book.settle(finished, now) is None:
            workflow.logger.warning("saga %s finished without a reservation", finished.saga_id)
        if state.breaker.record(finished, state.limits, now):
            workflow.logger.error("circuit breaker tripped: %s", state.breaker.reason)
            await self._gate_changed(SUPERVISOR, "breaker_tripped")

    @workflow.signal(name="sync_account")
    def sync_account(self, snapshot: AccountSnapshot) -> None:
        self._state.book.sync(snapshot)
        self._wake = True

    # --- operator interface ---------------------------------------------------------------

    @workflow.update(name="set_limit")
    async def set_limit(self, change: LimitChange) -> Limits:
        """Applied at once (durable in history); the audit record follows."""
        before = getattr(self._state.limits, change.key)
        self._state.limits = apply_limit_change(self._state.limits, change)
        self._wake = True  # a new cool-down may move the breaker's reopening time
        after = getattr(self._state.limits, change.key)
        record = AuditRecord(
            tenant_id=self._params.tenant_id,
            actor=change.actor,
            action="limit_changed",
            subject=change.key,
            details={"from": str(before), "to": str(after)},
        )
        try:
            await workflow.execute_activity_method(
                RiskActivities.record_audit,
                record,
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=PUBLISH_RETRY,
            )
        except ActivityError:
            workflow.logger.exception("could not record the audit event for %s", change.key)
        return self._state.limits

    @set_limit.validator
    def _validate_limit(self, change: LimitChange) -> None:
        if not change.actor.strip():
            raise ValueError("say who is changing the limit (actor)")
        apply_limit_change(self._state.limits, change)

    @workflow.update(name="set_kill_switch")
    async def set_kill_switch(self, change: KillSwitchChange) -> RiskStatus:
        """Returns once the new state is in the gate store, so every gate sees it within its poll interval."""
        self._state.kill_switch = change.engaged
        self._state.kill_reason = change.reason if change.engaged else ""
        await self._gate_changed(change.actor, "kill_switch_on" if change.engaged else "kill_switch_off")
        return self.status()

    @set_kill_switch.validator
    def _validate_kill(self, change: KillSwitchChange) -> None:
        if change.engaged and not change.reason.strip():
            raise ValueError("engaging the kill switch needs a reason")
        if not change.actor.strip():
            raise ValueError("say who is changing the kill switch (actor)")

    @workflow.update(name="reset_breaker")
    async def reset_breaker(self, actor: str) -> RiskStatus:
        self._state.breaker.reset()
        await self._gate_changed(actor, "breaker_reset")
        return self.status()

    @reset_breaker.validator
    def _validate_reset(self, actor: str) -> None:
        if not actor.strip():
            raise ValueError("say who is resetting the breaker (actor)")
        if not self._state.breaker.is_open(self._state.limits, workflow.now()):
            raise ValueError("the circuit breaker is not open")

    @workflow.query(name="state")
    def status(self) -> RiskStatus:
        state = self._state
        now = workflow.now()
        totals = state.book.totals()
        return RiskStatus(
            tenant_id=self._params.tenant_id,
            kill_switch=state.kill_switch,
            kill_reason=state.kill_reason,
            breaker_open=state.breaker.is_open(state.limits, now),
            breaker_reason=state.breaker.reason,
            breaker_tripped_at=state.breaker.tripped_at,
            breaker_reopens_at=state.breaker.reopens_at(state.limits),
            open_sagas=sorted(state.book.reservations),
            contracts=totals.contracts,
            exposure=totals.at_risk,
            exposure_by_venue=dict(totals.venue_at_risk),
            balances=dict(state.book.balances),
            net_pnl_today=state.book.net_pnl_on(now.date()),
            gate_version=state.gate_version,
            published_version=self._published,
            generation=state.generation,
        )

    @workflow.query(name="admission")
    def admission(self, pending: list[str]) -> AdmissionView:
        state = self._state
        known = set(state.book.reservations) | set(state.finished_sagas)
        return AdmissionView(
            limits=state.limits,
            book=state.book,
            kill_switch=state.kill_switch,
            breaker_open=state.breaker.is_open(state.limits, workflow.now()),
            seen=[saga_id for saga_id in pending if saga_id in known],
        )

    @workflow.query(name="limits")
    def limits(self) -> Limits:
        return self._state.limits

    @workflow.query(name="pnl")
    def pnl(self) -> PnlReport | None:
        return self._state.pnl

    # --- internals ------------------------------------------------------------------------

    async def _sleep(self) -> None:
        """Until a handler wakes us, or the next timed duty (P&L, breaker cool-down, republish)."""
        now = workflow.now()
        state = self._state
        if self._params.pnl_interval_seconds and state.next_pnl_at is None:
            state.next_pnl_at = now + timedelta(seconds=self._params.pnl_interval_seconds)
        if self._params.account_interval_seconds and state.next_account_at is None:
            state.next_account_at = now  # balances are needed before the first decision
        if self._params.orphan_check_seconds and state.next_orphan_check_at is None:
            state.next_orphan_check_at = now + timedelta(seconds=self._params.orphan_check_seconds)
        timed = (
            state.next_pnl_at,
            state.next_account_at,
            state.next_orphan_check_at,
            state.breaker.reopens_at(state.limits),
        )
        deadlines = [t for t in timed if t is not None]
        if self._needs_republish():
            deadlines.append(now + REPUBLISH_AFTER)
        timeout = max(min(deadlines) - now, timedelta(0)) if deadlines else None
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._wake, timeout=timeout)
        self._wake = False

    def _needs_republish(self) -> bool:
        """The newest state is not stored and no publication is under way (a failed one wakes us)."""
        return self._published < self._state.gate_version and not self._publishing

    def _bump_gate_version(self) -> None:
        """Microseconds of workflow time (at least +1): a supervisor started afresh for a tenant still
        publishes versions above its predecessor's, so its gate states are not ignored as old."""
        now_us = (workflow.now() - EPOCH) // timedelta(microseconds=1)
        self._state.gate_version = max(self._state.gate_version + 1, now_us)

    async def _recover_halt(self) -> None:
        """A fresh supervisor keeps a halt its predecessor published: a restart must never un-kill."""
        stored = await workflow.execute_activity_method(
            RiskActivities.read_gate_state,
            self._params.tenant_id,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=PUBLISH_RETRY,
        )
        if stored is None:
            return
        state = self._state
        if stored.kill_switch:
            state.kill_switch, state.kill_reason = True, stored.kill_reason
        if stored.breaker_open:
            state.breaker.trip(workflow.now(), f"{stored.breaker_reason} (open before the supervisor restarted)")

    async def _gate_changed(self, actor: str, action: str) -> None:
        self._bump_gate_version()
        self._wake = True  # the main loop re-arms its timers (a tripped breaker may have a cool-down)
        await self._publish(actor, action)

    async def _publish(self, actor: str, action: str) -> None:
        """Write the gate state; on failure the main loop tries again (gates fail closed meanwhile)."""
        state = self._state
        now = workflow.now()
        gate = GateState(
            tenant_id=self._params.tenant_id,
            version=state.gate_version,
            kill_switch=state.kill_switch,
            kill_reason=state.kill_reason,
            breaker_open=state.breaker.is_open(state.limits, now),
            breaker_reason=state.breaker.reason,
            updated_at=now,
        )
        self._publishing += 1
        try:
            await workflow.execute_activity_method(
                RiskActivities.publish_gate_state,
                GatePublication(state=gate, actor=actor, action=action),
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=PUBLISH_RETRY,
            )
        except ActivityError:
            workflow.logger.exception("could not publish gate state version %d", gate.version)
            self._wake = True
            return
        finally:
            self._publishing -= 1
        self._published = max(self._published, gate.version)

    async def _sync_account(self) -> None:
        """The snapshot is dated by workflow time before the reads, the clock completions are stamped
        with, so sagas completing meanwhile are re-applied (see RiskBook.sync)."""
        started = workflow.now()
        try:
            snapshot = await workflow.execute_activity_method(
                RiskActivities.fetch_account,
                self._params.tenant_id,
                start_to_close_timeout=timedelta(seconds=20),
                retry_policy=RetryPolicy(maximum_attempts=2),
            )
        except ActivityError:
            workflow.logger.exception("account sync failed; keeping the last balances until the next one")
        else:
            if snapshot is not None:
                self._state.book.sync(snapshot.model_copy(update={"as_of": started}))
        self._state.next_account_at = workflow.now() + timedelta(seconds=self._params.account_interval_seconds)

    async def _release_orphans(self) -> None:
        """Reservations of sagas that closed without reporting (terminated, timed out) would hold
        room forever: they are released as failures, which the breaker counts."""
        cutoff = workflow.now() - ORPHAN_GRACE
        suspects = sorted(s for s, r in self._state.book.reservations.items() if r.reserved_at <= cutoff)
        if suspects:
            try:
                closed = await workflow.execute_activity_method(
                    RiskActivities.closed_sagas,
                    suspects,
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=RetryPolicy(maximum_attempts=2),
                )
            except ActivityError:
                workflow.logger.exception("could not check open sagas; next time")
                closed = []
            for saga_id in closed:
                workflow.logger.error("saga %s closed without reporting: its reservation is released", saga_id)
                await self._finish(SagaFinished(saga_id=saga_id, outcome=SagaOutcome.FAILED))
        self._state.next_orphan_check_at = workflow.now() + timedelta(seconds=self._params.orphan_check_seconds)

    async def _snapshot_pnl(self) -> None:
        try:
            self._state.pnl = await workflow.execute_activity_method(
                RiskActivities.snapshot_pnl,
                self._params.tenant_id,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_attempts=2),
            )
        except ActivityError:
            workflow.logger.exception("P&L snapshot failed; next one at the next interval")
        self._state.next_pnl_at = workflow.now() + timedelta(seconds=self._params.pnl_interval_seconds)
