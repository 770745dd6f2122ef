"""Saga fixes found by the chaos suite, pinned with the fast fake venues of tests/workflows."""

from __future__ import annotations

from decimal import Decimal

from arbitrage.saga import ArbState
from domain.models import Venue
from tests.workflows.test_arb_saga import FAST, Rig, rig  # noqa: F401  (rig is a fixture)


async def test_residual_within_tolerance_is_alerted(rig: Rig) -> None:  # noqa: F811
    """Chaos runs ended 'Completed' with fractions of a contract unmatched and nobody told: now an alert says so."""
    rig.venues[Venue.KALSHI].faults.fill_ratio = Decimal("0.9")
    status = await rig.run(FAST.model_copy(update={"hedge_tolerance": Decimal(2)}))
    assert status.state is ArbState.COMPLETED
    assert status.unmatched == 1
    assert status.alerts == ["left 1 contracts unmatched (within the hedge tolerance)"]


async def test_flat_saga_raises_no_alert(rig: Rig) -> None:  # noqa: F811
    status = await rig.run(FAST.model_copy(update={"hedge_tolerance": Decimal(2)}))
    assert status.state is ArbState.COMPLETED
    assert status.unmatched == 0 and status.alerts == []
