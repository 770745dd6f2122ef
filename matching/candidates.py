"""Candidate pairs: which Polymarket market asks the same question as a Kalshi market.

Text similarity (rapidfuzz, optionally sentence embeddings) finds look-alikes; the
structured checks in `features` then say what could still differ. A candidate carries a
confidence in [0, 1], the outcome alignment (Polymarket YES = Kalshi YES, or the reverse),
and resolution-risk flags. Nothing here confirms a pair: an operator does (`control.cli.pairs`).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz

from domain.models import Market, MarketPair, PairStatus, Venue
from matching.features import Features, extract
from matching.teams import TeamAliases


class RiskFlag(StrEnum):
    RESOLUTION_DATES_DIFFER = "resolution_dates_differ"
    DATES_DIFFER = "dates_differ"
    YEARS_DIFFER = "years_differ"
    THRESHOLDS_DIFFER = "thresholds_differ"
    DIRECTION_DIFFERS = "direction_differs"
    DEADLINE_WORDING_DIFFERS = "deadline_wording_differs"
    TEAMS_DIFFER = "teams_differ"
    SCOPE_DIFFERS = "scope_differs"
    RESOLUTION_EVENT_DIFFERS = "resolution_event_differs"
    SOURCES_DIFFER = "sources_differ"
    NEGATED_WORDING = "negated_wording"


HARD_FLAGS = frozenset(
    {
        RiskFlag.RESOLUTION_DATES_DIFFER,
        RiskFlag.DATES_DIFFER,
        RiskFlag.YEARS_DIFFER,
        RiskFlag.THRESHOLDS_DIFFER,
        RiskFlag.DIRECTION_DIFFERS,
        RiskFlag.TEAMS_DIFFER,
        RiskFlag.SCOPE_DIFFERS,
        RiskFlag.RESOLUTION_EVENT_DIFFERS,
    }
)
HARD_PENALTY = 0.5
SOFT_PENALTY = 0.85
RESOLUTION_DATE_TOLERANCE_DAYS = 2

Embedder = Callable[[str, str], float]
"""Semantic similarity in [0, 1] of two texts (see `matching.embeddings`)."""


class Candidate(BaseModel):
    model_config = ConfigDict(frozen=True)

    polymarket: Market
    kalshi: Market
    confidence: Decimal
    aligned: bool
    risk_flags: tuple[RiskFlag, ...]
    text_score: Decimal

    @property
    def pair_id(self) -> str:
        return pair_id(self.polymarket.market_id, self.kalshi.market_id)

    def to_pair(self) -> MarketPair:
        return MarketPair(
            pair_id=self.pair_id,
            polymarket=self.polymarket,
            kalshi=self.kalshi,
            aligned=self.aligned,
            confidence=self.confidence,
            status=PairStatus.CANDIDATE,
            risk_flags=tuple(f.value for f in self.risk_flags),
        )


def pair_id(polymarket_id: str, kalshi_ticker: str) -> str:
    return "pm-" + hashlib.sha256(f"{polymarket_id}|{kalshi_ticker}".encode()).hexdigest()[:24]


def _jaccard(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def compare(poly: Features, kalshi: Features) -> tuple[list[RiskFlag], bool]:
    """Risk flags of treating the two as one question, and whether their YES sides agree."""
    flags: list[RiskFlag] = []
    aligned = True
    tolerance = RESOLUTION_DATE_TOLERANCE_DAYS * 86_400
    if poly.end_date and kalshi.end_date and abs((poly.end_date - kalshi.end_date).total_seconds()) > tolerance:
        flags.append(RiskFlag.RESOLUTION_DATES_DIFFER)
    if poly.dates and kalshi.dates and not any(abs((a - b).days) <= 1 for a in poly.dates for b in kalshi.dates):
        flags.append(RiskFlag.DATES_DIFFER)
    elif not (poly.dates and kalshi.dates) and (poly.dates or kalshi.dates):
        dated, other = (poly, kalshi) if poly.dates else (kalshi, poly)
        if other.end_date and not any(abs((d - other.end_date.date()).days) <= 1 for d in dated.dates):
            flags.append(RiskFlag.DATES_DIFFER)
    if poly.years and kalshi.years and not poly.years & kalshi.years:
        flags.append(RiskFlag.YEARS_DIFFER)
    if poly.thresholds != kalshi.thresholds:
        flags.append(RiskFlag.THRESHOLDS_DIFFER)
    if poly.direction and kalshi.direction and poly.direction != kalshi.direction:
        flags.append(RiskFlag.DIRECTION_DIFFERS)
        if len(poly.direction) == len(kalshi.direction) == 1:
            aligned = not aligned
    if poly.deadline != kalshi.deadline and (poly.dates or kalshi.dates):
        flags.append(RiskFlag.DEADLINE_WORDING_DIFFERS)
    if poly.teams and kalshi.teams and set(poly.teams) != set(kalshi.teams):
        flags.append(RiskFlag.TEAMS_DIFFER)
    if poly.team_leg and kalshi.team_leg:
        if kalshi.team_leg not in poly.teams:
            flags.append(RiskFlag.TEAMS_DIFFER)
        elif kalshi.team_leg != poly.team_leg:
            aligned = not aligned
    if poly.scope != kalshi.scope:
        flags.append(RiskFlag.SCOPE_DIFFERS)
    if poly.resolution_events != kalshi.resolution_events and poly.resolution_events and kalshi.resolution_events:
        flags.append(RiskFlag.RESOLUTION_EVENT_DIFFERS)
    if poly.sources and kalshi.sources and not poly.sources & kalshi.sources:
        flags.append(RiskFlag.SOURCES_DIFFER)
    if poly.negated != kalshi.negated:
        flags.append(RiskFlag.NEGATED_WORDING)
        aligned = not aligned
    return list(dict.fromkeys(flags)), aligned


def score(poly: Features, kalshi: Features, embedder: Embedder | None = None) -> float:
    """Similarity in [0, 1] before risk penalties."""
    text = fuzz.token_set_ratio(poly.text, kalshi.text) / 100
    if poly.teams and kalshi.teams:
        base = 0.3 * text + 0.7 * _jaccard(set(poly.teams), set(kalshi.teams))
    elif poly.names and kalshi.names:
        base = 0.6 * text + 0.4 * _jaccard(poly.names, kalshi.names)
    else:
        base = text
    if embedder is not None:
        base = 0.5 * base + 0.5 * embedder(poly.text, kalshi.text)
    return base


def _keys(features: Features) -> set[str]:
    return set(features.tokens) | set(features.teams) | set(features.names)


class CandidateGenerator:
    """Indexes Polymarket listings once; `for_kalshi` proposes matches for one Kalshi market."""

    def __init__(
        self,
        polymarket: Sequence[Market],
        *,
        teams: TeamAliases | None = None,
        embedder: Embedder | None = None,
        max_key_share: float = 0.2,
    ) -> None:
        self.teams = teams or TeamAliases.default()
        self.embedder = embedder
        self._poly = [(m, extract(m, self.teams)) for m in polymarket if m.venue is Venue.POLYMARKET]
        index: dict[str, list[int]] = defaultdict(list)
        for i, (_, features) in enumerate(self._poly):
            for key in _keys(features):
                index[key].append(i)
        limit = max(20, int(len(self._poly) * max_key_share))
        self._index = {k: v for k, v in index.items() if len(v) <= limit}

    def for_kalshi(self, kalshi: Market, *, top_k: int = 3, min_confidence: float = 0.5) -> list[Candidate]:
        features = extract(kalshi, self.teams)
        seen: set[int] = set()
        for key in _keys(features):
            seen.update(self._index.get(key, ()))
        scored: list[Candidate] = []
        for i in seen:
            market, poly = self._poly[i]
            text = score(poly, features, self.embedder)
            flags, aligned = compare(poly, features)
            confidence = text
            for flag in flags:
                confidence *= HARD_PENALTY if flag in HARD_FLAGS else SOFT_PENALTY
            if confidence < min_confidence:
                continue
            scored.append(
                Candidate(
                    polymarket=market,
                    kalshi=kalshi,
                    confidence=Decimal(f"{confidence:.3f}"),
                    aligned=aligned,
                    risk_flags=tuple(flags),
                    text_score=Decimal(f"{text:.3f}"),
                )
            )
        scored.sort(key=lambda c: (-c.confidence, c.polymarket.market_id))
        return scored[:top_k]

    def generate(self, kalshi: Sequence[Market], *, top_k: int = 3, min_confidence: float = 0.5) -> list[Candidate]:
        out = [c for k in kalshi for c in self.for_kalshi(k, top_k=top_k, min_confidence=min_confidence)]
        out.sort(key=lambda c: (-c.confidence, c.pair_id))
        return out
