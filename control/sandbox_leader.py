"""Paper mode's sandbox leader: a trader on both sandbox venues whom the default tenant follows.

A first run with nothing configured must show copy trading working, not only arbitrage: this
leader buys and later sells the confirmed pairs' markets on both venues, at the top of the book,
through the sandboxes' admin API (the venues then publish its trades exactly as any leader's:
RTDS and the Data API on Polymarket, its own fill channel and fills listing on Kalshi). The
follows use the default rules, so some copies fill and some are skipped, each with its reason.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import httpx
from temporalio.client import Client

from activities.risk import BookSource
from control.app.copy import Copying
from control.paper import SANDBOX_LEADER_ACCOUNT, SANDBOX_LEADER_WALLET
from copytrade.rules import CopyRules
from domain.accounts import DEFAULT_TENANT
from domain.models import MarketPair, Outcome, Venue

log = logging.getLogger(__name__)

LEADER_SHARES = Decimal(20)
CENT = Decimal("0.01")
# each pair in turn: buy on Polymarket, buy on Kalshi, then sell both back
STEPS = (("BUY", Venue.POLYMARKET), ("BUY", Venue.KALSHI), ("SELL", Venue.POLYMARKET), ("SELL", Venue.KALSHI))


async def follow_sandbox_leader(client: Client, task_queue: str) -> None:
    """The default tenant follows the leader on both venues (following again changes nothing)."""
    copying = Copying(client, DEFAULT_TENANT)
    await copying.follow(Venue.POLYMARKET, SANDBOX_LEADER_WALLET, CopyRules(), task_queue)
    await copying.follow(Venue.KALSHI, SANDBOX_LEADER_ACCOUNT, CopyRules(), task_queue)


class SandboxLeader:
    def __init__(
        self,
        pairs: Sequence[MarketPair],
        books: BookSource,
        *,
        clob_url: str,
        kalshi_base_url: str,
        interval_s: float,
    ) -> None:
        if not pairs:
            raise ValueError("the sandbox leader trades confirmed pairs; there are none")
        self._pairs = pairs
        self._books = books
        self._clob = clob_url.rstrip("/")
        self._kalshi = kalshi_base_url.rstrip("/")
        self._interval = interval_s
        self.trades = 0
        self.refused = 0

    async def run(self) -> None:
        """Until cancelled; a trade the sandbox refuses (an empty book side) is logged and skipped."""
        steps = itertools.cycle([(pair, step) for pair in self._pairs for step in STEPS])
        async with httpx.AsyncClient(timeout=10) as http:
            while True:
                pair, (side, venue) = next(steps)
                try:
                    await self.trade(http, pair, side, venue)
                except (httpx.HTTPError, LookupError, ValueError) as exc:
                    self.refused += 1
                    log.info("sandbox leader: %s %s on %s not traded: %s", side, pair.pair_id, venue.value, exc)
                await asyncio.sleep(self._interval)

    async def trade(self, http: httpx.AsyncClient, pair: MarketPair, side: str, venue: Venue) -> None:
        market = pair.polymarket if venue is Venue.POLYMARKET else pair.kalshi
        book = await self._books(venue, market.market_id)
        if book is None:
            raise LookupError(f"no book for {market.market_id}")
        price = book.best_ask(Outcome.YES) if side == "BUY" else book.best_bid(Outcome.YES)
        if price is None:
            raise LookupError(f"no YES {'ask' if side == 'BUY' else 'bid'} on {market.market_id}")
        if venue is Venue.POLYMARKET:
            url = f"{self._clob}/_sandbox/leader-trades"
            body: dict[str, object] = {
                "wallet": SANDBOX_LEADER_WALLET,
                "token_id": market.yes_token,
                "side": side,
                "price": str(price),
                "size": str(LEADER_SHARES),
                "execute": True,
            }
        else:
            # the house rests the other side at this price; a buy pays the ask rounded up, a sell the bid down
            cents = int((price / CENT).to_integral_value(ROUND_CEILING if side == "BUY" else ROUND_FLOOR))
            url = f"{self._kalshi}/_sandbox/leader-trades"
            body = {
                "account": SANDBOX_LEADER_ACCOUNT,
                "ticker": market.market_id,
                "side": "yes",
                "action": side.lower(),
                "count": int(LEADER_SHARES),
                "price": min(max(cents, 1), 99),
            }
        response = await http.post(url, json=body)
        if response.status_code >= 400:
            raise ValueError(f"{response.status_code} {response.text[:200]}")
        self.trades += 1
