"""A leader's fill, whichever source saw it, under one identity; and what is not a trade.

The same fill reaches us up to three times on Polymarket (RTDS push, Data API catch-up, the
chain) and twice on Kalshi (the `fill` channel, `GET /portfolio/fills`). Its identity must not
depend on the source, or one trade would be copied twice: on Polymarket it is the transaction
hash plus the token and side (the Data API and RTDS carry no log index; the several
`OrderFilled` logs one taker order emits in a transaction are one fill of the leader's), on
Kalshi the fill id. The copy's workflow id and client order ids derive from that identity.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from pydantic import Field, field_validator

from domain.models import Frozen, Price, Side, UtcDatetime, Venue

TX_HASH = re.compile(r"^0x[0-9a-f]{64}$")


class FillSource(StrEnum):
    RTDS = "rtds"
    DATA_API = "data_api"
    CHAIN = "chain"
    KALSHI_WS = "kalshi_ws"
    KALSHI_REST = "kalshi_rest"


class LeaderFill(Frozen):
    """One fill of a followed leader, exact (Decimal) as the venue reported it."""

    venue: Venue
    leader: str = Field(min_length=1, max_length=64)
    market_id: str = Field(min_length=1)
    # the outcome bought or sold is its token (the Data API's outcome index is not always set)
    token_id: str = Field(min_length=1)
    side: Side
    price: Price
    size: Decimal = Field(gt=0)
    at: UtcDatetime
    source: FillSource
    # Polymarket: the transaction hash; Kalshi: the fill id
    venue_fill_id: str = Field(min_length=1, max_length=128)
    # the leader's shares of this outcome right after the fill, when the source tells (Kalshi's fill channel)
    leader_position_after: Decimal | None = Field(default=None, ge=0)

    @field_validator("leader")
    @classmethod
    def _leader(cls, value: str) -> str:
        return value.lower() if value.startswith("0x") else value

    @property
    def identity(self) -> str:
        """The same for every source that saw this fill."""
        if self.venue is Venue.POLYMARKET:
            return f"pm:{self.venue_fill_id.lower()}:{self.token_id}:{self.side.value}"
        return f"kx:{self.venue_fill_id}"

    @property
    def key(self) -> str:
        """A short digest of `identity` for workflow ids and client order ids (venues cap those at 64)."""
        return hashlib.sha256(self.identity.encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Ignored:
    """A leader's activity that is not a trade to copy, and why (recorded, never an order)."""

    leader: str
    kind: str
    reason: str
