"""Circuit breaker over saga outcomes in a sliding time window.

It trips when `breaker_max_failures` failed or compensated sagas, or a net realized loss
beyond `breaker_max_loss`, fall within the last `breaker_window_seconds`; once open it
stays open until an operator resets it, or until the optional cool-down has passed.
Pure: the caller passes `now` (`workflow.now()` inside the supervisor), so it replays.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from pydantic import BaseModel, Field

from domain.models import UtcDatetime
from risk.models import Limits, SagaFinished


class BreakerEvent(BaseModel):
    at: UtcDatetime
    failed: bool
    net_pnl: Decimal


class CircuitBreaker(BaseModel):
    events: list[BreakerEvent] = Field(default_factory=list)
    tripped_at: UtcDatetime | None = None
    reason: str = ""

    def is_open(self, limits: Limits, now: UtcDatetime) -> bool:
        if self.tripped_at is None:
            return False
        cooldown = limits.breaker_cooldown_seconds
        return cooldown == 0 or now < self.tripped_at + timedelta(seconds=cooldown)

    def reopens_at(self, limits: Limits) -> UtcDatetime | None:
        """When an open breaker closes by itself (None: never, an operator must reset it)."""
        if self.tripped_at is None or limits.breaker_cooldown_seconds == 0:
            return None
        return self.tripped_at + timedelta(seconds=limits.breaker_cooldown_seconds)

    def record(self, finished: SagaFinished, limits: Limits, now: UtcDatetime) -> bool:
        """Count a saga's outcome; returns True when this outcome trips the breaker."""
        window_start = now - timedelta(seconds=limits.breaker_window_seconds)
        self.events = [e for e in self.events if e.at > window_start]
        self.events.append(BreakerEvent(at=now, failed=finished.outcome.is_failure, net_pnl=finished.net_pnl))
        if self.tripped_at is not None:
            return False
        failures = sum(1 for e in self.events if e.failed)
        loss = -sum((e.net_pnl for e in self.events), Decimal(0))
        if failures >= limits.breaker_max_failures:
            self.trip(now, f"{failures} failed sagas within {limits.breaker_window_seconds}s")
            return True
        if loss > limits.breaker_max_loss:
            self.trip(now, f"lost {loss} within {limits.breaker_window_seconds}s, limit {limits.breaker_max_loss}")
            return True
        return False

    def expire(self, limits: Limits, now: UtcDatetime) -> bool:
        """Close after the cool-down; returns True when it closed now."""
        if self.tripped_at is not None and not self.is_open(limits, now):
            self.reset()
            return True
        return False

    def reset(self) -> None:
        """Closed with an empty window: the failures that tripped it are not counted twice."""
        self.events = []
        self.tripped_at = None
        self.reason = ""

    def trip(self, now: UtcDatetime, reason: str) -> None:
        self.tripped_at = now
        self.reason = reason
