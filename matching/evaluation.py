"""Precision and recall of the candidate generator on real cross-venue pairs others matched.

    .venv/bin/python -m matching.evaluation /work/shared/data

Ground truth (see the data's SOURCES.md): the NBA games the steffenmax arb bot paired
(Gamma events <-> Kalshi KXNBAGAME events, with per-team tokens, so outcome alignment is
checked too); the four pmxt-router "identity" candidates, whose resolution dates differ by
up to a year (hard cases: they must be found *and* flagged); and the ildarflame title pairs.
Polymarket listings go through the venue parser (`venues.polymarket.parse`); the other
sources are not venue payloads, so their loaders build `Market`s from the fields they have.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domain.models import Market, Venue
from matching.candidates import Candidate, CandidateGenerator, RiskFlag
from venues.polymarket.parse import gamma_events

NBA_DIR = "steffenmax_arb-bot"
PMXT = "jon-becker_prediction-market-analysis/candidates.jsonl"
FINALS = "adityanbhosale_kalshi-polymarket-microstructure/markets.yaml"
TITLES = "ildarflame_prediction-markets-data/ground-truth-pairs.csv"


def _utc(raw: str | None) -> datetime | None:
    if not raw:
        return None
    parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def kalshi_game_legs(event: dict[str, Any]) -> list[Market]:
    """A KXNBAGAME event lists no markets; its two legs are EVENT-AAA and EVENT-BBB (team codes)."""
    ticker = event["event_ticker"]
    codes = ticker.split("-")[-1][-6:]
    away, home = event["title"].split(" at ")
    legs = []
    for code, city in ((codes[:3], away), (codes[3:], home)):
        market_id = f"{ticker}-{code}"
        legs.append(
            Market(
                venue=Venue.KALSHI,
                market_id=market_id,
                title=f"{event['title']} Winner? {city}",
                yes_token=f"{market_id}:yes",
                no_token=f"{market_id}:no",
                event_id=ticker,
            )
        )
    return legs


@dataclass
class Truth:
    """Kalshi ticker -> (Polymarket market id, aligned) for every pair a source asserts."""

    pairs: dict[str, tuple[str, bool]] = field(default_factory=dict)


def load_nba(data: Path) -> tuple[list[Market], list[Market], Truth]:
    page = gamma_events(json.loads((data / NBA_DIR / "poly_nba.json").read_text()))
    polymarket = page.markets
    kalshi_events = json.loads((data / NBA_DIR / "kalshi_nba.json").read_text())["events"]
    kalshi = [leg for e in kalshi_events for leg in kalshi_game_legs(e)]
    by_id = {m.market_id: m for m in polymarket}
    truth = Truth()
    for game in json.loads((data / NBA_DIR / "config" / "markets.json").read_text())["markets"]:
        condition = game.get("poly_condition_id")
        if condition not in by_id:
            continue
        yes_token = by_id[condition].yes_token
        for ticker in game["kalshi"]["markets"].values():
            team = ticker.rsplit("-", 1)[1]
            token = game["poly_token_ids"].get(team)
            if token is not None:
                truth.pairs[ticker] = (condition, token == yes_token)
    return polymarket, kalshi, truth


def load_pmxt(data: Path) -> tuple[list[Market], list[Market], Truth]:
    polymarket, kalshi, truth = [], [], Truth()
    for line in (data / PMXT).read_text().splitlines():
        c = json.loads(line)
        yes_a = next(o for o in c["outcomes_a"] if not o["label"].startswith("Not "))
        yes_b = next(o for o in c["outcomes_b"] if not o["label"].startswith("Not "))
        no_b = next(o for o in c["outcomes_b"] if o["label"].startswith("Not "))
        ticker = yes_a["outcome_id"]
        kalshi.append(
            Market(
                venue=Venue.KALSHI,
                market_id=ticker,
                title=c["title_a"] if yes_a["label"] in c["title_a"] else f"{c['title_a']} {yes_a['label']}",
                yes_token=f"{ticker}:yes",
                no_token=f"{ticker}:no",
                rules=c["description_a"],
                end_date=_utc(c["resolution_date_a"]),
            )
        )
        polymarket.append(
            Market(
                venue=Venue.POLYMARKET,
                market_id=c["contract_address_b"],
                title=c["title_b"].split(" - ", 1)[-1],
                yes_token=yes_b["outcome_id"],
                no_token=no_b["outcome_id"],
                rules=c["description_b"],
                end_date=_utc(c["resolution_date_b"]),
            )
        )
        truth.pairs[ticker] = (c["contract_address_b"], True)
    return polymarket, kalshi, truth


def load_finals(data: Path) -> tuple[list[Market], list[Market], Truth]:
    """Three hand-curated NBA Finals pairs, Kalshi side known only by ticker; every NBA game
    moneyline of the steffenmax listing is added on the Polymarket side as a distractor."""
    import yaml  # a dev dependency: only this evaluation reads YAML

    polymarket, _, _ = load_nba(data)
    kalshi, truth = [], Truth()
    for pair in yaml.safe_load((data / FINALS).read_text()):
        poly, ticker = pair["polymarket"], pair["kalshi"]["ticker"]
        polymarket.append(
            Market(
                venue=Venue.POLYMARKET,
                market_id=poly["condition_id"],
                title=pair["description"],
                yes_token=poly["yes_token_id"],
                no_token=poly["no_token_id"],
            )
        )
        kalshi.append(Market(venue=Venue.KALSHI, market_id=ticker, title="", yes_token="yes", no_token="no"))
        truth.pairs[ticker] = (poly["condition_id"], True)
    return polymarket, kalshi, truth


def load_titles(data: Path) -> tuple[list[Market], list[Market], Truth]:
    polymarket, kalshi, truth = [], [], Truth()
    with (data / TITLES).open() as handle:
        for i, row in enumerate(csv.DictReader(handle)):
            if row["match_type"] != "SAME_EVENT":
                continue
            poly_id, ticker = f"poly-{i}", f"KX-TITLE-{i}"
            polymarket.append(
                Market(
                    venue=Venue.POLYMARKET,
                    market_id=poly_id,
                    title=row["polymarket_title"],
                    yes_token="y",
                    no_token="n",
                )
            )
            kalshi.append(
                Market(venue=Venue.KALSHI, market_id=ticker, title=row["kalshi_title"], yes_token="y", no_token="n")
            )
            truth.pairs[ticker] = (poly_id, True)
    return polymarket, kalshi, truth


@dataclass(frozen=True)
class Score:
    name: str
    truth: int
    proposed: int
    correct: int
    aligned_correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.proposed if self.proposed else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.truth if self.truth else 0.0


def evaluate(
    name: str, polymarket: list[Market], kalshi: list[Market], truth: Truth, min_confidence: float = 0.5
) -> tuple[Score, dict[str, list[Candidate]]]:
    """Top-1 candidate per Kalshi market that the source covers; alignment counted separately."""
    generator = CandidateGenerator(polymarket)
    proposed = correct = aligned = 0
    found: dict[str, list[Candidate]] = {}
    for market in kalshi:
        if market.market_id not in truth.pairs:
            continue
        candidates = generator.for_kalshi(market, top_k=3, min_confidence=min_confidence)
        found[market.market_id] = candidates
        if not candidates:
            continue
        proposed += 1
        expected_id, expected_aligned = truth.pairs[market.market_id]
        if candidates[0].polymarket.market_id == expected_id:
            correct += 1
            aligned += candidates[0].aligned == expected_aligned
    covered = sum(1 for m in kalshi if m.market_id in truth.pairs)
    return Score(name, covered, proposed, correct, aligned), found


def main(data: Path) -> None:
    loaders = (
        ("nba games", load_nba),
        ("nba finals (ticker only)", load_finals),
        ("pmxt identity", load_pmxt),
        ("titles", load_titles),
    )
    for name, loader in loaders:
        polymarket, kalshi, truth = loader(data)
        # the hard cases are meant to be found and flagged, so they are scored without the cut-off
        cut = 0.0 if name == "pmxt identity" else 0.5
        score, found = evaluate(name, polymarket, kalshi, truth, min_confidence=cut)
        print(
            f"{name}: {score.truth} true pairs, {score.proposed} proposed, {score.correct} correct "
            f"(precision {score.precision:.2f}, recall {score.recall:.2f}), "
            f"outcome alignment right on {score.aligned_correct}/{score.correct}"
        )
        if name == "pmxt identity":
            for ticker, candidates in found.items():
                top = candidates[0] if candidates else None
                flags = ", ".join(f.value for f in top.risk_flags) if top else "-"
                conf = top.confidence if top else "-"
                print(f"  {ticker}: confidence {conf}, flags [{flags}]")
    hard = sum(
        1
        for cands in evaluate("pmxt", *load_pmxt(data), min_confidence=0.0)[1].values()
        if cands and RiskFlag.RESOLUTION_DATES_DIFFER in cands[0].risk_flags
    )
    print(f"pmxt pairs flagged for differing resolution dates: {hard}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data"))
