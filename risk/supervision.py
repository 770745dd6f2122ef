"""The risk supervisor's state and the views it answers with: pure data, shared by the workflow and
everything that reads it (admission in the hot process, the application layer, front ends)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field, ValidationError

from domain.models import Venue
from risk.breaker import CircuitBreaker
from risk.checks import RiskBook
from risk.models import LimitChange, Limits
from risk.pnl import PnlReport


class SupervisorState(BaseModel):
    """Everything carried across continue-as-new."""

    limits: Limits = Field(default_factory=Limits)
    book: RiskBook = Field(default_factory=RiskBook)
    breaker: CircuitBreaker = Field(default_factory=CircuitBreaker)
    kill_switch: bool = False
    kill_reason: str = ""
    gate_version: int = 0
    finished_sagas: list[str] = Field(default_factory=list)
    pnl: PnlReport | None = None
    next_pnl_at: datetime | None = None
    next_account_at: datetime | None = None
    next_orphan_check_at: datetime | None = None
    generation: int = 0


class SupervisorInput(BaseModel):
    """An interval of 0 turns that periodic duty off (then balances come only by `sync_account`)."""

    tenant_id: str = Field(min_length=1, max_length=46)
    state: SupervisorState = Field(default_factory=SupervisorState)
    pnl_interval_seconds: int = Field(default=300, ge=0)
    account_interval_seconds: int = Field(default=30, ge=0)
    orphan_check_seconds: int = Field(default=60, ge=0)
    max_history_events: int = Field(default=5000, ge=20)


class AdmissionView(BaseModel):
    """The `admission` query: what the hot process checks new sagas against between two reads.

    `seen` are the asked-about saga ids the supervisor already knows (reserved or
    finished): the hot process stops counting those itself, the book counts them.
    """

    limits: Limits
    book: RiskBook
    kill_switch: bool
    breaker_open: bool
    seen: list[str]


class RiskStatus(BaseModel):
    """The `state` query: what an operator needs at a glance."""

    tenant_id: str
    kill_switch: bool
    kill_reason: str
    breaker_open: bool
    breaker_reason: str
    breaker_tripped_at: datetime | None
    breaker_reopens_at: datetime | None
    open_sagas: list[str]
    contracts: Decimal
    exposure: Decimal
    exposure_by_venue: dict[Venue, Decimal]
    balances: dict[Venue, Decimal]
    net_pnl_today: Decimal
    gate_version: int
    published_version: int
    generation: int


def apply_limit_change(limits: Limits, change: LimitChange) -> Limits:
    """The limits after `KEY = VALUE`, or ValueError saying exactly what is wrong."""
    if change.key not in Limits.model_fields:
        raise ValueError(f"unknown limit {change.key!r}; known limits: {', '.join(Limits.model_fields)}")
    try:
        return Limits.model_validate({**limits.model_dump(), change.key: change.value})
    except ValidationError as exc:
        raise ValueError(f"invalid value {change.value!r} for {change.key}: {exc.errors()[0]['msg']}") from None
