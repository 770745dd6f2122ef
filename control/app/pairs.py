"""Pairs: propose candidates from both venues' listings, review them, confirm or reject.

Only confirmed pairs are traded. In paper mode, candidates the matcher is sure of and that carry
no resolution-risk flag are confirmed automatically (the sandbox's twin markets are the same
question by construction); live, only pairs a person confirmed are traded.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from control.app.errors import NotFound, OperationError
from domain.models import Market, MarketPair, PairStatus
from matching.candidates import CandidateGenerator
from matching.pairs import PairNotFoundError, PairRepository
from venues.kalshi.client import KalshiClient
from venues.kalshi.parse import parse_events_page, parse_markets_page
from venues.polymarket.client import PolymarketClient
from venues.polymarket.parse import gamma_events, gamma_markets

AUTO_CONFIRM_CONFIDENCE = Decimal("0.9")
AUTO_CONFIRMED_BY = "paper-mode auto-confirm"


class Pairs:
    """Pair operations over one repository (pairs are market knowledge, shared by every tenant)."""

    def __init__(self, repository: PairRepository) -> None:
        self._repository = repository

    async def suggest(
        self, polymarket: list[Market], kalshi: list[Market], *, top_k: int = 3, min_confidence: float = 0.5
    ) -> list[MarketPair]:
        """Match the listings and store the candidates; pairs already decided keep their decision."""
        candidates = CandidateGenerator(polymarket).generate(kalshi, top_k=top_k, min_confidence=min_confidence)
        return [await self._repository.suggest(c.to_pair()) for c in candidates]

    async def suggest_listings(
        self, polymarket: Any, kalshi: Any, *, top_k: int = 3, min_confidence: float = 0.5
    ) -> tuple[list[MarketPair], list[str]]:
        """`suggest` from both venues' listings as they answer them (JSON); what is not a listing is refused."""
        try:
            poly, rejected = polymarket_listing(polymarket)
            kalshi_markets = kalshi_listing(kalshi)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise OperationError(f"not a Gamma and a Kalshi market listing: {exc}") from None
        return await self.suggest(poly, kalshi_markets, top_k=top_k, min_confidence=min_confidence), rejected

    async def list_pairs(self, status: PairStatus | None = None) -> list[MarketPair]:
        return await self._repository.list_pairs(status)

    async def decide(self, pair_id: str, status: PairStatus, by: str) -> MarketPair:
        try:
            return await self._repository.decide(pair_id, status, by)
        except PairNotFoundError:
            raise NotFound(f"no pair {pair_id}") from None
        except ValueError as exc:
            raise OperationError(str(exc)) from None

    async def discover(
        self, polymarket: PolymarketClient, kalshi: KalshiClient, *, auto_confirm: bool
    ) -> list[MarketPair]:
        """Suggest the best candidate per Kalshi market from both live listings, confirm the sure ones
        when `auto_confirm` (paper mode), and return every confirmed pair."""
        poly: list[Market] = []
        async for page in polymarket.iter_gamma_markets({"closed": "false"}):
            poly.extend(page.markets)
        for candidate in CandidateGenerator(poly).generate(await kalshi.get_markets(status="open"), top_k=1):
            pair = await self._repository.suggest(candidate.to_pair())
            sure = candidate.confidence >= AUTO_CONFIRM_CONFIDENCE and not candidate.risk_flags
            if auto_confirm and sure and pair.status is PairStatus.CANDIDATE:
                await self._repository.decide(pair.pair_id, PairStatus.CONFIRMED, AUTO_CONFIRMED_BY)
        return await self._repository.list_pairs(PairStatus.CONFIRMED)


def polymarket_listing(raw: Any) -> tuple[list[Market], list[str]]:
    """A Gamma `/events` or `/markets` response: its markets, and the listings it rejected (why)."""
    items = raw.get("events", raw.get("data", raw)) if isinstance(raw, dict) else raw
    is_events = isinstance(items, list) and any(isinstance(i, dict) and "markets" in i for i in items)
    page = gamma_events(raw) if is_events else gamma_markets(raw)
    return page.markets, [str(r) for r in page.rejected]


def kalshi_listing(raw: Any) -> list[Market]:
    """A Kalshi `/markets` page, or an `/events` page with nested markets."""
    if isinstance(raw, dict) and "events" in raw:
        return [m for event in parse_events_page(raw).items for m in event.markets]
    return list(parse_markets_page(raw).items)
