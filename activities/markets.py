"""Reading one market as its venue lists it, for workflows that must check an order against it first."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from temporalio import activity

from activities.copies import MarketSource
from domain.models import Market, Venue


class MarketRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    venue: Venue
    market_id: str


class MarketActivities:
    def __init__(self, markets: MarketSource) -> None:
        self._markets = markets

    @activity.defn(name="read_market")
    async def read_market(self, request: MarketRequest) -> Market:
        return await self._markets(request.venue, request.market_id)
