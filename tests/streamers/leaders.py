"""What the leader-source tests share: a sink that can fail on demand, and waiting for a condition."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from copytrade.fills import LeaderFill


class Sink:
    def __init__(self, fail: int = 0) -> None:
        self.fills: list[LeaderFill] = []
        self.fail = fail

    async def __call__(self, fill: LeaderFill) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("temporal unreachable")
        self.fills.append(fill)


async def until(check: Callable[[], object], timeout: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
