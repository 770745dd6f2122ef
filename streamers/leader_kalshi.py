"""A Kalshi leader's trades, read with the read-only API key its follower provided.

Kalshi publishes no trades attributed to accounts, so a leader is only visible through its own
key: the private `fill` channel (account-wide, the push path) and `GET /portfolio/fills` polled
from a persisted cursor (the catch-up: what the channel missed while disconnected, or while this
process was down). Both name a fill by the same id, so the feed copies it once.

The cursor is the newest fill second handed on; the poll reads from it inclusive (Kalshi's `min_ts`),
so a fill landing in that second is never missed, and the repeats are the feed's to drop. A leader
seen for the first time starts `lookback_s` back: a new follow copies what is about to happen.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from copytrade.cursors import SecondCursors, SqlCursorStore
from copytrade.fills import FillSource, LeaderFill
from copytrade.kalshi_fills import kalshi_leader_fill
from copytrade.sources import FillSink, Leaders, SourceCounts
from domain.accounts import DEFAULT_TENANT, TenantId
from domain.models import Fill
from venues.kalshi.auth import KalshiSigner
from venues.kalshi.client import KalshiClient
from venues.kalshi.parse import FillUpdate, WsMessage
from venues.kalshi.stream import KalshiStream

log = logging.getLogger(__name__)

FILL_CHANNEL = "fill"


class KalshiLeaderSource:
    """One leader account: run `run()` as a task, end it with `stop()`."""

    def __init__(
        self,
        leader: str,
        client: KalshiClient,
        sink: FillSink,
        *,
        ws_url: str,
        signer: KalshiSigner,
        cursors: SqlCursorStore | None = None,
        owner: TenantId = DEFAULT_TENANT,
        interval_s: float = 5.0,
        page_size: int = 200,
        lookback_s: int = 60,
        clock: Callable[[], float] = time.time,
        **stream: Any,
    ) -> None:
        self.leader = leader
        self._client = client
        self._sink = sink
        self._cursors = SecondCursors(cursors, owner, FillSource.KALSHI_REST, lookback_s, clock)
        self._interval = interval_s
        self._page = page_size
        self._handing: set[asyncio.Task[bool]] = set()
        self.counts = SourceCounts()
        self.rounds = 0
        self.stream = KalshiStream(
            ws_url, (), signer=signer, channels=(FILL_CHANNEL,), on_message=self._on_message, **stream
        )

    @property
    def malformed(self) -> int:
        """Rows of either path that did not parse (never handed on, never an order)."""
        return self.counts.malformed + self.stream.stats.parse_errors

    async def run(self) -> None:
        """Until cancelled: the channel, and the poll that covers what it misses."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.stream.run())
            group.create_task(self._poll_forever())

    async def stop(self) -> None:
        await self.stream.stop()
        for task in list(self._handing):
            task.cancel()

    def _on_message(self, message: WsMessage) -> None:
        """The stream's listener must not block: each fill is handed on in its own task."""
        if not isinstance(message, FillUpdate):
            return
        task = asyncio.get_running_loop().create_task(
            self._hand(message.fill, FillSource.KALSHI_WS, message.post_position)
        )
        self._handing.add(task)
        task.add_done_callback(self._handing.discard)

    async def _hand(self, fill: Fill, source: FillSource, post_position: Decimal | None = None) -> bool:
        try:
            leader_fill: LeaderFill = kalshi_leader_fill(self.leader, fill, source, post_position)
            await self._sink(leader_fill)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.counts.errors += 1
            log.exception("Kalshi fill %s of %s not handed on; the poll offers it again", fill.fill_id, self.leader)
            return False
        self.counts.fills += 1
        return True

    async def _poll_forever(self) -> None:
        while True:
            await self.poll()
            await asyncio.sleep(self._interval)

    async def poll(self) -> None:
        """One catch-up round; a failed read or hand-off keeps the cursor where it was."""
        self.rounds += 1
        try:
            await self._catch_up()
        except asyncio.CancelledError:
            raise
        except Exception:
            self.counts.errors += 1
            log.exception("Kalshi catch-up of %s failed; its cursor stays where it was", self.leader)

    async def _catch_up(self) -> None:
        """Pages come newest first: every fill since the cursor is read before the cursor moves."""
        start = await self._cursors.get(self.leader)
        newest, cursor, complete = start, None, True
        seen: set[str] = set()
        while True:
            page, rejected = await self._client.fills_page(min_ts=start, cursor=cursor, limit=self._page)
            self.counts.malformed += len(rejected)
            for exc in rejected:
                log.warning("Kalshi fill of %s rejected: %s", self.leader, exc)
            for fill in page.items:
                complete = await self._hand(fill, FillSource.KALSHI_REST) and complete
                newest = max(newest, int(fill.filled_at.timestamp()))
            cursor = page.cursor
            if cursor is None:
                break
            if cursor in seen:
                raise RuntimeError(f"/portfolio/fills repeated cursor {cursor!r}: paging stopped")
            seen.add(cursor)
        if complete:
            await self._cursors.put(self.leader, newest)


class KalshiLeaders:
    """One source per followed Kalshi leader whose read-only key is configured, started and stopped as
    follows change (re-read every `interval_s`); a followed leader without a key is reported once."""

    def __init__(
        self,
        leaders: Leaders,
        keys: Mapping[str, KalshiSigner],
        sink: FillSink,
        *,
        api_url: str,
        ws_url: str,
        cursors: SqlCursorStore | None = None,
        interval_s: float = 5.0,
        poll_interval_s: float = 5.0,
    ) -> None:
        self._leaders = leaders
        self._keys = keys
        self._sink = sink
        self._api_url = api_url
        self._ws_url = ws_url
        self._cursors = cursors
        self._interval = interval_s
        self._poll_interval = poll_interval_s
        self.sources: dict[str, KalshiLeaderSource] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._clients: dict[str, KalshiClient] = {}
        self.keyless: set[str] = set()

    async def run(self) -> None:
        try:
            while True:
                await self.reconcile()
                await asyncio.sleep(self._interval)
        finally:
            for leader in list(self.sources):
                await self._stop(leader)

    async def reconcile(self) -> None:
        """Sources for the leaders followed now; one that died is replaced (its cursor says where it was)."""
        for leader, task in list(self._tasks.items()):
            if task.done():
                await self._stop(leader)
        followed = set(self._leaders())
        for leader in sorted(followed - set(self.sources)):
            signer = self._keys.get(leader)
            if signer is None:
                if leader not in self.keyless:
                    self.keyless.add(leader)
                    log.warning("Kalshi leader %s is followed but no read-only key is configured for it", leader)
                continue
            client = self._clients[leader] = KalshiClient(self._api_url, signer=signer)
            source = self.sources[leader] = KalshiLeaderSource(
                leader,
                client,
                self._sink,
                ws_url=self._ws_url,
                signer=signer,
                cursors=self._cursors,
                interval_s=self._poll_interval,
            )
            self._tasks[leader] = asyncio.create_task(source.run(), name=f"kalshi-leader-{leader}")
        for leader in sorted(set(self.sources) - followed):
            await self._stop(leader)
        self.keyless &= followed

    async def _stop(self, leader: str) -> None:
        source = self.sources.pop(leader)
        task = self._tasks.pop(leader)
        await source.stop()
        task.cancel()
        await asyncio.wait([task])
        if not task.cancelled() and task.exception() is not None:
            log.error("Kalshi leader %s source died", leader, exc_info=task.exception())
        await self._clients.pop(leader).aclose()
