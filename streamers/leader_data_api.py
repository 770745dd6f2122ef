"""Polymarket leaders' trades from the Data API (`/activity`), polled: the catch-up and gap-fill path.

Per leader, a cursor (the newest trade second handed on) is persisted, so a restart resumes where it
stopped instead of copying history or missing what happened while down. Pages are read oldest first
from the cursor second inclusive: a trade landing while we page goes to the end, and the second at the
cursor is read again — repeats (also from pages that overlap) are the feed's to drop. A leader seen for
the first time starts `lookback_s` back: a new follow copies what is about to happen, not history.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from copytrade.cursors import SecondCursors, SqlCursorStore
from copytrade.fills import FillSource, Ignored
from copytrade.polymarket_rows import leader_fill
from copytrade.sources import FillSink, Leaders, SourceCounts
from domain.accounts import DEFAULT_TENANT, TenantId
from venues.polymarket.client import PolymarketClient
from venues.polymarket.messages import PolymarketParseError

log = logging.getLogger(__name__)

MAX_OFFSET = 10_000  # the Data API refuses offsets beyond this: restart the paging from the newest second


class DataApiLeaderSource:
    def __init__(
        self,
        client: PolymarketClient,
        leaders: Leaders,
        sink: FillSink,
        *,
        cursors: SqlCursorStore | None = None,
        owner: TenantId = DEFAULT_TENANT,
        interval_s: float = 2.0,
        page_size: int = 100,
        lookback_s: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._leaders = leaders
        self._sink = sink
        self._cursors = SecondCursors(cursors, owner, FillSource.DATA_API, lookback_s, clock)
        self._interval = interval_s
        self._page = page_size
        self.counts = SourceCounts()
        self.rounds = 0

    async def run(self) -> None:
        """Until cancelled: one round over every followed leader, then a pause."""
        while True:
            await self.poll()
            await asyncio.sleep(self._interval)

    async def poll(self) -> None:
        """One round; a leader whose read or hand-off fails keeps its cursor and is tried next round."""
        self.rounds += 1
        for wallet in sorted(self._leaders()):
            try:
                await self._catch_up(wallet)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.counts.errors += 1
                log.exception("Data API catch-up of %s failed; its cursor stays where it was", wallet)

    async def _catch_up(self, wallet: str) -> None:
        start = await self._cursors.get(wallet)
        newest, offset = start, 0
        try:
            while True:
                rows, returned = await self._client.wallet_activity_page(
                    wallet, start_s=start, offset=offset, limit=self._page
                )
                self.counts.malformed += returned - len(rows)
                for row in rows:
                    newest = max(newest, row.timestamp_s)
                    try:
                        fill = leader_fill(row, FillSource.DATA_API)
                    except PolymarketParseError as exc:  # a poison row must not hold the cursor back forever
                        self.counts.malformed += 1
                        log.warning("Data API row of %s rejected: %s", wallet, exc)
                        continue
                    if isinstance(fill, Ignored):
                        self.counts.ignore(fill)
                    else:
                        await self._sink(fill)
                        self.counts.fills += 1
                if returned < self._page:
                    return
                offset += self._page
                if offset >= MAX_OFFSET:
                    if newest == start:
                        log.warning(
                            "%s has more than %d trades in second %d; the rest is left to the chain",
                            wallet,
                            MAX_OFFSET,
                            start,
                        )
                        return
                    start, offset = newest, 0
        finally:
            await self._cursors.put(wallet, newest)
