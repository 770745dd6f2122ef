"""What every leader source shares: the sink it hands fills to, its counts, and the one deduplication.

Sources (RTDS, Data API, chain, Kalshi `fill` channel and `/portfolio/fills`) see the same fill up to
three times. `LeaderFeed` remembers the identities it handed on, so a repeated sighting costs no
Temporal round trip; it is only a fast path — the copy's workflow id (from the same identity, with a
reuse policy that rejects duplicates) is what makes a copy happen once across restarts and processes.
A fill whose hand-off raised is not remembered: the next sighting offers it again.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field

from copytrade.fills import FillSource, Ignored, LeaderFill

log = logging.getLogger(__name__)

FillSink = Callable[[LeaderFill], Awaitable[object]]
Leaders = Callable[[], Collection[str]]


@dataclass
class SourceCounts:
    """Per source: fills handed on, activity ignored (with the reasons counted), malformed input, errors."""

    fills: int = 0
    ignored: int = 0
    malformed: int = 0
    errors: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def ignore(self, ignored: Ignored) -> None:
        self.ignored += 1
        self.reasons[ignored.kind] = self.reasons.get(ignored.kind, 0) + 1


@dataclass
class FeedCounts:
    offered: int = 0
    handed: int = 0
    repeated: int = 0
    failed: int = 0
    by_source: dict[FillSource, int] = field(default_factory=dict)


class LeaderFeed:
    """One stream of leader fills out of every source's sightings."""

    def __init__(self, sink: FillSink, *, remember: int = 200_000) -> None:
        self._sink = sink
        self._remember = remember
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.counts = FeedCounts()

    async def offer(self, fill: LeaderFill) -> bool:
        """True when this sighting was handed on (the first one of its fill); raises what the sink raised."""
        counts = self.counts
        counts.offered += 1
        counts.by_source[fill.source] = counts.by_source.get(fill.source, 0) + 1
        identity = fill.identity
        if identity in self._seen:
            counts.repeated += 1
            return False
        try:
            await self._sink(fill)
        except Exception:
            counts.failed += 1
            raise
        self._seen[identity] = None
        if len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        counts.handed += 1
        return True
