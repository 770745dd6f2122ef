"""Reading one market as its venue lists it, for workflows that must check an order against it first."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.copies import MarketSource
from domain.models import Market, Venue
from venues.errors import VenueError

UNKNOWN_MARKET = "UnknownMarket"


class MarketRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    venue: Venue
    market_id: str


class MarketActivities:
    def __init__(self, markets: MarketSource) -> None:
        self._markets = markets

    @activity.defn(name="read_market")
    async def read_market(self, request: MarketRequest) -> Market:
        """A market the venue does not list is an answer, not a failure to retry."""
        try:
            return await self._markets(request.venue, request.market_id)
        except LookupError:
            raise _unknown(request) from None
        except VenueError as exc:
            if exc.status == 404:
                raise _unknown(request) from None
            raise


def _unknown(request: MarketRequest) -> ApplicationError:
    return ApplicationError(
        f"{request.venue.value} lists no market {request.market_id!r}", type=UNKNOWN_MARKET, non_retryable=True
    )
