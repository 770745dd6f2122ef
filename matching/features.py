"""What a market's wording commits to: dates, thresholds, direction, teams, scope, sources.

Two listings of "the same question" differ in wording; two *different* questions often
share almost all their words ("... by March 31" vs "... on March 31", "$100,000" vs
"$110,000", a full game vs its first half). These features are what the matcher compares
after text similarity has found a candidate.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from domain.models import Market, Venue
from matching.teams import TeamAliases

MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for m in names
}
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY_DATE = re.compile(_MONTH + r"\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(20\d\d))?")
_YEAR = re.compile(r"(?<![\d$.,])(20\d\d)(?![\d%])")
_TICKER_DATE = re.compile(r"-(\d\d)([A-Z]{3})(\d\d)")
_NUMBER = re.compile(r"(\$)?(\d[\d,]*(?:\.\d+)?)\s?(k|m|b|bn|%|percent|million|billion)?(?![\w])", re.I)
_URL_HOST = re.compile(r"https?://(?:www\.)?([a-z0-9.-]+)", re.I)
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "will",
        "be",
        "is",
        "are",
        "to",
        "of",
        "in",
        "on",
        "at",
        "by",
        "for",
        "and",
        "or",
        "with",
        "than",
        "who",
        "what",
        "which",
        "does",
        "do",
        "did",
        "this",
        "that",
        "market",
        "resolve",
        "resolves",
        "yes",
        "no",
        "if",
        "as",
        "from",
        "its",
        "it",
        "game",
        "winner",
    ]
)
UP_WORDS = (
    "above",
    "over",
    "greater than",
    "more than",
    "at least",
    "exceed",
    "higher than",
    "or more",
    "reach",
    "hit",
)
DOWN_WORDS = ("below", "under", "less than", "fewer than", "lower than", "or less", "or fewer", "fall")
DEADLINE_WORDS = ("by", "before", "prior to")
SCOPE_WORDS = {
    "first half": ("1h", "first half", "1st half"),
    "second half": ("2h", "second half", "2nd half"),
    "quarter": ("1q", "q1", "first quarter", "quarter"),
    "spread": ("spread", "handicap"),
    "total": ("o/u", "over/under", "total points"),
    "player prop": ("points over", "rebounds over", "assists over"),
}
RESOLUTION_EVENTS = {
    "inauguration": ("inaugurated", "sworn in"),
    "nomination": ("nominee", "nomination", "nominate"),
    "election win": ("win the election", "wins the election", "elected", "presidential election winner"),
}
SOURCES = (
    "associated press",
    "fox news",
    "nbc",
    "cnn",
    "bls",
    "bureau of labor",
    "coingecko",
    "binance",
    "coinbase",
    "cme",
    "federal reserve",
    "nba.com",
    "mlb.com",
    "nfl.com",
    "espn",
)


def normalize(text: str) -> str:
    """Lower case ASCII words, punctuation gone, so wording differences do not count."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9$%.]+", " ", ascii_text.lower()).replace(" .", " ").split())


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _number(raw: str, unit: str | None) -> Decimal | None:
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        return None
    scale = {"k": 1_000, "m": 10**6, "million": 10**6, "b": 10**9, "bn": 10**9, "billion": 10**9}
    return value * scale.get((unit or "").lower(), 1)


@dataclass(frozen=True, slots=True)
class Features:
    venue: Venue
    text: str
    tokens: frozenset[str]
    teams: tuple[str, ...]
    team_leg: str | None
    dates: frozenset[date]
    years: frozenset[int]
    thresholds: frozenset[tuple[str, Decimal]]
    direction: frozenset[str]
    deadline: bool
    negated: bool
    scope: frozenset[str]
    resolution_events: frozenset[str]
    sources: frozenset[str]
    end_date: datetime | None
    names: frozenset[str]


def extract(market: Market, teams: TeamAliases, *, title_only: bool = False) -> Features:
    title = market.title
    text = normalize(title)
    rules = "" if title_only else market.rules
    lower_rules = rules.lower()
    dates: set[date] = set()
    years: set[int] = set()
    for source in (title, rules[:600]):
        for month, day, year in _DAY_DATE.findall(source.lower()):
            fallback = market.end_date.year if market.end_date else None
            y = int(year) if year else fallback
            found = _date(y, MONTHS[month.rstrip(".")], int(day)) if y is not None else None
            if found is not None:
                dates.add(found)
    years.update(int(y) for y in _YEAR.findall(title))
    team_leg = None
    if market.venue is Venue.KALSHI:
        for yy, mon, dd in _TICKER_DATE.findall(market.market_id):
            found = _date(2000 + int(yy), MONTHS[mon.lower()], int(dd)) if mon.lower() in MONTHS else None
            if found is not None:
                dates.add(found)
        parts = market.market_id.split("-")
        for part in parts[1:]:
            if re.fullmatch(r"\d\d", part):
                years.add(2000 + int(part))
        team_leg = teams.code(parts[-1]) if len(parts) > 1 else None
    thresholds: set[tuple[str, Decimal]] = set()
    without_dates = _DAY_DATE.sub(" ", title.lower())
    for dollar, raw, unit in _NUMBER.findall(without_dates):
        value = _number(raw, unit)
        if value is None:
            continue
        kind = "$" if dollar else "%" if unit and unit.lower() in ("%", "percent") else ""
        if not kind and value == value.to_integral_value() and 1900 <= value <= 2100:
            continue
        thresholds.add((kind, value.normalize()))
    padded = f" {text} "
    direction = {"up" for w in UP_WORDS if f" {w} " in padded} | {"down" for w in DOWN_WORDS if f" {w} " in padded}
    found_teams = teams.find(title)
    if team_leg is not None and not found_teams:
        # a ticker-only Kalshi market (KXNBA-26-OKC): its team is in the ticker, not the title
        found_teams = [team_leg]
        text = f"{text} {normalize(teams.display(team_leg) or '')}".strip()
    if team_leg is None and market.venue is Venue.POLYMARKET and len(found_teams) >= 2 and " vs" in title.lower():
        team_leg = found_teams[0]
    names = {m.lower() for m in re.findall(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+\b", title)}
    return Features(
        venue=market.venue,
        text=text,
        tokens=frozenset(t for t in text.split() if t not in STOPWORDS and len(t) > 2),
        teams=tuple(found_teams),
        team_leg=team_leg,
        dates=frozenset(dates),
        years=frozenset(years),
        thresholds=frozenset(thresholds),
        direction=frozenset(direction),
        deadline=any(f" {w} " in padded for w in DEADLINE_WORDS),
        negated=" not " in padded,
        scope=frozenset(k for k, words in SCOPE_WORDS.items() if any(w in f" {title.lower()} " for w in words)),
        resolution_events=frozenset(
            k for k, words in RESOLUTION_EVENTS.items() if any(w in f"{title.lower()} {lower_rules}" for w in words)
        ),
        sources=frozenset({s for s in SOURCES if s in lower_rules} | {h.lower() for h in _URL_HOST.findall(rules)}),
        end_date=market.end_date.astimezone(UTC) if market.end_date else None,
        names=frozenset(names),
    )
