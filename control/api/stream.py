"""The live stream (Server-Sent Events) of one tenant: what changed since the last look, once a second.

It reads through the same operations as every other route, so a stream never shows another
tenant's sagas, copies or alerts. A client that reconnects gets the current state first
(the latest page), then changes; a comment line every few seconds keeps proxies from closing it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel

from control.app.access import Caller
from control.app.errors import OperationError
from control.app.operations import Operations
from domain.book import BookSnapshot

POLL_S = 1.0
KEEPALIVE_EVERY = 10


class BookTop(BaseModel):
    venue: str
    market_id: str
    best_bid: Decimal | None
    best_ask: Decimal | None

    @classmethod
    def of(cls, book: BookSnapshot) -> BookTop:
        return cls(venue=book.venue.value, market_id=book.market_id, best_bid=book.best_bid(), best_ask=book.best_ask())


BookTops = Callable[[], Awaitable[list[BookTop]]]


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(jsonable_encoder(data), separators=(',', ':'))}\n\n"


async def event_stream(
    ops: Operations, caller: Caller, book_tops: BookTops | None = None, poll_s: float = POLL_S
) -> AsyncIterator[str]:
    sagas: dict[str, tuple[str, str]] = {}
    opportunities: dict[str, str] = {}
    copies: set[str] = set()
    last_alert = 0
    risk: Any = None
    tops: dict[tuple[str, str], BookTop] = {}
    tick = 0
    while True:
        latest_sagas = (await ops.sagas(caller, limit=50)).items
        for saga in reversed(latest_sagas):
            if sagas.get(saga.workflow_id) != (saga.state, saga.updated_at.isoformat()):
                yield sse("saga", saga)
        # only the latest page can change or grow, so only it is remembered
        sagas = {s.workflow_id: (s.state, s.updated_at.isoformat()) for s in latest_sagas}
        latest_opportunities = (await ops.opportunities(caller, limit=50)).items
        for opportunity in reversed(latest_opportunities):
            if opportunities.get(opportunity.id) != opportunity.outcome:  # found, then taken or skipped
                yield sse("opportunity", opportunity)
        opportunities = {o.id: o.outcome for o in latest_opportunities}
        latest_copies = (await ops.copies(caller, limit=50)).items
        for copy in reversed(latest_copies):
            if copy.fill_key not in copies:
                yield sse("copy", copy)
        copies = {c.fill_key for c in latest_copies}
        for alert in reversed((await ops.alerts(caller, limit=50)).items):
            if alert.id > last_alert:
                last_alert = alert.id
                yield sse("alert", alert)
        try:
            status = await ops.risk_status(caller)
        except OperationError as exc:
            status = None
            yield sse("problem", {"detail": str(exc)})
        if status is not None and status != risk:
            risk = status
            yield sse("risk", status)
        if book_tops is not None:
            for top in await book_tops():
                if tops.get((top.venue, top.market_id)) != top:
                    tops[(top.venue, top.market_id)] = top
                    yield sse("book", top)
        tick += 1
        if tick % KEEPALIVE_EVERY == 0:
            yield ": keep-alive\n\n"
        await asyncio.sleep(poll_s)
