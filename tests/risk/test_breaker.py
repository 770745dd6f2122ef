"""Circuit breaker: trips on N failures or a loss inside the window, not outside it; reset and cool-down."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from risk.breaker import CircuitBreaker
from risk.models import Limits, SagaFinished, SagaOutcome
from tests.risk.factories import T0

LIMITS = Limits(breaker_max_failures=3, breaker_window_seconds=60, breaker_max_loss=Decimal(10))


def failed(pnl: str = "0") -> SagaFinished:
    return SagaFinished(saga_id="s", outcome=SagaOutcome.COMPENSATED, realized_pnl=Decimal(pnl))


def ok(pnl: str = "0") -> SagaFinished:
    return SagaFinished(saga_id="s", outcome=SagaOutcome.COMPLETED, realized_pnl=Decimal(pnl))


def test_trips_on_the_nth_failure_within_the_window() -> None:
    breaker = CircuitBreaker()
    assert not breaker.record(failed(), LIMITS, T0)
    assert not breaker.record(ok(), LIMITS, T0 + timedelta(seconds=10))
    assert not breaker.record(failed(), LIMITS, T0 + timedelta(seconds=20))
    assert breaker.record(failed(), LIMITS, T0 + timedelta(seconds=59))
    assert breaker.is_open(LIMITS, T0 + timedelta(days=1))
    assert "3 failed" in breaker.reason


def test_failures_older_than_the_window_do_not_count() -> None:
    breaker = CircuitBreaker()
    breaker.record(failed(), LIMITS, T0)
    breaker.record(failed(), LIMITS, T0 + timedelta(seconds=1))
    assert not breaker.record(failed(), LIMITS, T0 + timedelta(seconds=60))
    assert not breaker.is_open(LIMITS, T0 + timedelta(seconds=60))
    assert len(breaker.events) == 2


def test_trips_on_net_loss_beyond_the_limit_fees_included() -> None:
    breaker = CircuitBreaker()
    assert not breaker.record(ok("-6"), LIMITS, T0)
    assert not breaker.record(ok("2"), LIMITS, T0)  # profits offset losses in the window
    assert not breaker.record(ok("-6"), LIMITS, T0)  # net -10: at the limit, not beyond
    fee_only = SagaFinished(saga_id="s", outcome=SagaOutcome.COMPLETED, fees=Decimal("0.01"))
    assert breaker.record(fee_only, LIMITS, T0)
    assert "lost 10.01" in breaker.reason


def test_reset_closes_and_forgets_the_window() -> None:
    breaker = CircuitBreaker()
    for _ in range(3):
        breaker.record(failed(), LIMITS, T0)
    breaker.reset()
    assert not breaker.is_open(LIMITS, T0)
    assert not breaker.record(failed(), LIMITS, T0)


def test_cooldown_closes_by_itself_only_after_it_passes() -> None:
    limits = LIMITS.model_copy(update={"breaker_cooldown_seconds": 300})
    breaker = CircuitBreaker()
    for _ in range(3):
        breaker.record(failed(), limits, T0)
    assert breaker.reopens_at(limits) == T0 + timedelta(seconds=300)
    assert not breaker.expire(limits, T0 + timedelta(seconds=299))
    assert breaker.is_open(limits, T0 + timedelta(seconds=299))
    assert breaker.expire(limits, T0 + timedelta(seconds=300))
    assert not breaker.is_open(limits, T0 + timedelta(seconds=300)) and breaker.tripped_at is None


def test_without_cooldown_it_never_closes_by_itself() -> None:
    breaker = CircuitBreaker()
    for _ in range(3):
        breaker.record(failed(), LIMITS, T0)
    assert breaker.reopens_at(LIMITS) is None
    assert not breaker.expire(LIMITS, T0 + timedelta(days=365))


@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.booleans(), st.integers(-6, 3)),  # seconds later, failed, net P&L
        max_size=30,
    ),
    st.integers(1, 4),
    st.integers(1, 60),
    st.integers(0, 12),
)
def test_trips_exactly_when_a_brute_force_window_says_so(
    steps: list[tuple[int, bool, int]], max_failures: int, window: int, max_loss: int
) -> None:
    limits = Limits(
        breaker_max_failures=max_failures, breaker_window_seconds=window, breaker_max_loss=Decimal(max_loss)
    )
    breaker = CircuitBreaker()
    seen: list[tuple[datetime, bool, Decimal]] = []
    now = T0
    expected_trip: datetime | None = None
    for gap, is_failure, pnl in steps:
        now += timedelta(seconds=gap)
        outcome = SagaOutcome.FAILED if is_failure else SagaOutcome.COMPLETED
        seen.append((now, is_failure, Decimal(pnl)))
        tripped = breaker.record(SagaFinished(saga_id="s", outcome=outcome, realized_pnl=Decimal(pnl)), limits, now)
        in_window = [e for e in seen if e[0] > now - timedelta(seconds=window)]
        should = sum(1 for e in in_window if e[1]) >= max_failures or -sum(e[2] for e in in_window) > max_loss
        if expected_trip is None and should:
            expected_trip = now
            assert tripped
        else:
            assert not tripped
        assert breaker.is_open(limits, now) == (expected_trip is not None)
    assert breaker.tripped_at == expected_trip
