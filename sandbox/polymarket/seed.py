"""Markets and books for the sandbox from recorded venue data (Gamma market objects, CLOB/WS books).

A Gamma market gives the facts (condition id, token ids, tick, minimum size,
neg-risk, end date); a `book` message or `GET /book` response gives the resting
liquidity, which the house account places through the engine so that the book is
real, matchable depth. Files are read at run time and never copied into the repo.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import orjson

from sandbox.polymarket.state import PolymarketState, SandboxMarket

Level = tuple[Decimal, Decimal]


class SeedError(ValueError):
    """Recorded data that cannot become a sandbox market or book."""


def _json_list(value: Any, name: str) -> list[str]:
    """Gamma sends `clobTokenIds` and `outcomes` as JSON strings inside JSON."""
    parsed = orjson.loads(value) if isinstance(value, str) else value
    if not isinstance(parsed, list) or len(parsed) != 2:
        raise SeedError(f"{name} must list exactly two entries for a binary market, got {value!r}")
    return [str(item) for item in parsed]


def _date(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def market_from_gamma(state: PolymarketState, gamma: dict[str, Any]) -> SandboxMarket:
    try:
        yes_token, no_token = _json_list(gamma["clobTokenIds"], "clobTokenIds")
        outcomes = _json_list(gamma.get("outcomes", '["Yes", "No"]'), "outcomes")
        events = gamma.get("events") or [{}]
        event = events[0] if isinstance(events[0], dict) else {}
        return state.add_market(
            question=str(gamma["question"]),
            condition_id=str(gamma["conditionId"]),
            yes_token=yes_token,
            no_token=no_token,
            tick_size=Decimal(str(gamma.get("orderPriceMinTickSize", "0.01"))),
            min_size=Decimal(str(gamma.get("orderMinSize", "5"))),
            neg_risk=bool(gamma.get("negRisk", False)),
            fee_rate_bps=int(gamma.get("takerBaseFee") or 0) if gamma.get("feesEnabled", True) else 0,
            gamma_id=str(gamma.get("id") or "") or None,
            outcomes=(outcomes[0], outcomes[1]),
            end_date=_date(gamma.get("endDate")),
            description=str(gamma.get("description", "")),
            slug=str(gamma.get("slug", "")),
            event_id=str(event.get("id", "")),
            event_slug=str(event.get("slug", "")),
            event_title=str(event.get("title", "")),
            active=bool(gamma.get("active", True)),
            closed=bool(gamma.get("closed", False)),
            gamma_extra=gamma,
        )
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise SeedError(f"cannot build a market from gamma object: {exc}") from exc


def book_levels(book: dict[str, Any]) -> tuple[str, list[Level], list[Level]]:
    """(asset_id, bids, asks) of a `book` message or `/book` response; prices of that asset."""
    try:
        bids = [(Decimal(str(b["price"])), Decimal(str(b["size"]))) for b in book["bids"]]
        asks = [(Decimal(str(a["price"])), Decimal(str(a["size"]))) for a in book["asks"]]
        return str(book["asset_id"]), bids, asks
    except (KeyError, TypeError, InvalidOperation) as exc:
        raise SeedError(f"malformed book: {exc}") from exc


def seed_market(state: PolymarketState, gamma: dict[str, Any], book: dict[str, Any] | None = None) -> SandboxMarket:
    market = market_from_gamma(state, gamma)
    if book is not None:
        asset_id, bids, asks = book_levels(book)
        if asset_id not in (market.yes_token, market.no_token):
            raise SeedError(f"book asset {asset_id} is not a token of market {market.condition_id}")
        state.seed_book(market, bids, asks, token_id=asset_id)
    return market


def load_recorded(state: PolymarketState, gamma_path: Path, book_path: Path | None = None) -> SandboxMarket:
    """Seed from files: a Gamma market object (or a list whose first item is one) and optionally a book."""
    gamma = orjson.loads(gamma_path.read_bytes())
    if isinstance(gamma, list):
        gamma = gamma[0]
    book = orjson.loads(book_path.read_bytes()) if book_path is not None else None
    if isinstance(book, list):
        book = book[0]
    return seed_market(state, gamma, book)
