"""Polymarket leaders' trades from RTDS (`activity`/`trades`), the push path: the lowest latency, no guarantee.

RTDS is a firehose of every trade on the venue with no per-wallet filter, so rows are kept only when
their proxy wallet is followed. It can drop messages or fall silent while still answering pings;
nothing here depends on it: the Data API poller and the chain fill what it misses, and a hand-off
that fails is left to them too (logged and counted, the stream goes on).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from copytrade.fills import FillSource, Ignored
from copytrade.polymarket_rows import leader_fill
from copytrade.sources import FillSink, Leaders, SourceCounts
from venues.polymarket import parse
from venues.polymarket.constants import RTDS_WS_URL
from venues.polymarket.messages import PolymarketParseError, RtdsMessage
from venues.polymarket.streams import RtdsStream

log = logging.getLogger(__name__)

SUBSCRIPTIONS = ({"topic": "activity", "type": "trades"},)


class RtdsLeaderSource:
    def __init__(self, leaders: Leaders, sink: FillSink, *, url: str = RTDS_WS_URL, **stream: Any) -> None:
        self._leaders = leaders
        self._sink = sink
        self.counts = SourceCounts()
        self.last_message_ns = 0
        self.stream = RtdsStream(SUBSCRIPTIONS, self.on_message, url=url, **stream)

    async def run(self) -> None:
        await self.stream.run()

    async def stop(self) -> None:
        await self.stream.stop()

    async def on_message(self, message: RtdsMessage) -> None:
        self.last_message_ns = time.monotonic_ns()
        if message.topic != "activity" or message.type not in ("trades", "orders_matched"):
            return
        wallet = message.payload.get("proxyWallet")
        if not isinstance(wallet, str) or wallet.lower() not in self._leaders():
            return
        try:
            fill = leader_fill(parse.wallet_activity(message.payload), FillSource.RTDS)
        except PolymarketParseError as exc:
            self.counts.malformed += 1
            log.warning("RTDS trade of a followed wallet rejected: %s", exc)
            return
        if isinstance(fill, Ignored):
            self.counts.ignore(fill)
            return
        try:
            await self._sink(fill)
        except Exception:
            self.counts.errors += 1
            log.exception("RTDS fill %s not handed on; the Data API poll will offer it again", fill.identity)
            return
        self.counts.fills += 1
