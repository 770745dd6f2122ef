"""The copy-trading section of the configuration (`[copytrade]`, `INERTIAL_COPYTRADE__*`).

Kalshi attributes no trade to an account, so a Kalshi leader is only readable with a read-only key
of its own, which its follower provides; leaders are named as their follows name them.
"""

from __future__ import annotations

from pydantic import Field

from domain.settings import Section
from venues.kalshi.settings import KalshiKey


class CopySettings(Section):
    enabled: bool = True
    data_api_interval_s: float = Field(default=2.0, gt=0, le=3600)
    kalshi_poll_interval_s: float = Field(default=5.0, gt=0, le=3600)
    kalshi_leaders: dict[str, KalshiKey] = Field(default_factory=dict)
    # paper mode: a sandbox leader trades on both venues and the default tenant follows it
    sandbox_leader: bool = True
    sandbox_leader_interval_s: float = Field(default=15.0, gt=0, le=3600)
