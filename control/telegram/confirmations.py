"""One-time, expiring confirmations behind inline buttons.

Anything that moves money or removes a safety is shown first (what will happen, at what price and
worst-case cost) and runs only when its own user presses its button before it expires. A token is
taken once: a second press, a replayed callback or a press after expiry does nothing.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from control.app.access import Caller

Action = Callable[[Caller], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Pending:
    telegram_id: str
    what: str
    choices: dict[str, Action]  # button label -> what it does
    expires_at: float


class Confirmations:
    def __init__(self, ttl_s: float = 120.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._pending: dict[str, Pending] = {}

    def ask(self, telegram_id: str, what: str, choices: dict[str, Action]) -> str:
        """A fresh token for one of `choices`; expired ones are dropped on the way."""
        now = self._clock()
        self._pending = {k: p for k, p in self._pending.items() if p.expires_at > now}
        token = secrets.token_urlsafe(12)
        self._pending[token] = Pending(telegram_id, what, choices, now + self.ttl_s)
        return token

    def take(self, token: str, telegram_id: str) -> Pending | str:
        """The pending choices, removed (one press decides); or why there are none, said to whoever pressed."""
        pending = self._pending.get(token)
        if pending is None:
            return "this button was already used or is no longer valid: nothing was done"
        if pending.telegram_id != telegram_id:
            return "this confirmation belongs to someone else: nothing was done"
        del self._pending[token]
        if pending.expires_at <= self._clock():
            return "this confirmation expired: nothing was done; ask again"
        return pending

    def cancel(self, token: str, telegram_id: str) -> bool:
        pending = self._pending.get(token)
        if pending is None or pending.telegram_id != telegram_id:
            return False
        del self._pending[token]
        return True
