"""Detector behaviour: both directions, alignment, windows, staleness, fees, confirmed pairs only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbitrage.detector import Detector, DetectorConfig
from arbitrage.opportunity import (
    Direction,
    Opportunity,
    OutcomeKind,
    ns_to_datetime,
)
from domain.book import BookSnapshot
from domain.models import Outcome, PairStatus, Venue
from tests.arbitrage import brute
from tests.arbitrage.factories import (
    T0_NS,
    confirmed_pair,
    d,
    kalshi_market,
    poly_market,
    snapshot,
)
from tests.fakes.books import LoadedBooks

CONFIG = DetectorConfig(min_edge=Decimal("0.001"), min_profit=Decimal("0.01"))


class Clock:
    def __init__(self, now: int = T0_NS) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def detector_of(pairs: list, config: DetectorConfig = CONFIG, clock: Clock | None = None) -> Detector:
    return Detector(pairs, config, books=LoadedBooks(), clock_ns=clock or Clock())


def make(aligned: bool = True, config: DetectorConfig = CONFIG) -> tuple[Detector, Clock]:
    clock = Clock()
    return detector_of([confirmed_pair(aligned=aligned)], config, clock), clock


def on_snapshot(detector: Detector, book: BookSnapshot) -> list[Opportunity]:
    """The feed replaced the book, then told the detector (at the detector's clock)."""
    books = detector.books
    assert isinstance(books, LoadedBooks)
    return detector.changed(books.load(book), detector.clock_ns())


def feed(detector: Detector, poly_bids, poly_asks, kalshi_bids, kalshi_asks) -> list[Opportunity]:
    out = on_snapshot(detector, snapshot(Venue.POLYMARKET, "0xcond", d(poly_bids), d(poly_asks)))
    out += on_snapshot(detector, snapshot(Venue.KALSHI, "KX-TEST", d(kalshi_bids), d(kalshi_asks)))
    return out


def test_buys_polymarket_yes_and_kalshi_no_when_they_sum_below_one() -> None:
    detector, _ = make()
    # Kalshi YES bid 0.50 is a Kalshi NO ask at 0.50; Polymarket YES ask 0.45.
    found = feed(detector, [("0.40", 10)], [("0.45", 100)], [("0.50", 100)], [("0.60", 100)])
    assert len(found) == 1
    opp = found[0]
    assert opp.direction is Direction.POLYMARKET_YES
    assert (opp.polymarket.outcome, opp.polymarket.token_id) == (Outcome.YES, "0xcond-yes")
    assert (opp.kalshi.outcome, opp.kalshi.token_id) == (Outcome.NO, "no")
    assert opp.contracts == 100
    assert opp.kalshi.limit_price == Decimal("0.5")
    assert opp.kalshi.fee == Decimal("1.75")
    assert opp.polymarket.fee == 0
    assert opp.expected_profit == Decimal("3.25")  # 100 * (1 - 0.45 - 0.50) - 1.75
    assert opp.total_cost == Decimal("96.75")


def test_reverse_direction_and_misaligned_pair() -> None:
    detector, _ = make(aligned=False)
    # Misaligned: Polymarket NO pays when Kalshi NO does not, i.e. pair it with Kalshi NO.
    # Polymarket NO ask = 1 - YES bid 0.62 = 0.38; Kalshi NO ask = 1 - Kalshi YES bid 0.55 = 0.45.
    found = feed(detector, [("0.62", 50)], [("0.70", 50)], [("0.55", 30)], [("0.90", 30)])
    assert [o.direction for o in found] == [Direction.POLYMARKET_NO]
    opp = found[0]
    assert (opp.polymarket.outcome, opp.kalshi.outcome) == (Outcome.NO, Outcome.NO)
    assert opp.polymarket.limit_price == Decimal("0.38")
    assert opp.contracts == 30


def test_one_window_yields_one_opportunity_with_a_deterministic_id() -> None:
    detector, clock = make()
    first = feed(detector, [], [("0.45", 100)], [("0.50", 100)], [])
    clock.now += 1_000_000
    again = feed(detector, [], [("0.44", 100)], [("0.50", 100)], [])
    assert len(first) == 1 and again == []
    # the top uncrosses: the window closes; a new crossing is a new window and a new id
    clock.now += 1_000_000
    assert feed(detector, [], [("0.60", 100)], [("0.50", 100)], []) == []
    clock.now += 1_000_000
    later = feed(detector, [], [("0.45", 100)], [("0.50", 100)], [])
    assert len(later) == 1 and later[0].opportunity_id != first[0].opportunity_id
    replay, _ = make()
    assert feed(replay, [], [("0.45", 100)], [("0.50", 100)], [])[0].opportunity_id == first[0].opportunity_id


def test_stale_or_out_of_sync_books_are_skipped() -> None:
    detector, clock = make()
    on_snapshot(detector, snapshot(Venue.KALSHI, "KX-TEST", d([("0.50", 100)]), []))
    clock.now = T0_NS + CONFIG.max_book_age_ns + 1
    assert on_snapshot(detector, snapshot(Venue.POLYMARKET, "0xcond", [], d([("0.45", 100)]))) == []
    assert detector.stale_skips > 0
    clock.now = T0_NS
    kalshi = detector.watched[(Venue.KALSHI, "KX-TEST")].book
    kalshi.mark_out_of_sync()  # type: ignore[attr-defined]
    assert detector.evaluate(kalshi) == []
    assert detector.changed(kalshi, clock.now) == []


def test_a_change_never_moves_the_feeds_clock() -> None:
    """Freshness is the detector's own knowledge; the venue's time of the book stays the feed's."""
    detector, clock = make()
    at = ns_to_datetime(T0_NS - 10**9)
    book = detector.books(confirmed_pair().kalshi)
    on_snapshot(detector, snapshot(Venue.KALSHI, "KX-TEST", d([("0.50", 100)]), [], at=at))
    clock.now += 5
    detector.touch(Venue.KALSHI, clock.now)
    assert book.updated_ns == T0_NS - 10**9  # type: ignore[attr-defined]
    assert detector.watched[(Venue.KALSHI, "KX-TEST")].seen_ns == clock.now


def test_a_quiet_book_stays_fresh_while_its_feed_is_alive() -> None:
    detector, clock = make()
    feed(detector, [], [("0.60", 100)], [("0.50", 100)], [])
    clock.now = T0_NS + CONFIG.max_book_age_ns + 1
    detector.touch(Venue.KALSHI, clock.now)  # heartbeat: the Kalshi book did not change, but is live
    fresh = snapshot(Venue.POLYMARKET, "0xcond", [], d([("0.45", 100)]), at=ns_to_datetime(clock.now))
    assert len(on_snapshot(detector, fresh)) == 1


def test_a_window_that_opened_while_a_book_was_stale_is_found_once_it_is_fresh_again() -> None:
    """Touching reports the books that were stale, so the caller can evaluate them: otherwise this
    window would stay hidden until the next change on either book."""
    detector, clock = make()
    feed(detector, [], [("0.60", 100)], [("0.50", 100)], [])
    clock.now = T0_NS + CONFIG.max_book_age_ns + 1
    fresh = snapshot(Venue.POLYMARKET, "0xcond", [], d([("0.45", 100)]), at=ns_to_datetime(clock.now))
    assert on_snapshot(detector, fresh) == []  # the Kalshi book is stale: skipped
    kalshi = detector.watched[(Venue.KALSHI, "KX-TEST")].book
    assert detector.touch(Venue.KALSHI, clock.now) == [kalshi]
    assert detector.touch(Venue.KALSHI, clock.now + 1) == []  # already fresh: nothing to revisit
    assert len(detector.evaluate(kalshi)) == 1


def test_fees_and_minimum_size_can_kill_an_opportunity() -> None:
    # 0.49 + 0.50 leaves 1 cent before fees; Kalshi's 0.0175/contract fee eats it.
    detector, _ = make()
    assert feed(detector, [], [("0.49", 100)], [("0.50", 100)], []) == []
    small = detector_of(
        [confirmed_pair(poly=poly_market(min_size="5"))]
    )  # only 4 contracts of depth on Polymarket, minimum order 5
    assert feed(small, [], [("0.40", 4)], [("0.50", 100)], []) == []


def test_only_confirmed_pairs_are_traded() -> None:
    candidate = confirmed_pair().model_copy(update={"status": PairStatus.CANDIDATE})
    with pytest.raises(ValueError, match="only confirmed"):
        detector_of([candidate])


prices = st.integers(min_value=30, max_value=70).map(lambda c: Decimal(c) / 100)
fine_prices = st.integers(min_value=300, max_value=700).map(lambda t: Decimal(t) / 1000)
qty = st.integers(min_value=1, max_value=4000).map(lambda c: Decimal(c) / 100)
levels = st.dictionaries(prices, st.integers(min_value=1, max_value=40).map(Decimal), max_size=4)
poly_levels = st.dictionaries(fine_prices, qty, max_size=4)


@settings(max_examples=150, deadline=None)
@given(
    poly_bids=poly_levels,
    poly_asks=poly_levels,
    kalshi_bids=levels,
    kalshi_asks=levels,
    aligned=st.booleans(),
    poly_rate=st.sampled_from(["0", "0.04"]),
    in_shares=st.booleans(),
)
def test_detector_matches_brute_force_in_both_directions(
    poly_bids, poly_asks, kalshi_bids, kalshi_asks, aligned, poly_rate, in_shares
) -> None:
    # keep each book uncrossed, as a venue's own book always is
    if poly_bids and poly_asks and max(poly_bids) >= min(poly_asks):
        return
    if kalshi_bids and kalshi_asks and max(kalshi_bids) >= min(kalshi_asks):
        return
    pair = confirmed_pair(aligned=aligned, poly=poly_market(fee_rate=poly_rate), kalshi=kalshi_market())
    config = DetectorConfig(min_edge=CONFIG.min_edge, min_profit=CONFIG.min_profit, polymarket_fee_in_shares=in_shares)
    detector = detector_of([pair], config)
    found = feed(
        detector,
        sorted(poly_bids.items()),
        sorted(poly_asks.items()),
        sorted(kalshi_bids.items()),
        sorted(kalshi_asks.items()),
    )
    by_direction = {o.direction: o for o in found}

    def asks(bids: dict, asks: dict, yes: bool) -> list[tuple[Decimal, Decimal]]:
        return sorted(asks.items()) if yes else sorted((1 - p, s) for p, s in bids.items())

    for direction in Direction:
        poly_yes = direction is Direction.POLYMARKET_YES
        kalshi_yes = pair.kalshi_outcome(direction.polymarket_outcome.other) is Outcome.YES
        expected = brute.best(
            asks(poly_bids, poly_asks, poly_yes),
            asks(kalshi_bids, kalshi_asks, kalshi_yes),
            Decimal(poly_rate),
            Decimal("0.07"),
            min_contracts=1,
            max_contracts=None,
            min_edge=CONFIG.min_edge,
            min_profit=CONFIG.min_profit,
            in_shares=in_shares,
        )
        got = by_direction.get(direction)
        assert (None if got is None else (got.contracts, got.expected_profit)) == expected


async def test_sql_recorder_keeps_the_outcome_log(tmp_path) -> None:
    from arbitrage.opportunity import SqlOpportunityRecorder
    from storage import migrate
    from storage.database import create_engine

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'opps.db'}")
    await migrate.upgrade(engine)
    try:
        recorder = SqlOpportunityRecorder(engine)
        detector, _ = make()
        (opp,) = feed(detector, [], [("0.45", 100)], [("0.50", 100)], [])
        await recorder.record_detected(opp)
        await recorder.record_detected(opp)  # a replay records nothing twice
        await recorder.record_outcome(opp.opportunity_id, OutcomeKind.TAKEN)
        history = await recorder.history(opp.opportunity_id)
        assert [h.kind for h in history] == [OutcomeKind.DETECTED, OutcomeKind.TAKEN]
        with pytest.raises(KeyError):
            await recorder.record_outcome("opp-unknown", OutcomeKind.SKIPPED, "x")
    finally:
        await engine.dispose()


async def test_detector_is_built_from_confirmed_pairs_only() -> None:
    from tests.fakes.pairs import InMemoryPairRepository

    repo = InMemoryPairRepository()
    candidate = confirmed_pair().model_copy(update={"status": PairStatus.CANDIDATE, "confirmed_by": None})
    await repo.suggest(candidate)
    assert (await Detector.for_confirmed(repo, books=LoadedBooks())).pairs == []
    await repo.decide(candidate.pair_id, PairStatus.CONFIRMED, "alice")
    detector = await Detector.for_confirmed(repo, CONFIG, books=LoadedBooks(), clock_ns=Clock())
    assert [p.pair_id for p in detector.pairs] == [candidate.pair_id]
    assert len(feed(detector, [], [("0.45", 100)], [("0.50", 100)], [])) == 1
