"""A Kalshi leader's own fill (from its `fill` channel or `/portfolio/fills`) as a leader fill.

Kalshi has no token ids; the outcome the leader traded is named as every Kalshi token is
(`TICKER:yes`/`TICKER:no`), and the price is that outcome's, as the venue reports it. The fill id is
the same on both paths (the channel calls it `trade_id`), so both sightings are one fill.
"""

from __future__ import annotations

from decimal import Decimal

from copytrade.fills import FillSource, LeaderFill
from domain.models import Fill, Outcome, Venue
from venues.kalshi.parse import kalshi_token


def kalshi_leader_fill(leader: str, fill: Fill, source: FillSource, post_position: Decimal | None = None) -> LeaderFill:
    """`post_position` (the fill channel's, net: YES positive, NO negative) gives the leader's holding of
    the outcome after the fill, which a mirrored sell is sized from."""
    after = None
    if post_position is not None:
        after = max(post_position if fill.outcome is Outcome.YES else -post_position, Decimal(0))
    return LeaderFill(
        venue=Venue.KALSHI,
        leader=leader,
        market_id=fill.market_id,
        token_id=kalshi_token(fill.market_id, fill.outcome),
        side=fill.side,
        price=fill.price,
        size=fill.quantity,
        at=fill.filled_at,
        source=source,
        venue_fill_id=fill.fill_id,
        leader_position_after=after,
    )
