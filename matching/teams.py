"""Team names as the two venues write them, resolved to one code per team.

Polymarket titles games with nicknames ("Grizzlies vs. Lakers"), Kalshi with cities
("Memphis at Los Angeles L") and tickers with codes (KXNBAGAME-26JAN04MEMLAL-MEM). Without a
shared code the same game never looks similar as text. The built-in table covers the NBA;
`TeamAliases.extend` adds more (e.g. a "league:alias" -> code cache such as the one the
Tydog99 arbitrage bot keeps).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# code, city as Kalshi writes it, nickname as Polymarket writes it
NBA_TEAMS: tuple[tuple[str, str, str], ...] = (
    ("ATL", "Atlanta", "Hawks"),
    ("BOS", "Boston", "Celtics"),
    ("BKN", "Brooklyn", "Nets"),
    ("CHA", "Charlotte", "Hornets"),
    ("CHI", "Chicago", "Bulls"),
    ("CLE", "Cleveland", "Cavaliers"),
    ("DAL", "Dallas", "Mavericks"),
    ("DEN", "Denver", "Nuggets"),
    ("DET", "Detroit", "Pistons"),
    ("GSW", "Golden State", "Warriors"),
    ("HOU", "Houston", "Rockets"),
    ("IND", "Indiana", "Pacers"),
    ("LAC", "Los Angeles C", "Clippers"),
    ("LAL", "Los Angeles L", "Lakers"),
    ("MEM", "Memphis", "Grizzlies"),
    ("MIA", "Miami", "Heat"),
    ("MIL", "Milwaukee", "Bucks"),
    ("MIN", "Minnesota", "Timberwolves"),
    ("NOP", "New Orleans", "Pelicans"),
    ("NYK", "New York", "Knicks"),
    ("OKC", "Oklahoma City", "Thunder"),
    ("ORL", "Orlando", "Magic"),
    ("PHI", "Philadelphia", "76ers"),
    ("PHX", "Phoenix", "Suns"),
    ("POR", "Portland", "Trail Blazers"),
    ("SAC", "Sacramento", "Kings"),
    ("SAS", "San Antonio", "Spurs"),
    ("TOR", "Toronto", "Raptors"),
    ("UTA", "Utah", "Jazz"),
    ("WAS", "Washington", "Wizards"),
)


class TeamAliases:
    """Alias (lower case) -> canonical team code ("NBA:MEM"); longest alias wins when finding."""

    def __init__(self) -> None:
        self._aliases: dict[str, str] = {}
        self._codes: dict[str, str] = {}
        self._display: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None

    @classmethod
    def default(cls) -> TeamAliases:
        aliases = cls()
        for code, city, nickname in NBA_TEAMS:
            canonical = f"NBA:{code}"
            aliases.add(canonical, city, nickname, f"{city} {nickname}")
            aliases._codes[code.lower()] = canonical
            aliases._display[canonical] = f"{city} {nickname}"
        aliases.add("NBA:LAL", "LA Lakers", "L.A. Lakers")
        aliases.add("NBA:LAC", "LA Clippers", "L.A. Clippers")
        aliases.add("NBA:PHI", "Sixers")
        aliases.add("NBA:POR", "Blazers")
        return aliases

    def add(self, canonical: str, *names: str) -> None:
        for name in names:
            self._aliases[name.lower()] = canonical
        self._pattern = None

    def extend(self, mapping: Mapping[str, str], league: str) -> None:
        """Add "league:alias" -> code entries of one league (codes become "LEAGUE:CODE")."""
        prefix = f"{league.lower()}:"
        for key, code in mapping.items():
            if key.startswith(prefix):
                canonical = f"{league.upper()}:{code.upper()}"
                alias = key[len(prefix) :].replace("_", " ")
                self._codes.setdefault(alias, canonical)
                self._codes.setdefault(code.lower(), canonical)

    def display(self, canonical: str) -> str | None:
        """A name the other venue would write ("Oklahoma City Thunder"), for ticker-only markets."""
        return self._display.get(canonical)

    def code(self, text: str) -> str | None:
        """A bare team code as tickers write it ("MEM", "mem")."""
        return self._codes.get(text.lower())

    def find(self, text: str) -> list[str]:
        """Teams mentioned in `text`, in order of first mention, without repeats."""
        if self._pattern is None:
            names = sorted(self._aliases, key=len, reverse=True)
            self._pattern = re.compile(r"(?<![\w.])(" + "|".join(re.escape(n) for n in names) + r")(?![\w])")
        seen: list[str] = []
        for match in self._pattern.finditer(text.lower()):
            team = self._aliases[match.group(1)]
            if team not in seen:
                seen.append(team)
        return seen
