"""Polymarket Data API / RTDS activity rows as leader fills, or as activity ignored with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import ValidationError

from copytrade.fills import FillSource, Ignored, LeaderFill
from domain.models import Side, Venue
from venues.polymarket.messages import PolymarketParseError, WalletActivity

NOT_TRADES = {
    "REDEEM": "redeems resolved shares (the position ends, nothing was traded)",
    "REWARD": "is a liquidity reward",
    "MAKER_REBATE": "is a maker rebate",
    "TAKER_REBATE": "is a taker rebate",
    "SPLIT": "splits collateral into both outcomes (no price, no view on the market)",
    "MERGE": "merges both outcomes back into collateral",
    "CONVERSION": "converts NegRisk positions (no trade at a price)",
    "YIELD": "is a yield payment",
}


def leader_fill(row: WalletActivity, source: FillSource) -> LeaderFill | Ignored:
    """A TRADE row becomes a fill; every other kind, or a trade without a size, is ignored with a reason.
    A row no fill can be made of (an overlong id, say) is a `PolymarketParseError`, as a row that does
    not parse is: the caller counts it as malformed and goes on."""
    if row.kind != "TRADE":
        reason = NOT_TRADES.get(row.kind, "is not a trade")
        return Ignored(row.wallet, row.kind, f"{row.kind} {reason}")
    if row.size <= 0 or not row.transaction_hash or not row.asset_id or row.is_buy is None:
        return Ignored(row.wallet, row.kind, "TRADE without size, transaction, token or side")
    try:
        return _fill(row, source)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise PolymarketParseError(f"data api row of {row.wallet} makes no fill: {where}: {problem['msg']}") from None
    except (ValueError, OverflowError, OSError):  # a timestamp no clock reaches
        raise PolymarketParseError(
            f"data api row of {row.wallet}: timestamp {row.timestamp_s} is out of range"
        ) from None


def _fill(row: WalletActivity, source: FillSource) -> LeaderFill:
    return LeaderFill(
        venue=Venue.POLYMARKET,
        leader=row.wallet,
        market_id=row.condition_id,
        token_id=row.asset_id,
        side=Side.BUY if row.is_buy else Side.SELL,
        price=row.price,
        size=row.size,
        at=datetime.fromtimestamp(row.timestamp_s, UTC),
        source=source,
        venue_fill_id=row.transaction_hash,
    )
