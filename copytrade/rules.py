"""What a follower sets per leader: how big each copy is, which trades are copied, what happens on sells.

Validated on the way in (an update to the leader's workflow, the CLI, REST), so a rule out of
range is one clear error and never a half-applied change. Amounts are dollars (Decimal).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from domain.models import Frozen


class Sizing(StrEnum):
    FIXED_AMOUNT = "fixed_amount"  # `fixed_amount` dollars per copy
    PROPORTIONAL = "proportional"  # `proportion` x the leader's dollars
    BALANCE_PERCENT = "balance_percent"  # `balance_percent` % of the follower's available balance
    MIRROR_SHARES = "mirror_shares"  # as many shares as the leader


class SideFilter(StrEnum):
    BOTH = "both"
    BUYS_ONLY = "buys_only"
    SELLS_ONLY = "sells_only"


class SellMode(StrEnum):
    MIRROR = "mirror"  # sell the share of our position the leader sold of theirs
    ALL = "all"  # a leader's sell closes our whole position
    IGNORE = "ignore"  # never sell on a leader's sell


class BelowMinimum(StrEnum):
    SKIP = "skip"
    ROUND_UP = "round_up"  # buy the venue's minimum when the rules' caps still allow it


class CopyRules(Frozen):
    sizing: Sizing = Sizing.FIXED_AMOUNT
    fixed_amount: Decimal = Field(default=Decimal(10), gt=0, le=1_000_000)
    proportion: Decimal = Field(default=Decimal("0.1"), gt=0, le=100)
    balance_percent: Decimal = Field(default=Decimal(1), gt=0, le=100)
    max_per_trade: Decimal | None = Field(default=Decimal(100), gt=0)
    max_daily_volume: Decimal | None = Field(default=Decimal(1000), gt=0)
    max_open_positions: int | None = Field(default=20, gt=0)
    max_market_exposure: Decimal | None = Field(default=Decimal(250), gt=0)
    min_price: Decimal = Field(default=Decimal("0.02"), ge=0, le=1)
    max_price: Decimal = Field(default=Decimal("0.98"), ge=0, le=1)
    markets_allow: frozenset[str] = frozenset()
    markets_deny: frozenset[str] = frozenset()
    sides: SideFilter = SideFilter.BOTH
    min_leader_amount: Decimal = Field(default=Decimal(1), ge=0)
    max_age_seconds: int = Field(default=60, gt=0, le=86_400)
    max_slippage: Decimal = Field(default=Decimal("0.02"), ge=0, le=Decimal("0.5"))
    sell_mode: SellMode = SellMode.MIRROR
    reverse: bool = False
    below_minimum: BelowMinimum = BelowMinimum.SKIP
    auto_pause_loss: Decimal | None = Field(default=None, gt=0)
    cross_venue: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.min_price > self.max_price:
            raise ValueError(f"min_price {self.min_price} is above max_price {self.max_price}")
        if self.markets_allow & self.markets_deny:
            raise ValueError(f"markets both allowed and denied: {sorted(self.markets_allow & self.markets_deny)}")
        return self
