"""A confirmation runs once, for its own user, before it expires; everything else does nothing."""

from __future__ import annotations

from control.app.access import Caller
from control.telegram.confirmations import Confirmations, Pending


async def _noop(caller: Caller) -> str:
    return "ran"


def test_a_confirmation_is_taken_once_by_its_own_user_before_expiry() -> None:
    now = [100.0]
    confirmations = Confirmations(ttl_s=10, clock=lambda: now[0])
    token = confirmations.ask("7", "Place order?", {"Place order": _noop})
    assert confirmations.take(token, "8") == "this confirmation belongs to someone else: nothing was done"
    taken = confirmations.take(token, "7")
    assert isinstance(taken, Pending) and taken.what == "Place order?" and list(taken.choices) == ["Place order"]
    assert "already used" in str(confirmations.take(token, "7"))
    late = confirmations.ask("7", "Lift it?", {"Lift it": _noop})
    now[0] += 10
    assert "expired" in str(confirmations.take(late, "7"))
    assert "already used" in str(confirmations.take(late, "7"))


def test_cancel_only_by_its_user_and_expired_ones_are_forgotten() -> None:
    now = [0.0]
    confirmations = Confirmations(ttl_s=5, clock=lambda: now[0])
    token = confirmations.ask("7", "Follow?", {"Follow": _noop})
    assert not confirmations.cancel(token, "8")
    assert confirmations.cancel(token, "7") and not confirmations.cancel(token, "7")
    stale = confirmations.ask("7", "x", {"x": _noop})
    now[0] = 6
    confirmations.ask("7", "y", {"y": _noop})  # asking again drops what expired
    assert "already used" in str(confirmations.take(stale, "7"))
