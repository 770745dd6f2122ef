"""Opportunity records leave the hot path: the caller never waits for the store, nothing is lost or reordered."""

from __future__ import annotations

import asyncio
import logging

import pytest

from arbitrage.opportunity import Opportunity, OutcomeKind
from streamers.recording import QueuedRecorder
from tests.fakes.recorder import InMemoryRecorder
from tests.workflows.saga_fixtures import opportunity


class GatedStore(InMemoryRecorder):
    """Writes only when the test opens the gate, so a caller that waited for it would hang."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def record_detected(self, opportunity: Opportunity) -> None:
        await self.gate.wait()
        await super().record_detected(opportunity)

    async def record_outcome(self, opportunity_id: str, kind: OutcomeKind, reason: str | None = None) -> None:
        await self.gate.wait()
        await super().record_outcome(opportunity_id, kind, reason)


async def test_the_caller_returns_before_the_store_writes_and_order_is_kept() -> None:
    store = GatedStore()
    recorder = QueuedRecorder(store)
    opp = opportunity(opportunity_id="opp-queued")
    await asyncio.wait_for(recorder.record_detected(opp), 0.5)
    await asyncio.wait_for(recorder.record_outcome(opp.opportunity_id, OutcomeKind.TAKEN, "arb-1"), 0.5)
    assert store.outcomes == [] and recorder.written == 0
    store.gate.set()
    await recorder.close()
    assert [(o.kind, o.reason) for o in store.history(opp.opportunity_id)] == [
        (OutcomeKind.DETECTED, None),
        (OutcomeKind.TAKEN, "arb-1"),
    ]
    assert (recorder.written, recorder.failures, recorder.pending) == (2, 0, 0)


async def test_a_failed_write_is_counted_and_logged_and_later_writes_still_happen(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = InMemoryRecorder()
    recorder = QueuedRecorder(store)
    opp = opportunity(opportunity_id="opp-after-failure")
    await recorder.record_outcome("never-detected", OutcomeKind.TAKEN)
    await recorder.record_detected(opp)
    with caplog.at_level(logging.ERROR, logger="streamers.recording"):
        await recorder.close()
    assert (recorder.written, recorder.failures) == (1, 1)
    assert "taken never-detected" in caplog.text
    assert [o.kind for o in store.history(opp.opportunity_id)] == [OutcomeKind.DETECTED]


async def test_close_gives_up_after_its_timeout_and_says_how_many_were_not_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = GatedStore()
    recorder = QueuedRecorder(store, close_timeout_s=0.05)
    await recorder.record_detected(opportunity(opportunity_id="opp-stuck-1"))
    await recorder.record_detected(opportunity(opportunity_id="opp-stuck-2"))
    with caplog.at_level(logging.ERROR, logger="streamers.recording"):
        await recorder.close()
    assert "1 records not written" in caplog.text
    assert store.outcomes == []


class TimedStore(InMemoryRecorder):
    """Notes when each write began."""

    def __init__(self) -> None:
        super().__init__()
        self.began: list[float] = []

    async def record_detected(self, opportunity: Opportunity) -> None:
        self.began.append(asyncio.get_running_loop().time())
        await super().record_detected(opportunity)

    async def record_outcome(self, opportunity_id: str, kind: OutcomeKind, reason: str | None = None) -> None:
        self.began.append(asyncio.get_running_loop().time())
        await super().record_outcome(opportunity_id, kind, reason)


async def test_writes_wait_until_the_trade_has_gone_then_follow_one_another() -> None:
    """The first record after a quiet spell waits `delay_s`; what queued up meanwhile follows at once."""
    store = TimedStore()
    recorder = QueuedRecorder(store, delay_s=0.2)
    loop = asyncio.get_running_loop()
    opp = opportunity(opportunity_id="opp-later")
    queued_at = loop.time()
    await recorder.record_detected(opp)
    await recorder.record_outcome(opp.opportunity_id, OutcomeKind.TAKEN, "arb-2")
    await recorder.close()
    first, second = store.began
    assert first - queued_at >= 0.2
    assert second - first < 0.1
    assert [o.kind for o in store.history(opp.opportunity_id)] == [OutcomeKind.DETECTED, OutcomeKind.TAKEN]
